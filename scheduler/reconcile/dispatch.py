"""The short-horizon dispatcher: a run for each boundary just ahead, enqueued once for its exact time (the task
starts `run.LEAD` early to prepare, and writes at the instant)."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from scheduler.models import DispatchedBoundary
from scheduler.planning import boundaries
from scheduler.selectors import schedule_snapshot

# Far below any broker's visibility timeout (Redis: 1 h), and longer than the one-minute tick
# so that a late tick still sees every boundary before it passes.
HORIZON = timedelta(minutes=3)
KEEP = timedelta(days=2)


def due_boundaries(now: datetime, horizon: timedelta = HORIZON) -> list[datetime]:
    """Instants in [now, now + horizon) at which the desired state changes: the schedule's or a hold's."""
    end = now + horizon
    return [b.at for b in boundaries(schedule_snapshot(start=now, end=end), now, end)]


def dispatch(now: datetime, enqueue) -> list[datetime]:
    """Call enqueue(at) for each due boundary not enqueued before; return those instants."""
    DispatchedBoundary.objects.filter(at__lt=now - KEEP).delete()
    fresh = []
    for at in due_boundaries(now):
        try:
            with transaction.atomic():
                DispatchedBoundary.objects.create(at=at)
        except IntegrityError:
            continue  # an earlier tick, or another dispatcher, has it
        enqueue(at)
        fresh.append(at)
    return fresh
