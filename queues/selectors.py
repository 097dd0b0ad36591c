"""Reads for the receptionist pages: one agent's queues, live or last known, and what her schedule says."""

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from integrations.base import Provider, ProviderError
from scheduler import recurrence
from scheduler.models import Shift, TimeOff
from scheduler.planning import DesiredState, Snapshot, TimeOffSpan, desired_state
from scheduler.selectors import shift_rule

from .models import Agent, CallQueue, Override, QueueMembership

log = logging.getLogger(__name__)

LIVE_TIMEOUT = 1.5  # seconds the page waits for RingCentral before showing the last known state
LOOKAHEAD = timedelta(days=7)  # how far "until when" looks for the schedule's next change
# Live reads run here so a slow provider costs the page LIVE_TIMEOUT, not the client's own 30 s and retries.
_live_reads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="live-read")


@dataclass
class AgentPlan:
    """One agent's schedule over a window: only her shifts and time off, and the instants they start or end."""

    agent_id: str
    snapshot: Snapshot
    transitions: dict[datetime, str]  # instant -> what happens then, in words
    _states: dict = field(default_factory=dict, repr=False)

    def state(self, at: datetime) -> DesiredState:
        if at not in self._states:
            self._states[at] = desired_state(self.snapshot, at)
        return self._states[at]

    def value(self, at: datetime, queue_id: str | None):
        """What the schedule wants at `at`: the queue's accept flag, or DnD; None where it manages nothing."""
        state = self.state(at)
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
    """Her shifts (naming only her) and time off overlapping [start, end), in four queries."""
    queues_of: dict[int, list[str]] = {}
    for shift_id, queue_id in Shift.queues.through.objects.filter(shift__agents=agent).values_list(
        "shift_id", "callqueue__provider_id"
    ):
        queues_of.setdefault(shift_id, []).append(queue_id)
    rows = Shift.objects.filter(agents=agent).values(
        "id", "name", "timezone", "start_time", "end_time", "days", "rrule", "dtstart", "valid_from", "valid_until"
    )
    shifts = tuple(shift_rule(row, queues_of.get(row["id"], ()), [agent.provider_id]) for row in rows)
    time_off = tuple(
        TimeOffSpan(agent.provider_id, t.start, t.end, t.reason)
        for t in TimeOff.objects.filter(agent=agent, start__lt=end, end__gt=start)
    )
    managed = {agent.provider_id: agent.off_shift_dnd} if agent.off_shift_dnd else {}
    transitions: dict[datetime, str] = {}
    for shift in shifts:
        for occ in shift.occurrences(start, end):
            transitions.setdefault(occ.start, f"{shift.name} starts")
            transitions.setdefault(occ.end, f"{shift.name} ends")
    for off in time_off:
        transitions.setdefault(off.start, "your time off starts")
        transitions.setdefault(off.end, "your time off ends")
    return AgentPlan(agent.provider_id, Snapshot(shifts, time_off, managed), transitions)


@dataclass
class Reading:
    """A value of hers at the provider: live, or the last one we saw and when (None if never seen)."""

    value: object
    live: bool
    as_of: datetime | None


@dataclass
class Row:
    """One of her queues on the page."""

    queue: CallQueue
    taking: Reading
    scheduled: bool | None  # None: her schedule does not manage this queue
    scheduled_until: datetime | None
    why_until: str
    override: Override | None

    @property
    def editable(self) -> bool:
        return self.queue.editable_member_status


@dataclass
class MyQueues:
    agent: Agent
    at: datetime
    zone: ZoneInfo
    rows: list[Row]
    dnd: Reading
    dnd_scheduled: str | None
    dnd_override: Override | None
    live_problem: str = ""  # why the page shows last known state instead of live state


def my_queues(
    agent: Agent, *, provider: Provider, at: datetime | None = None, timeout: float | None = None
) -> MyQueues:
    """Each of her queues: taking calls now (live, else last known), what the schedule says and until when."""
    at = at or timezone.now()
    memberships = list(QueueMembership.objects.filter(agent=agent).select_related("queue").order_by("queue__name"))
    overrides = {o.queue_id: o for o in Override.objects.active(at).filter(agent=agent).order_by("starts_at")}
    plan = agent_plan(agent, start=at - timedelta(days=2), end=at + LOOKAHEAD)
    timeout = LIVE_TIMEOUT if timeout is None else timeout
    live_queues, live_dnd, problem = live_state(agent, [m.queue.provider_id for m in memberships], provider, timeout)
    rows = []
    for m in memberships:
        queue_id = m.queue.provider_id
        taking = (
            Reading(live_queues[queue_id], True, at)
            if queue_id in live_queues
            else Reading(m.accepting, False, m.observed_at)
        )
        until = plan.next_change(at, queue_id)
        rows.append(
            Row(
                m.queue,
                taking,
                plan.value(at, queue_id),
                until,
                plan.transitions.get(until, ""),
                overrides.get(m.queue_id),
            )
        )
    dnd = Reading(live_dnd, True, at) if live_dnd else Reading(agent.dnd_status or None, False, agent.dnd_observed_at)
    return MyQueues(agent, at, plan.zone, rows, dnd, plan.value(at, None), overrides.get(None), problem)


def live_state(agent: Agent, queue_ids: list[str], provider: Provider, timeout: float):
    """(queue id -> accepting, DnD status, problem) from the provider, giving up after `timeout` seconds.

    Each read that fails or is late is simply missing; the page shows the last known value for it.
    """
    queues = _live_reads.submit(_read_agent_queues, provider, agent.provider_id, queue_ids)
    dnd = _live_reads.submit(provider.read_dnd, [agent.provider_id])
    wait([queues, dnd], timeout=timeout)
    problems: list[str] = []
    live_queues = _result(queues, problems) or {}
    live_dnd = (_result(dnd, problems) or {}).get(agent.provider_id)
    return live_queues, live_dnd, problems[0] if problems else ""


def _result(future, problems: list[str]):
    if not future.done():
        future.cancel()
        problems.append("RingCentral did not answer in time")
        return None
    try:
        return future.result()
    except ProviderError as error:
        from .overrides import describe_error  # the words live with the writes; imported late to avoid a cycle

        log.warning("live read failed: %s", error)
        problems.append(f"RingCentral could not be read: {describe_error(error)}")
        return None


def _read_agent_queues(provider: Provider, agent_id: str, queue_ids: list[str]) -> dict[str, bool]:
    """One call where the provider can list an agent's queues (RingCentral can); else one read per queue."""
    if hasattr(provider, "read_agent_queue_presence"):
        return {p.queue_id: p.accept_calls for p in provider.read_agent_queue_presence(agent_id)}
    presence = {}
    for queue_id in queue_ids:
        accepting = provider.read_queue_presence(queue_id).get(agent_id)
        if accepting is not None:
            presence[queue_id] = accepting
    return presence
