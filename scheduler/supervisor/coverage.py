"""Understaffing: every interval in which a queue's scheduled staff is below its `min_staff`.

Pure, like the planner: the staff count only changes at the planner's boundaries, so the
count is taken once at the window's start and once after each boundary. A queue with staffed
hours needs its min staff only while open, so its shortfalls are cut to those hours.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from queues.models import CallQueue
from scheduler.planning import Snapshot, boundaries, desired_state
from scheduler.recurrence import parse_days, to_utc, zone
from scheduler.selectors import schedule_snapshot


@dataclass(frozen=True, slots=True)
class StaffedHours:
    """A queue's weekly opening hours in its zone; `closes` at or before `opens` closes the next day."""

    opens: time
    closes: time
    days: frozenset[int]  # Monday = 0; empty: every day
    tz: ZoneInfo

    def intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The open intervals within [start, end), in UTC."""
        found = []
        day, last = start.astimezone(self.tz).date() - timedelta(days=1), end.astimezone(self.tz).date()
        while day <= last:
            if not self.days or day.weekday() in self.days:
                closing_day = day if self.closes > self.opens else day + timedelta(days=1)
                since = max(to_utc(day, self.opens, self.tz), start)
                until = min(to_utc(closing_day, self.closes, self.tz), end)
                if since < until:
                    found.append((since, until))
            day += timedelta(days=1)
        return found

    def is_open(self, at: datetime) -> bool:
        return bool(self.intervals(at, at + timedelta(microseconds=1)))


def staffed_hours(queue: CallQueue) -> StaffedHours | None:
    """The queue's staffed hours; None when it is staffed around the clock (or its hours are incomplete)."""
    if queue.staffed_from is None or queue.staffed_until is None or not queue.staffed_timezone:
        return None
    return StaffedHours(
        queue.staffed_from, queue.staffed_until, parse_days(queue.staffed_days), zone(queue.staffed_timezone)
    )


@dataclass(frozen=True, slots=True)
class Shortfall:
    """[start, end) in UTC during which `queue_id` has `staffed` scheduled agents, `missing` fewer than it needs."""

    queue_id: str
    start: datetime
    end: datetime
    staffed: int
    min_staff: int

    @property
    def missing(self) -> int:
        return self.min_staff - self.staffed

    def as_json(self) -> dict:
        return {
            "queue": self.queue_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "staffed": self.staffed,
            "min_staff": self.min_staff,
            "missing": self.missing,
        }


def staffing(snapshot: Snapshot, at: datetime, queue_ids) -> dict[str, int]:
    """How many agents the plan has taking each queue's calls at `at`."""
    counts = dict.fromkeys(queue_ids, 0)
    for (queue_id, _agent_id), accept in desired_state(snapshot, at).accept.items():
        if accept and queue_id in counts:
            counts[queue_id] += 1
    return counts


def understaffed(
    snapshot: Snapshot,
    min_staff: dict[str, int],
    start: datetime,
    end: datetime,
    hours: Mapping[str, StaffedHours | None] | None = None,
) -> list[Shortfall]:
    """Every interval in [start, end) where a queue, while open, has fewer scheduled agents than its minimum.

    Adjacent intervals with the same count are merged; a change in the count starts a new one.
    A queue without staffed hours in `hours` is open around the clock.
    """
    hours = hours or {}
    needed = {q: n for q, n in min_staff.items() if n > 0}
    instants = sorted({start, *(b.at for b in boundaries(snapshot, start, end))})
    runs: dict[str, list[list]] = {q: [] for q in needed}  # queue -> [[since, until, staffed], ...]
    for at, until in zip(instants, [*instants[1:], end], strict=True):
        for queue_id, staffed in staffing(snapshot, at, needed).items():
            queue_runs = runs[queue_id]
            if queue_runs and queue_runs[-1][2] == staffed:
                queue_runs[-1][1] = until
            else:
                queue_runs.append([at, until, staffed])
    found = [
        Shortfall(queue_id, open_since, open_until, staffed, needed[queue_id])
        for queue_id, queue_runs in runs.items()
        for since, until, staffed in queue_runs
        if staffed < needed[queue_id]
        for open_since, open_until in _open_within(hours.get(queue_id), since, until)
    ]
    return sorted(found, key=lambda s: (s.start, s.queue_id))


def _open_within(hours: StaffedHours | None, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    return [(start, end)] if hours is None else hours.intervals(start, end)


def coverage_report(*, start: datetime, end: datetime) -> list[tuple[Shortfall, str]]:
    """The shortfalls of the stored schedule in [start, end), each with its queue's name (reads the database)."""
    queues = {q.provider_id: q for q in CallQueue.objects.all()}
    minimums = {q: queue.min_staff for q, queue in queues.items()}
    hours = {q: staffed_hours(queue) for q, queue in queues.items()}
    snapshot = schedule_snapshot(start=start, end=end)
    return [(s, queues[s.queue_id].name) for s in understaffed(snapshot, minimums, start, end, hours)]
