"""Understaffing: every interval in which a queue's scheduled staff is below its `min_staff`.

Pure, like the planner: the staff count only changes at the planner's boundaries, so the
count is taken once at the window's start and once after each boundary.
"""

from dataclasses import dataclass
from datetime import datetime

from queues.models import CallQueue
from scheduler.planning import Snapshot, boundaries, desired_state
from scheduler.selectors import schedule_snapshot


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


def understaffed(snapshot: Snapshot, min_staff: dict[str, int], start: datetime, end: datetime) -> list[Shortfall]:
    """Every interval in [start, end) where a queue has fewer scheduled agents than its minimum.

    Adjacent intervals with the same count are merged; a change in the count starts a new one.
    """
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
        Shortfall(queue_id, since, until, staffed, needed[queue_id])
        for queue_id, queue_runs in runs.items()
        for since, until, staffed in queue_runs
        if staffed < needed[queue_id]
    ]
    return sorted(found, key=lambda s: (s.start, s.queue_id))


def coverage_report(*, start: datetime, end: datetime) -> list[tuple[Shortfall, str]]:
    """The shortfalls of the stored schedule in [start, end), each with its queue's name (reads the database)."""
    queues = {q: (name, n) for q, name, n in CallQueue.objects.values_list("provider_id", "name", "min_staff")}
    minimums = {q: n for q, (_, n) in queues.items()}
    return [
        (s, queues[s.queue_id][0]) for s in understaffed(schedule_snapshot(start=start, end=end), minimums, start, end)
    ]
