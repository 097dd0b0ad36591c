"""Signal receivers of the scheduler app, connected in SchedulerConfig.ready()."""

from django.db.models.signals import post_migrate


def _ensure_supervisor_group(**kwargs):
    from .roles import ensure_supervisor_group

    ensure_supervisor_group()


# No sender: it runs after each app's migrations, so the last run sees every app's permissions.
post_migrate.connect(_ensure_supervisor_group, dispatch_uid="scheduler.ensure_supervisor_group")
