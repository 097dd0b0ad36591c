"""Reads of the schedule: the planner's snapshot, in a constant number of queries.

`schedule_snapshot` is the only loader: the reconciler, dispatcher, board, preview, coverage,
feeds and the receptionist page all plan from what it returns.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q

from queues.models import Agent, Override

from . import recurrence
from .models import OccurrenceChange, Shift, TimeOff
from .planning import DesiredState, OccurrenceEdit, OverrideSpan, ShiftRule, Snapshot, TimeOffSpan, desired_state

SHIFT_FIELDS = ("id", "name", "timezone", "start_time", "end_time", "days", "rrule", "dtstart", "valid_from",
                "valid_until")  # fmt: skip
# An occurrence's local date is within two days of its UTC span in any zone; the extra day keeps a
# covering agent's queues managed (and so switched off) for a day after her occurrence ends.
CHANGE_MARGIN = timedelta(days=3)
ONE_DAY = timedelta(days=1)


def schedule_snapshot(
    *, start: datetime, end: datetime, agent: Agent | None = None, provider: str | None = None
) -> Snapshot:
    """The schedule as plain objects, with the time off and holds that overlap [start, end).

    With `agent`, only her shifts (naming only her), time off and holds; with `provider`,
    only the queues and agents of that provider, since ids are unique per provider only.
    Inactive agents are left out everywhere: nothing is planned, held or managed for them.
    """
    changes = _changes(start, end, agent, provider)
    shift_rows = Shift.objects.all()
    shift_ids = None
    if agent:
        covered = {shift_id for shift_id, edits in changes.items() if any(e.covering for e in edits)}
        shift_rows = shift_rows.filter(Q(agents=agent) | Q(pk__in=covered)).distinct()
        shift_ids = set(shift_rows.values_list("pk", flat=True))
    queues_of = _ids_by_shift(Shift.queues.through, "callqueue", agent, provider, shift_ids)
    agents_of = _ids_by_shift(Shift.agents.through, "agent", agent, provider, shift_ids)
    shifts = tuple(
        shift_rule(row, queues_of[row["id"]], agents_of[row["id"]], changes.get(row["id"], ()))
        for row in shift_rows.values(*SHIFT_FIELDS)
    )
    time_off = tuple(
        TimeOffSpan(agent_id, t_start, t_end, reason)
        for agent_id, t_start, t_end, reason in _of(TimeOff.objects, agent, provider)
        .filter(start__lt=end, end__gt=start)
        .values_list("agent__provider_id", "start", "end", "reason")
    )
    managed_agents = Agent.objects.filter(active=True, **({"pk": agent.pk} if agent else {}))
    if provider:
        managed_agents = managed_agents.filter(provider=provider)
    managed = {
        a: str(dnd)
        for a, dnd in managed_agents.filter(off_shift_dnd__isnull=False).values_list("provider_id", "off_shift_dnd")
    }
    return Snapshot(shifts, time_off, managed, _holds(start, end, agent, provider))


def _holds(start: datetime, end: datetime, agent: Agent | None, provider: str | None) -> tuple[OverrideSpan, ...]:
    """Overrides in force at some instant of [start, end); a cancelled one ends when it was cancelled."""
    rows = (
        _of(Override.objects, agent, provider)
        .filter(starts_at__lt=end, until__gt=start)
        .filter(Q(cancelled_at__isnull=True) | Q(cancelled_at__gt=start))
        .order_by("starts_at", "pk")
        .values_list(
            "pk",
            "agent__provider_id",
            "queue__provider_id",
            "accept",
            "dnd_status",
            "starts_at",
            "until",
            "cancelled_at",
        )  # fmt: skip
    )
    return tuple(
        OverrideSpan(agent_id, queue_id, accept if queue_id else dnd, since, min(until, cancelled or until), pk)
        for pk, agent_id, queue_id, accept, dnd, since, until, cancelled in rows
        if since < min(until, cancelled or until)
    )


def _of(manager, agent: Agent | None, provider: str | None):
    rows = manager.filter(agent__active=True, **({"agent": agent} if agent else {}))
    return rows.filter(agent__provider=provider) if provider else rows


def _changes(start: datetime, end: datetime, agent: Agent | None, provider: str | None) -> dict[int, list]:
    """Shift id -> its occurrence changes whose original or new interval touches [start, end), in 1 to 3 queries."""
    first: date = (start - CHANGE_MARGIN).date()
    rows = OccurrenceChange.objects.filter(
        Q(occurrence__range=(first, (end + ONE_DAY).date())) | Q(start__lt=end, end__gt=start - ONE_DAY)
    )
    if agent:
        rows = rows.filter(Q(shift__agents=agent) | Q(covering=agent)).distinct()
    found = list(rows.values_list("pk", "shift_id", "occurrence", "cancelled", "start", "end", "reason"))
    ids = [row[0] for row in found]
    absent = _agents_of(OccurrenceChange.absent.through, ids, agent, provider)
    covering = _agents_of(OccurrenceChange.covering.through, ids, agent, provider)
    changes = defaultdict(list)
    for pk, shift_id, occurrence, cancelled, moved_start, moved_end, reason in found:
        changes[shift_id].append(
            OccurrenceEdit(occurrence, cancelled, moved_start, moved_end, absent[pk], covering[pk], reason)
        )
    return changes


def _agents_of(through, change_ids: list[int], agent: Agent | None, provider: str | None) -> dict:
    """Change id -> provider ids of its absent (or covering) agents, active ones only."""
    ids: dict = defaultdict(frozenset)
    if not change_ids:  # most windows have no change: spare the query
        return ids
    rows = through.objects.filter(occurrencechange_id__in=change_ids, agent__active=True)
    if agent:
        rows = rows.filter(agent=agent)
    if provider:
        rows = rows.filter(agent__provider=provider)
    for change_id, provider_id in rows.values_list("occurrencechange_id", "agent__provider_id"):
        ids[change_id] = ids[change_id] | {provider_id}
    return ids


def shift_rule(row: dict, queue_ids, agent_ids, changes=()) -> ShiftRule:
    """A ShiftRule from a Shift's field values (a `values()` row or the importer's dict)."""
    rule = recurrence.parse_rrule(row["rrule"], row["dtstart"]) if row["rrule"] else None
    return ShiftRule(
        name=row["name"],
        tz=recurrence.zone(row["timezone"]),
        start=row["start_time"],
        end=row["end_time"],
        queue_ids=tuple(sorted(queue_ids)),
        agent_ids=tuple(sorted(agent_ids)),
        weekdays=None if rule else recurrence.parse_days(row["days"]),
        rule=rule,
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        changes=tuple(sorted(changes, key=lambda c: c.occurrence)),
    )


def _ids_by_shift(
    through, target: str, agent: Agent | None, provider: str | None, shift_ids: set[int] | None
) -> dict[int, list[str]]:
    """Shift id -> provider ids of its queues (or agents), narrowed to one agent's shifts and one provider."""
    rows = through.objects.all()
    if shift_ids is not None:
        rows = rows.filter(shift_id__in=shift_ids)
    if agent:
        if target == "agent":
            rows = rows.filter(agent=agent)
    if target == "agent":
        rows = rows.filter(agent__active=True)
    if provider:
        rows = rows.filter(**{f"{target}__provider": provider})
    ids = defaultdict(list)
    for shift_id, provider_id in rows.values_list("shift_id", f"{target}__provider_id"):
        ids[shift_id].append(provider_id)
    return ids


