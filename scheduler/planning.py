"""The planner: from a schedule snapshot and an instant to the desired telephony state.

Pure functions over plain objects (no database), so they are tested with literals and
benchmarked at scale. `scheduler.selectors.schedule_snapshot` builds the snapshot. Active
overrides (a person's hold) are part of the snapshot, so every reader of "what should be
true now" (reconciler, dispatcher, board, preview, receptionist page) gets the same answer.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from .recurrence import Recurrence, occurrence_span

TAKE_ALL_CALLS = "TakeAllCalls"
MANUAL_OVERRIDE = "manual override"
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class OccurrenceEdit:
    """One occurrence of a shift changed, RFC 5545 style: cancelled (EXDATE), moved, or with agents substituted.

    `occurrence` is the local date the shift's days give (the RECURRENCE-ID); `start`/`end` (UTC) move it.
    """

    occurrence: date
    cancelled: bool = False
    start: datetime | None = None
    end: datetime | None = None
    absent: frozenset[str] = frozenset()
    covering: frozenset[str] = frozenset()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of a shift as planned: its UTC span, the date the rule gave it, who works it."""

    start: datetime  # UTC
    end: datetime  # UTC
    local_date: date  # the local date the rule gives (for a moved occurrence, the date it was moved from)
    agent_ids: tuple[str, ...] = ()
    queue_ids: tuple[str, ...] = ()
    change: OccurrenceEdit | None = None  # set when this occurrence was moved or its agents substituted


@dataclass(frozen=True)
class ShiftRule:
    """One shift as the planner sees it: when it runs, which queues and agents it names."""

    name: str
    tz: ZoneInfo
    start: time
    end: time
    queue_ids: tuple[str, ...]
    agent_ids: tuple[str, ...]
    weekdays: frozenset[int] | None = None  # Monday = 0; None when `rule` picks the days
    rule: Recurrence | None = None  # over local dates
    valid_from: date | None = None
    valid_until: date | None = None
    changes: tuple[OccurrenceEdit, ...] = ()  # the loaded window's changed occurrences

    @property
    def problem(self) -> str:
        """Why the shift can never run (a stored rule that no longer passes the checks), or ''."""
        return (
            f"shift {self.name!r}: {self.rule.problem}; it is left out of the plan"
            if self.rule and self.rule.problem
            else ""
        )

    def days(self, first: date, last: date) -> list[date]:
        """The local dates in [first, last] an occurrence starts on; the rule's walk is bounded by the window."""
        low = max(first, self.valid_from) if self.valid_from else first
        high = min(last, self.valid_until) if self.valid_until else last
        if self.rule is not None:
            return self.rule.dates(low, high)
        assert self.weekdays is not None  # a shift without a rule names its weekdays
        span = (high - low).days + 1
        return [d for d in (low + ONE_DAY * i for i in range(span)) if d.weekday() in self.weekdays]

    @cached_property
    def changed(self) -> dict[date, OccurrenceEdit]:
        """Changes by occurrence date, only those on a date the shift runs on.

        A change left on a date the shift no longer gives (its days were edited since) changes nothing,
        as an RFC 5545 RECURRENCE-ID that matches no instance.
        """
        return {c.occurrence: c for c in self.changes if self.days(c.occurrence, c.occurrence)}

    @cached_property
    def covering_ids(self) -> frozenset[str]:
        """Agents who work some loaded occurrence of this shift without being rostered on it."""
        return frozenset(a for c in self.changed.values() for a in c.covering)

    def occurrences(self, start: datetime, end: datetime) -> Iterator[Occurrence]:
        """Occurrences overlapping [start, end), in order, changes applied. Empty DST-squeezed ones are skipped."""
        if not self.changed:
            yield from self._ruled(start, end)
            return
        found = [o for o in self._ruled(start, end) if o.local_date not in self.changed]
        for change in self.changed.values():
            occ = self._changed(change)
            if occ is not None and occ.start < occ.end and occ.start < end and occ.end > start:
                found.append(occ)
        yield from sorted(found, key=lambda o: (o.start, o.end))

    def _ruled(self, start: datetime, end: datetime) -> Iterator[Occurrence]:
        first = start.astimezone(self.tz).date() - ONE_DAY  # yesterday's overnight occurrence may still run
        for day in self.days(first, end.astimezone(self.tz).date()):
            occ_start, occ_end = occurrence_span(day, self.start, self.end, self.tz)
            if occ_start < occ_end and occ_start < end and occ_end > start:
                yield Occurrence(occ_start, occ_end, day, self.agent_ids, self.queue_ids)

    def _changed(self, change: OccurrenceEdit) -> Occurrence | None:
        """The occurrence `change` makes of its date: None when cancelled."""
        if change.cancelled:
            return None
        if change.start is not None and change.end is not None:
            span = (change.start, change.end)
        else:
            span = occurrence_span(change.occurrence, self.start, self.end, self.tz)
        agents = tuple(sorted((set(self.agent_ids) - change.absent) | change.covering))
        return Occurrence(span[0], span[1], change.occurrence, agents, self.queue_ids, change)

    def occurrences_at(self, at: datetime) -> list[Occurrence]:
        """The occurrences covering `at` ([start, end)); two when a moved one overlaps another."""
        return list(self.occurrences(at, at + timedelta(microseconds=1)))

    def active_at(self, at: datetime) -> bool:
        """Whether an occurrence covers `at` ([start, end) in the shift's own zone)."""
        return bool(self.occurrences_at(at))


