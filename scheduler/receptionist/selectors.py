"""Reads for the receptionist pages: one agent's queues, live or last known, and what her schedule says."""

import logging
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections
from django.utils import timezone

from integrations.base import Provider, ProviderError
from queues.heard import heard_since_live
from queues.models import Agent, CallQueue, Override, QueueMembership, queue_calls_reach
from scheduler.forecast.side_by_side import fall_in_words, level_falls
from scheduler.models import CallVolume
from scheduler.selectors import agent_plan
from scheduler.supervisor.coverage import staffed_hours
from scheduler.supervisor.need import projected_service_level_change

log = logging.getLogger(__name__)

LIVE_TIMEOUT = 1.5  # seconds the page waits for RingCentral before showing the last known state
LOOKAHEAD = timedelta(days=7)  # how far "until when" looks for the schedule's next change
PROJECTION = timedelta(hours=4)  # the longest hold she can choose: how far the service level projection looks
# Live reads run here so a slow provider costs the page LIVE_TIMEOUT, not the client's own 30 s and retries.
_live_reads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="live-read")


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
    short_if_stopped: str = ""  # in words, when her stopping would leave the open queue below min staff
    # In words, each interval whose projected service level falls if she stops (she is scheduled in the queue).
    projected_if_stopped: list[str] = field(default_factory=list)

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

    @property
    def projected_if_away(self) -> list[str]:
        """Stepping away stops every queue she takes: each one's falls in projected service level."""
        return [line for row in self.rows for line in row.projected_if_stopped]

    @property
    def stepped_away(self) -> bool:
        """Her DnD keeps queue calls away, whatever each queue's own switch says."""
        return queue_calls_reach(str(self.dnd.value) if self.dnd.value else None) is False


def my_queues(
    agent: Agent, *, provider: Provider, at: datetime | None = None, timeout: float | None = None
) -> MyQueues:
    """Each of her queues: taking calls now (live, else last known), what the schedule says and until when."""
    at = at or timezone.now()
    memberships = list(
        QueueMembership.objects.filter(agent=agent)
        .select_related("queue")
        .prefetch_related("queue__opening_ranges", "queue__closed_dates")  # each queue's hours, for "short"
        .order_by("queue__name")
    )
    plan = agent_plan(agent, start=at - timedelta(days=2), end=at + LOOKAHEAD)
    held = plan.state(at).held.values()  # the holds in force, as the reconciler sees them
    stored = Override.objects.select_related("queue").in_bulk([o.override_id for o in held])
    overrides = {o.queue_id or None: stored[o.override_id] for o in held if o.override_id in stored}
    timeout = LIVE_TIMEOUT if timeout is None else timeout
    live_queues, live_dnd, problem = live_state(agent, [m.queue.provider_id for m in memberships], provider, timeout)
    others_taking = others_taking_calls(agent, [m.queue for m in memberships])
    forecast_for = with_call_history([m.queue for m in memberships])
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
                plan.transitions.get(until, "") if until else "",
                overrides.get(queue_id),
                short_if_stopped(m.queue, others_taking.get(m.queue_id, 0), at=at) if taking.value else "",
                projected_if_stopped(m.queue, at=at, until=until, zone=plan.zone)
                if taking.value and plan.value(at, queue_id) and m.queue_id in forecast_for
                else [],
            )
        )
    dnd = Reading(live_dnd, True, at) if live_dnd else Reading(agent.dnd_status or None, False, agent.dnd_observed_at)
    return MyQueues(agent, at, plan.zone, rows, dnd, plan.value(at, None), overrides.get(None), problem)


def others_taking_calls(agent: Agent, queues: Iterable[CallQueue]) -> Counter[int]:
    """Per queue pk, the other active agents whose queue calls reach them, as last observed (one query)."""
    taking = QueueMembership.objects.filter(queue__in=list(queues), accepting=True, agent__active=True)
    return Counter(
        queue_pk
        for queue_pk, dnd in taking.exclude(agent=agent).values_list("queue_id", "agent__dnd_status")
        if queue_calls_reach(dnd) is not False
    )


