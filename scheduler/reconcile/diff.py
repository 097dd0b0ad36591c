"""The diff: desired + actual + what each value remembers -> the changes to make. Pure.

A value is one agent's status in one queue, or one agent's DnD. Each remembers what the
last run wanted (`planned`) and saw (`last_seen`): a value that differs from a plan that
did not change was changed by someone else, which is drift, not a schedule boundary.
"""

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from integrations.base import ProviderError
from scheduler.planning import MANUAL_OVERRIDE, DesiredState

DRIFT = "drift correction"
DRIFT_NOTED = "drift"

Value = bool | str


@dataclass(frozen=True, slots=True, order=True)
class Target:
    """One value at the provider: an agent's status in a queue, or her DnD (queue_id "")."""

    agent_id: str
    queue_id: str = ""

    @property
    def is_dnd(self) -> bool:
        return not self.queue_id


@dataclass(frozen=True, slots=True)
class Slot:
    """What Callrota remembers of one value."""

    last_seen: Value | None = None
    planned: Value | None = None
    enforce: bool = True  # correct drift (a queue may ask to leave its members' own changes alone)


@dataclass
class Change:
    """One value to change at the provider, and what became of it."""

    target: Target
    old: Value | None
    new: Value
    reason: str
    outcome: str = "planned"
    call: str = ""  # kind of call that carried it: "queue", "agent" or "dnd"
    api_call: str = ""
    error: ProviderError | None = field(default=None, repr=False)

    @property
    def error_code(self) -> str:
        """The provider's error code, else the HTTP status; empty without an error."""
        if self.error is None:
            return ""
        return self.error.code or (str(self.error.status) if self.error.status else "")

    @property
    def error_message(self) -> str:
        return self.error.message[:500] if self.error else ""

    def as_json(self, field_name: str) -> dict:
        return {
            "queue": self.target.queue_id or None,
            "agent": self.target.agent_id,
            "field": field_name,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
            "outcome": self.outcome,
            **({"error_code": self.error_code} if self.error_code else {}),
        }


@dataclass
class Diff:
    changes: list[Change] = field(default_factory=list)
    noted: list[Change] = field(default_factory=list)  # drift left alone: the queue does not enforce


def targets(state: DesiredState, among: Collection[Target] | None = None) -> dict[Target, Value]:
    """The desired state as target -> value, queues first (by queue, then agent), then DnD; only `among` if given."""
    accept: Iterable[tuple[tuple[str, str], bool]] = state.accept.items()
    dnd: Iterable[tuple[str, str]] = state.dnd.items()
    if among is not None:
        accept = [(k, state.accept[k]) for k in ((t.queue_id, t.agent_id) for t in among) if k in state.accept]
        dnd = [(t.agent_id, state.dnd[t.agent_id]) for t in among if t.is_dnd and t.agent_id in state.dnd]
    wanted: dict[Target, Value] = {Target(a, q): v for (q, a), v in sorted(accept)}
    wanted.update((Target(a), v) for a, v in sorted(dnd))
    return wanted


def held_targets(state: DesiredState) -> set[Target]:
    """The targets an override decides in `state`."""
    return {Target(k[1], k[0]) if isinstance(k, tuple) else Target(k) for k in state.held}


def diff(
    desired: dict[Target, Value],
    actual: dict[Target, Value],
    slots: dict[Target, Slot],
    *,
    held: Iterable[Target] = (),
    why: Callable[[Target, Value], str],
) -> Diff:
    """Each desired value the provider lacks becomes a change, with its reason; drift on a queue
    that does not enforce is noted once, when it first appears, and left alone."""
    held = set(held)
    found = Diff()
    for target, wanted in desired.items():
        if target not in actual or actual[target] == wanted:
            continue
        value, slot = actual[target], slots.get(target, Slot())
        if slot.planned != wanted:
            reason = MANUAL_OVERRIDE if target in held else why(target, wanted)
        elif slot.enforce or target in held:
            reason = DRIFT
        else:
            if value != slot.last_seen:
                found.noted.append(Change(target, value, wanted, DRIFT_NOTED, outcome="skipped"))
            continue
        found.changes.append(Change(target, value, wanted, reason))
    return found


@dataclass(frozen=True, slots=True)
class Memory:
    """What to store of one value after a run: what was seen and when, and what the plan wanted."""

    seen: Value
    observed_at: datetime | None
    planned: Value | None  # None: keep what was remembered


def remembered(
    desired: dict[Target, Value], actual: dict[Target, Value], changes: Iterable[Change], at: datetime
) -> dict[Target, Memory]:
    """What each value read now should remember: the plan is remembered once the provider holds it."""
    memory = {t: Memory(v, at, desired[t] if desired.get(t) == v else None) for t, v in actual.items()}
    for change in changes:
        if change.outcome == "applied":
            memory[change.target] = Memory(change.new, at, change.new)
    return memory
