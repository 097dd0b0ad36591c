"""Understaffing: every interval in which a queue's scheduled staff is below its `min_staff`.

Pure, like the planner: the staff count only changes at the planner's boundaries, so the
count is taken once at the window's start and once after each boundary. A queue with opening
hours (weekly ranges, closed dates) needs its min staff only while open, so its shortfalls are
cut to those hours.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from queues.models import CallQueue
from queues.opening_hours import OpeningHours, opening_hours_of
from scheduler.planning import Snapshot, boundaries, desired_state
from scheduler.selectors import schedule_snapshot


def staffed_hours(queue: CallQueue) -> OpeningHours | None:
    """The queue's opening hours (min staff counts only in them); None when it is open around the clock."""
    return opening_hours_of(queue)


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
    hours: Mapping[str, OpeningHours | None] | None = None,
) -> list[Shortfall]:
    """Every interval in [start, end) where a queue, while open, has fewer scheduled agents than its minimum.

    Adjacent intervals with the same count are merged; a change in the count starts a new one.
    A queue without opening hours in `hours` is open around the clock.
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


def _open_within(hours: OpeningHours | None, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    return [(start, end)] if hours is None else hours.intervals(start, end)


def coverage_report(*, start: datetime, end: datetime) -> list[tuple[Shortfall, str]]:
    """The shortfalls of the stored schedule in [start, end), each with its queue's name (reads the database)."""
    queues = {q.provider_id: q for q in CallQueue.objects.prefetch_related("opening_ranges", "closed_dates")}
    minimums = {q: queue.min_staff for q, queue in queues.items()}
    hours = {q: staffed_hours(queue) for q, queue in queues.items()}
    snapshot = schedule_snapshot(start=start, end=end)
    return [(s, queues[s.queue_id].name) for s in understaffed(snapshot, minimums, start, end, hours)]
