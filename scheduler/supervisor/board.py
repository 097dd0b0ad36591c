"""The now board: per queue, who the plan wants taking calls, who actually is, and where they differ.

"Actually" is the last presence the reconciler (or an override) observed, with its age; a
provider's live status (RingPlan) is shown beside it when that app records one. A login the
provider refused for good heads the board until a login succeeds: nothing else can change until then.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from integrations.base import ProviderError
from integrations.providers import login_refused
from queues.models import Agent, CallQueue, DndStatus, Override, QueueMembership, queue_calls_reach
from scheduler.planning import OccurrenceEdit, changes_at, desired_state
from scheduler.selectors import schedule_snapshot

from .coverage import staffed_hours
from .understaffed import headline, shortages

DND_WORDS = dict(DndStatus.choices)


@dataclass
class BoardRow:
    agent: Agent
    scheduled: bool | None  # the schedule's wish; None where no shift names this pair
    held: Override | None  # an active override of this pair, which beats the schedule
    planned: bool | None  # what the plan wants, holds applied
    accepting: bool | None  # last observed; None if never read
    observed_at: datetime | None
    age: timedelta | None
    live_status: str = ""
    change: str = ""  # a changed occurrence decides this pair now: "changed", with its reason when it has one

    @property
    def wanted(self) -> bool | None:
        return self.planned

    @property
    def dnd(self) -> str:
        """Her DnD as last observed; empty if never read."""
        return self.agent.dnd_status

    @property
    def taking_calls(self) -> bool | None:
        """Queue calls reach her: her queue switch is on and her DnD (where it was read) lets them through."""
        if self.accepting is None:
            return None
        return self.accepting and queue_calls_reach(self.dnd) is not False

    @property
    def mismatch(self) -> str:
        """Why the queue switch says more than is true, in words; empty when it does not."""
        if self.accepting and queue_calls_reach(self.dnd) is False:
            words = DND_WORDS.get(self.dnd, self.dnd)
            return f"the queue lists her, but her Do Not Disturb ({words}) keeps queue calls away"
        return ""

    @property
    def differs(self) -> bool:
        """Actual differs from what the plan (with overrides) wants; unknown never counts as a difference."""
        return self.wanted is not None and self.accepting is not None and self.accepting != self.wanted


@dataclass
class BoardQueue:
    queue: CallQueue
    rows: list[BoardRow] = field(default_factory=list)
    open: bool = True  # within its opening hours (a queue without them is always open)
    compliance: float | None = None  # plan compliance today so far, in percent (scheduler.reports.compliance)
    shortage: str = ""  # "Support: 1 of 2 taking calls for 7 min", once that has lasted past the alert's minutes

    @property
    def scheduled(self) -> int:
        return sum(1 for r in self.rows if r.wanted)

    @property
    def accepting(self) -> int:
        """Agents queue calls actually reach: queue switch on and DnD letting them through."""
        return sum(1 for r in self.rows if r.taking_calls)

    @property
    def below_min(self) -> bool:
        """Open, and fewer agents scheduled or taking calls than it needs; a closed queue needs nobody."""
        return self.open and min(self.scheduled, self.accepting) < self.queue.min_staff

    @property
    def differs(self) -> bool:
        return any(r.differs for r in self.rows)


def now_board(*, at: datetime, compliance: Mapping[str, float | None] | None = None) -> list[BoardQueue]:
    """Every queue with its members and managed agents at `at`, in a constant number of queries.

    `compliance` is each queue's (by provider id) plan compliance today, computed by the caller.
    """
    snapshot = schedule_snapshot(start=at, end=at + timedelta(microseconds=1))
    state = desired_state(snapshot, at)
    accept, scheduled = state.accept, desired_state(snapshot.schedule_only(), at).accept
    changed = {pair: change_words(c) for pair, c in changes_at(snapshot, at).items()}
    stored = Override.objects.in_bulk([o.override_id for o in state.held.values() if o.queue_id])
    holds = {k: stored[o.override_id] for k, o in state.held.items() if o.override_id in stored}
    memberships = QueueMembership.objects.filter(agent__active=True).select_related("agent__live_status")
    by_pair = {(m.queue.provider_id, m.agent.provider_id): m for m in memberships.select_related("queue")}
    wanted_agent_ids = {a for (_, a) in accept} - {a for (_, a) in by_pair}
    agents = Agent.objects.select_related("live_status")
    extra_agents = {a.provider_id: a for a in agents.filter(provider_id__in=wanted_agent_ids)}
    board = []
    short = shortages(at=at)
    for queue in CallQueue.objects.prefetch_related("opening_ranges", "closed_dates"):
        pairs = sorted(
            {a for (q, a) in by_pair if q == queue.provider_id} | {a for (q, a) in accept if q == queue.provider_id}
        )
        rows = [_row(queue, agent_id, by_pair.get((queue.provider_id, agent_id)), (scheduled, accept), holds,
                     extra_agents, at, changed) for agent_id in pairs]  # fmt: skip
        hours = staffed_hours(queue)
        is_open = hours is None or hours.is_open(at)
        board.append(BoardQueue(queue, sorted((r for r in rows if r), key=lambda r: r.agent.name), is_open))
        board[-1].compliance = (compliance or {}).get(queue.provider_id)
        if queue.pk in short and is_open and board[-1].accepting < queue.min_staff:
            board[-1].shortage = headline(queue.name, board[-1].accepting, queue.min_staff, at - short[queue.pk])
    return board


def board_alert() -> ProviderError | None:
    """What stops all automation now and needs a person: a refused provider login."""
    return login_refused()


def change_words(change: OccurrenceEdit) -> str:
    """A changed occurrence as a marker says it: 'changed', with its reason."""
    return f"changed: {change.reason}" if change.reason else "changed"


def _row(queue, agent_id, membership, plans, holds, extra_agents, at, changed) -> BoardRow | None:
    agent = membership.agent if membership else extra_agents.get(agent_id)
    if agent is None:
        return None
    observed_at = membership.observed_at if membership else None
    live = getattr(agent, "live_status", None)  # a provider's live status, where one is known
    scheduled, accept = plans
    key = (queue.provider_id, agent_id)
    return BoardRow(
        agent=agent,
        scheduled=scheduled.get(key),
        held=holds.get(key),
        planned=accept.get(key),
        accepting=membership.accepting if membership else None,
        observed_at=observed_at,
        age=at - observed_at if observed_at else None,
        live_status=getattr(live, "status", "") or "",
        change=changed.get(key, ""),
    )
