"""The fixed set of beat entries. Never one per shift or agent: boundaries go through the dispatcher."""

from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks

ENTRIES = {
    "reconcile: safety net": "scheduler.tasks.reconcile_schedule",
    "dispatch: boundaries ahead": "scheduler.tasks.dispatch_boundaries",
}


def ensure_periodic_tasks() -> int:
    """Create the beat entries if missing (idempotent); return how many were created."""
    every_minute, _ = CrontabSchedule.objects.get_or_create(
        minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    created = 0
    for name, task in ENTRIES.items():
        _, new = PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": every_minute})
        created += new
    if created:
        PeriodicTasks.update_changed()  # beat reloads only when told
    return created