@dataclass
class AgentPlan:
    """One agent's plan over a window, and the instants her shifts and time off start or end."""

    agent_id: str
    snapshot: Snapshot  # hers only, holds included
    transitions: dict[datetime, str]  # instant -> what happens then, in words
    _states: dict = field(default_factory=dict, repr=False)

    @cached_property
    def schedule(self) -> Snapshot:
        return self.snapshot.schedule_only()

    def state(self, at: datetime) -> DesiredState:
        """Her desired state at `at`, holds applied."""
        if at not in self._states:
            self._states[at] = desired_state(self.snapshot, at)
        return self._states[at]

    def value(self, at: datetime, queue_id: str | None):
        """What the schedule (without holds) wants at `at`: the queue's flag, or DnD; None where it manages nothing."""
        state = desired_state(self.schedule, at)
        return state.dnd.get(self.agent_id) if queue_id is None else state.accept.get((queue_id, self.agent_id))

    def next_transition(self, at: datetime) -> datetime | None:
        """The first instant after `at` at which one of her shifts or time off starts or ends."""
        return min((t for t in self.transitions if t > at), default=None)

    def next_change(self, at: datetime, queue_id: str | None) -> datetime | None:
        """The first instant after `at` at which the schedule wants a different value."""
        now = self.value(at, queue_id)
        return next((t for t in sorted(self.transitions) if t > at and self.value(t, queue_id) != now), None)

    @property
    def zone(self) -> ZoneInfo:
        """The zone her shifts are mostly in: the one her times are shown in."""
        zones = Counter(shift.tz.key for shift in self.snapshot.shifts)
        return recurrence.zone(zones.most_common(1)[0][0] if zones else settings.TIME_ZONE)


def agent_plan(agent: Agent, *, start: datetime, end: datetime) -> AgentPlan:
    """Her shifts (naming only her), time off and holds overlapping [start, end)."""
    snapshot = schedule_snapshot(start=start, end=end, agent=agent)
    transitions: dict[datetime, str] = {}
    for shift in snapshot.shifts:
        for occ in shift.occurrences(start, end):
            if not occ.agent_ids:  # she sits this one out, or covers another one of it
                continue
            transitions.setdefault(occ.start, f"{shift.name} starts")
            transitions.setdefault(occ.end, f"{shift.name} ends")
    for off in snapshot.time_off:
        transitions.setdefault(off.start, "your time off starts")
        transitions.setdefault(off.end, "your time off ends")
    return AgentPlan(agent.provider_id, snapshot, transitions)


def schedule_zones() -> list[str]:
    """The zones the shifts are written in, most used first (ties by name); the server's zone when there are none."""
    # Counted by the database: the people's default zone asks this on every signed-in request.
    used = Shift.objects.values("timezone").annotate(shifts=Count("pk")).order_by("-shifts", "timezone")
    return [row["timezone"] for row in used] or [settings.TIME_ZONE]
