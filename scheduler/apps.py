from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SchedulerConfig(AppConfig):
    name = "scheduler"
    verbose_name = "Schedule"

    def ready(self):
        post_migrate.connect(_ensure_periodic_tasks, sender=self)
        from . import signals  # noqa: F401 - connects the Supervisor group's post_migrate receiver


def _ensure_periodic_tasks(**kwargs):
    from .periodic import ensure_periodic_tasks

    ensure_periodic_tasks()
