"""The stored call history the forecast reads: one queue's intervals over the weeks before a moment."""

from datetime import datetime, timedelta

from queues.models import CallQueue
from scheduler.models import CallVolume

from .forecast import Past


def queue_history(queue: CallQueue, *, before: datetime, minutes: int, weeks: int) -> list[Past]:
    """The queue's stored intervals of `minutes` in the `weeks` (plus a day, for DST) before `before`."""
    rows = CallVolume.objects.filter(
        queue=queue, minutes=minutes, start__gte=before - timedelta(weeks=weeks, days=1), start__lt=before
    ).values_list("start", "arrivals", "handled", "handle_seconds")
    return [Past(*row) for row in rows]
