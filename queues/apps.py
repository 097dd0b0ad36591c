from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from . import audit_guard, checks  # noqa: F401 - importing checks registers them


class QueuesConfig(AppConfig):
    name = "queues"
    verbose_name = "Call queues"

    def ready(self):
        post_migrate.connect(guard_the_audit, sender=self)


def guard_the_audit(using: str = "default", **kwargs) -> None:
    """After every migrate (and flush), the audit table is append-only again if it exists."""
    audit_guard.install(connections[using])