@dataclass(frozen=True, slots=True)
class TimeOffSpan:
    agent_id: str
    start: datetime
    end: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OverrideSpan:
    """A person's hold over [start, end): a queue's accept flag, or the agent's DnD when queue_id is None."""

    agent_id: str
    queue_id: str | None
    value: bool | str
    start: datetime
    end: datetime
    override_id: int | None = None  # the stored Override, for pages that offer to cancel it

    @property
    def key(self) -> tuple[str, str] | str:
        """The desired-state key it decides: (queue id, agent id), or the agent id for DnD."""
        return (self.queue_id, self.agent_id) if self.queue_id is not None else self.agent_id


@dataclass(frozen=True)
class Snapshot:
    """Everything the planner reads: shifts, time off, the agents whose DnD we manage, and holds."""

    shifts: tuple[ShiftRule, ...]
    time_off: tuple[TimeOffSpan, ...] = ()
    off_shift_dnd: dict[str, str] = field(default_factory=dict)  # managed agent id -> off-shift DnD
    overrides: tuple[OverrideSpan, ...] = ()  # ordered by start: a later hold beats an earlier one

    def schedule_only(self) -> "Snapshot":
        """The bare schedule, as if no one held anything."""
        return replace(self, overrides=())

    def with_change(self, shift_name: str, change: OccurrenceEdit) -> "Snapshot":
        """This snapshot with one more occurrence change, replacing any on the same date: what approving would do."""
        return replace(
            self,
            shifts=tuple(
                replace(s, changes=(*(c for c in s.changes if c.occurrence != change.occurrence), change))
                if s.name == shift_name
                else s
                for s in self.shifts
            ),
        )

    @cached_property
    def problems(self) -> tuple[str, ...]:
        """Shifts left out of the plan because their stored rule can never run, in words."""
        return tuple(s.problem for s in self.shifts if s.problem)

    @cached_property
    def managed_pairs(self) -> frozenset[tuple[str, str]]:
        """Every (queue id, agent id) that some shift names together."""
        return frozenset((q, a) for s in self.shifts for q in s.queue_ids for a in (*s.agent_ids, *s.covering_ids))

    @cached_property
    def shifts_by_agent(self) -> dict[str, list[ShiftRule]]:
        index = defaultdict(list)
        for shift in self.shifts:
            for agent_id in (*shift.agent_ids, *sorted(shift.covering_ids - set(shift.agent_ids))):
                index[agent_id].append(shift)
        return index


@dataclass(frozen=True)
class DesiredState:
    at: datetime
    accept: dict[tuple[str, str], bool]  # (queue id, agent id) -> acceptCurrentQueueCalls
    dnd: dict[str, str]  # managed agent id -> dndStatus
    held: dict = field(default_factory=dict)  # key -> the OverrideSpan that decided it

    def as_json(self) -> dict:
        """The documented `plan --json` shape: queues -> agents -> bool, dnd, and the holds in force."""
        queues: dict[str, dict[str, bool]] = defaultdict(dict)
        for (queue_id, agent_id), accept in sorted(self.accept.items()):
            queues[queue_id][agent_id] = accept
        overrides = [
            {"agent": o.agent_id, "queue": o.queue_id, "value": o.value, "until": o.end.isoformat()}
            for o in sorted(self.held.values(), key=lambda o: (o.agent_id, o.queue_id or ""))
        ]
        return {
            "at": self.at.isoformat(),
            "queues": dict(queues),
            "dnd": dict(sorted(self.dnd.items())),
            "overrides": overrides,
        }


