from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SchedulerConfig(AppConfig):
    name = "scheduler"
    verbose_name = "Schedule"

    def ready(self):
        # Imported here: both touch models, which are not ready when this module loads.
        from .periodic import ensure_periodic_tasks
        from .roles import ensure_supervisor_group

        post_migrate.connect(
            lambda **kwargs: ensure_periodic_tasks(), sender=self, weak=False, dispatch_uid="scheduler.periodic_tasks"
        )
        # No sender: it runs after each app's migrations, so the last run sees every app's permissions.
        post_migrate.connect(
            lambda **kwargs: ensure_supervisor_group(), weak=False, dispatch_uid="scheduler.ensure_supervisor_group"
        )
