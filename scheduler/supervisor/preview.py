"""The plan ahead: what changes at each boundary in a window, and why. Pure, over a snapshot."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.planning import Snapshot, Transition, boundaries, desired_state, explain

JUST_BEFORE = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class PlannedChange:
    agent_id: str
    queue_id: str | None  # None for DnD
    old: object
    new: object
    reason: str


@dataclass(frozen=True)
class Step:
    at: datetime
    transitions: tuple[Transition, ...]
    changes: tuple[PlannedChange, ...]


def preview(snapshot: Snapshot, start: datetime, end: datetime) -> list[Step]:
    """Every boundary in [start, end) with each queue status and DnD value that changes there."""
    steps = []
    for boundary in boundaries(snapshot, start, end):
        before, after = desired_state(snapshot, boundary.at - JUST_BEFORE), desired_state(snapshot, boundary.at)
        changes = [
            PlannedChange(a, q, before.accept[(q, a)], new, explain(snapshot, boundary.at, a, q, new))
            for (q, a), new in sorted(after.accept.items())
            if before.accept[(q, a)] != new
        ]
        changes += [
            PlannedChange(a, None, before.dnd[a], new, explain(snapshot, boundary.at, a, None, new == "TakeAllCalls"))
            for a, new in sorted(after.dnd.items())
            if before.dnd[a] != new
        ]
        steps.append(Step(boundary.at, boundary.transitions, tuple(changes)))
    return steps