def desired_state(snapshot: Snapshot, at: datetime) -> DesiredState:
    """Who should take which queue, and each managed agent's DnD, at instant `at`."""
    away = {t.agent_id for t in snapshot.time_off if t.start <= at < t.end}
    accept = dict.fromkeys(snapshot.managed_pairs, False)
    on_shift = set()
    for shift in snapshot.shifts:
        for occ in shift.occurrences_at(at):
            working = [a for a in occ.agent_ids if a not in away]
            on_shift.update(working)
            accept.update(((q, a), True) for q in shift.queue_ids for a in working)
    dnd = {a: TAKE_ALL_CALLS if a in on_shift else off for a, off in snapshot.off_shift_dnd.items()}
    held = {o.key: o for o in snapshot.overrides if o.start <= at < o.end}
    for hold in held.values():
        if hold.queue_id is None:
            dnd[hold.agent_id] = str(hold.value)
        else:
            accept[(hold.queue_id, hold.agent_id)] = bool(hold.value)
    return DesiredState(at, accept, dnd, held)


@dataclass(frozen=True, slots=True)
class Transition:
    """A shift or time off starting or ending at a boundary, with its local wall time."""

    kind: str  # "shift start", "shift end", "time off start", "time off end", "hold start", "hold end"
    name: str  # shift name, or the agent id for time off and holds
    local: datetime  # aware, in the shift's zone (UTC for time off)


@dataclass(frozen=True)
class Boundary:
    at: datetime
    transitions: tuple[Transition, ...]
    changes: int  # (queue, agent) pairs and DnD values that change here


def boundaries(snapshot: Snapshot, start: datetime, end: datetime) -> list[Boundary]:
    """Every instant in [start, end) at which the desired state changes, found by one sweep."""
    events = _events(snapshot, start, end)
    sweep = _Sweep(snapshot)
    found = []
    for at, group in _grouped(events):
        if at >= end:
            break
        if at < start:
            sweep.apply(group)
            continue
        changes = sweep.apply(group)
        if changes:
            found.append(Boundary(at, tuple(t for _, t, _ in group), changes))
    return found


_Event = tuple[datetime, Transition, tuple[int, Occurrence | TimeOffSpan | OverrideSpan]]


def _events(snapshot: Snapshot, start: datetime, end: datetime) -> list[_Event]:
    """(instant, transition, (delta, shift or time off)) for every start and end, sorted by instant."""
    events: list[_Event] = []
    for shift in snapshot.shifts:
        for occ in shift.occurrences(start, end):
            events.append((occ.start, Transition("shift start", shift.name, occ.start.astimezone(shift.tz)), (1, occ)))
            events.append((occ.end, Transition("shift end", shift.name, occ.end.astimezone(shift.tz)), (-1, occ)))
    for off in snapshot.time_off:
        if off.start < end and off.end > start:
            events.append((off.start, Transition("time off start", off.agent_id, off.start), (1, off)))
            events.append((off.end, Transition("time off end", off.agent_id, off.end), (-1, off)))
    for hold in snapshot.overrides:
        if hold.start < end and hold.end > start:
            events.append((hold.start, Transition("hold start", hold.agent_id, hold.start), (1, hold)))
            events.append((hold.end, Transition("hold end", hold.agent_id, hold.end), (-1, hold)))
    events.sort(key=lambda e: e[0])
    return events


def _grouped(events: list[_Event]) -> Iterator[tuple[datetime, list[_Event]]]:
    group: list[_Event] = []
    for event in events:
        if group and event[0] != group[0][0]:
            yield group[0][0], group
            group = []
        group.append(event)
    if group:
        yield group[0][0], group


