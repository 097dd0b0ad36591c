"""The fixed set of beat entries. Never one per shift or agent: boundaries go through the dispatcher."""

from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks

EVERY_MINUTE = {"minute": "*", "hour": "*"}
# Off the hour, when the reconciler's own RingCentral calls are fewest; the call log is a Heavy call.
NIGHTLY = {"minute": "17", "hour": "2"}
AFTERNOON = {"minute": "7", "hour": "15"}  # UTC: the afternoon in Europe, the morning in the Americas
NIGHTLY_LATER = {"minute": "47", "hour": "2"}  # after the calls-handled count: the two share the Heavy budget

ENTRIES = {
    # Each minute a slice of the managed values, within a share of the read budget (reconcile/sweep.py).
    "reconcile: rolling sweep": ("scheduler.tasks.sweep_slice", EVERY_MINUTE),
    "dispatch: boundaries ahead": ("scheduler.tasks.dispatch_boundaries", EVERY_MINUTE),
    "reports: calls handled, nightly": ("scheduler.tasks.refresh_calls_handled", NIGHTLY),
    "forecast: call history, nightly": ("scheduler.tasks.refresh_call_volume", NIGHTLY_LATER),
    # Each minute: a queue with fewer agents taking its calls than its min staff opens, notifies, closes episodes.
    "alerts: understaffed queues": ("scheduler.tasks.check_understaffed", EVERY_MINUTE),
    "requests: tomorrow's changed shifts": ("scheduler.tasks.remind_tomorrows_changes", AFTERNOON),
}
RETIRED = ["reconcile: safety net"]  # the every-minute full pass, replaced by the rolling sweep


def ensure_periodic_tasks() -> int:
    """Create the beat entries if missing and delete retired ones (idempotent); return how many were created."""
    retired, _ = PeriodicTask.objects.filter(name__in=RETIRED).delete()
    created = 0
    for name, (task, when) in ENTRIES.items():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            **when, day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
        )
        _, new = PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})
        created += new
    if created or retired:
        PeriodicTasks.update_changed()  # beat reloads only when told
    return created