def short_if_stopped(queue: CallQueue, others: int, *, at: datetime) -> str:
    """In words, when `others` taking calls without her leaves the queue, open at `at`, below its min staff."""
    hours = staffed_hours(queue)
    if others >= queue.min_staff or (hours is not None and not hours.is_open(at)):
        return ""
    people = "nobody is" if others == 0 else f"{others} other{' is' if others == 1 else 's are'}"
    return f"{queue.name} needs {queue.min_staff} taking its calls now; without you {people}, below its min staff."


def with_call_history(queues: list[CallQueue]) -> set[int]:
    """The pks of those queues that have call history to forecast from (one query)."""
    minutes = settings.CALLROTA_FORECAST_INTERVAL
    return set(CallVolume.objects.filter(queue__in=queues, minutes=minutes).values_list("queue", flat=True).distinct())


def projected_if_stopped(queue: CallQueue, *, at: datetime, until: datetime | None, zone: ZoneInfo) -> list[str]:
    """In words, the queue's intervals from `at` to her next scheduled change (at most PROJECTION) whose projected
    service level falls with one scheduled agent fewer; none without call history."""
    end = min(until or at + PROJECTION, at + PROJECTION)
    changes = projected_service_level_change(queue=queue, start=at, end=end, scheduled_delta=-1)
    return [fall_in_words(queue.name, c, zone) for c in level_falls(changes)]


def would_leave_short(
    agent: Agent, *, at: datetime, queue: CallQueue | None = None, accept: bool | None = None, dnd_status: str = ""
) -> list[str]:
    """In words, each open queue her change (stop one queue, or step away from all) leaves below its min staff."""
    if queue is not None:
        queues = [queue] if accept is False else []
    elif dnd_status and queue_calls_reach(dnd_status) is False:  # stepping away: every queue she takes calls of
        taking = QueueMembership.objects.filter(agent=agent, accepting=True).select_related("queue")
        queues = [m.queue for m in taking] if queue_calls_reach(agent.dnd_status) is not False else []
    else:
        queues = []
    others = others_taking_calls(agent, queues)
    return [short for q in queues if (short := short_if_stopped(q, others.get(q.pk, 0), at=at))]


def live_state(agent: Agent, queue_ids: list[str], provider: Provider, timeout: float):
    """(queue id -> accepting, DnD status, problem) from the provider, giving up after `timeout` seconds.

    What the listener heard in its live session is the provider's state already and is not read:
    a read would wait behind the sweep and boundary runs for the same read budget. Each read that
    fails or is late is simply missing; the page shows the last known value for it.
    """
    heard = heard_since_live(provider.name, [(agent.provider_id, q) for q in [*queue_ids, ""]])
    live_queues = {q: bool(v) for (_, q), v in heard.items() if q}
    live_dnd = heard.get((agent.provider_id, ""))
    unheard = [q for q in queue_ids if q not in live_queues]
    reads: list[Future[Any]] = []
    if unheard:
        queues = _live_reads.submit(_closing_connections, provider.read_agent_queues, agent.provider_id, queue_ids)
        reads.append(queues)
    if live_dnd is None:
        dnd = _live_reads.submit(_closing_connections, provider.read_dnd, [agent.provider_id])
        reads.append(dnd)
    wait(reads, timeout=timeout)
    problems: list[str] = []
    if unheard:
        live_queues |= {q: v for q, v in (_result(queues, provider, problems) or {}).items() if q in unheard}
    if live_dnd is None:
        live_dnd = (_result(dnd, provider, problems) or {}).get(agent.provider_id)
    return live_queues, live_dnd, problems[0] if problems else ""


def _closing_connections(read, *args):
    """Run a read in a pool thread, then close the thread's database connections (the provider's shared
    session lives in the database), as Django closes a request's: none is left open, or stale after a restart."""
    try:
        return read(*args)
    finally:
        connections.close_all()


def _result(future, provider: Provider, problems: list[str]):
    if not future.done():
        future.cancel()
        problems.append(f"{provider.label} did not answer in time")
        return None
    try:
        return future.result()
    except ProviderError as error:
        log.warning("live read failed: %s", error)
        problems.append(f"{provider.label} could not be read: {error.describe()}")
        return None