class _Sweep:
    """Running counts of covering shifts and time off, to tell which events change the state."""

    def __init__(self, snapshot: Snapshot):
        self.pair_shifts: dict[tuple[str, str], int] = defaultdict(int)
        self.agent_shifts: dict[str, int] = defaultdict(int)
        self.agent_away: dict[str, int] = defaultdict(int)
        self.managed_dnd = snapshot.off_shift_dnd
        self.managed_pairs = snapshot.managed_pairs
        self.pairs_of_agent: dict[str, set] = defaultdict(set)
        for queue_id, agent_id in snapshot.managed_pairs:
            self.pairs_of_agent[agent_id].add((queue_id, agent_id))
        self.holds: dict = defaultdict(list)  # key -> holds in force, oldest first

    def apply(self, group) -> int:
        """Apply simultaneous events; return how many pair and DnD values they changed."""
        agents, pairs = set(), set()
        for _, _, (_, item) in group:
            if isinstance(item, OverrideSpan) and item.queue_id is None:
                agents.add(item.agent_id)
            elif isinstance(item, OverrideSpan):
                pairs.add(item.key)
            elif isinstance(item, TimeOffSpan):
                agents.add(item.agent_id)
                pairs |= self.pairs_of_agent[item.agent_id]
            else:
                agents.update(item.agent_ids)
                pairs.update((q, a) for q in item.queue_ids for a in item.agent_ids)
        before = self._values(agents, pairs)
        for _, _, (delta, item) in group:
            if isinstance(item, OverrideSpan):
                holds = self.holds[item.key]
                if delta > 0:
                    holds.append(item)
                    holds.sort(key=lambda hold: hold.start)
                else:
                    holds.remove(item)
            elif isinstance(item, TimeOffSpan):
                self.agent_away[item.agent_id] += delta
            else:
                for a in item.agent_ids:
                    self.agent_shifts[a] += delta
                for pair in ((q, a) for q in item.queue_ids for a in item.agent_ids):
                    self.pair_shifts[pair] += delta
        after = self._values(agents, pairs)
        return sum(1 for key, value in before.items() if after[key] != value)

    def _values(self, agents, pairs) -> dict:
        values: dict = {pair: self._pair_value(pair) for pair in pairs}
        for a in agents:
            if a in self.managed_dnd or self.holds.get(a):
                values[a] = self._dnd_value(a)
        return values

    def _pair_value(self, pair) -> bool | None:
        if self.holds.get(pair):
            return bool(self.holds[pair][-1].value)
        if pair not in self.managed_pairs:
            return None
        return self.pair_shifts[pair] > 0 and not self.agent_away[pair[1]]

    def _dnd_value(self, agent_id: str) -> str | None:
        if self.holds.get(agent_id):
            return str(self.holds[agent_id][-1].value)
        if agent_id not in self.managed_dnd:
            return None
        on_shift = self.agent_shifts[agent_id] > 0 and not self.agent_away[agent_id]
        return TAKE_ALL_CALLS if on_shift else self.managed_dnd[agent_id]


def explain(snapshot: Snapshot, at: datetime, agent_id: str, queue_id: str | None, on: bool) -> str:
    """Why the plan wants this value at `at`: a hold, a shift's start or end, time off, or an occurrence change."""
    key = (queue_id, agent_id) if queue_id is not None else agent_id
    if any(o.key == key and o.start <= at < o.end for o in snapshot.overrides):
        return MANUAL_OVERRIDE
    shifts = [s for s in snapshot.shifts_by_agent.get(agent_id, ()) if queue_id is None or queue_id in s.queue_ids]
    if on:
        running = [s.name for s in shifts if any(agent_id in o.agent_ids for o in s.occurrences_at(at))]
        return f"shift start: {min(running)}" if running else "shift start"
    if any(t.agent_id == agent_id and t.start <= at < t.end for t in snapshot.time_off):
        return "time off"
    for s in shifts:
        for change in s.changed.values():
            ruled_start, ruled_end = occurrence_span(change.occurrence, s.start, s.end, s.tz)
            if ruled_start <= at < ruled_end:  # she would be on but for the change
                return f"occurrence changed: {s.name}{': ' + change.reason if change.reason else ''}"
    ended = [(occ.end, s.name) for s in shifts for occ in s.occurrences(at - 2 * ONE_DAY, at) if occ.end <= at]
    return f"shift end: {max(ended)[1]}" if ended else "shift end"
