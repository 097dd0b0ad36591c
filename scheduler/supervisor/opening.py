"""When a queue counts as open, for plan compliance and the understaffed alert.

The one place they learn a queue's hours: its opening hours (queues.opening_hours, through
coverage.staffed_hours, which every min-staff page uses too).
"""

from datetime import datetime

from queues.models import CallQueue

from .coverage import staffed_hours

Interval = tuple[datetime, datetime]


def open_hours(queue: CallQueue, start: datetime, end: datetime) -> list[Interval]:
    """The intervals of [start, end) in which the queue is open; all of it for a queue without hours."""
    hours = staffed_hours(queue)
    return [(start, end)] if hours is None else hours.intervals(start, end)
