"""The rolling sweep: each minute, read and correct a slice of the managed values within a share of the read budget.

Every managed queue (one read of its members' presence) and every agent whose DnD the plan
sets (one batched read per `dnd_per_read` agents) stand in one cyclic order: queues by id, then
agents by id. Each minute the sweep reads the next slice after where it stopped, so each value
is read again at least every `minutes_per_cycle` minutes while the reads stay inside the share
of the provider's budget. Where it stopped is kept in the database, so a restart carries on.
"""

import math
from bisect import bisect_right
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from integrations.base import Provider
from scheduler.models import SweepCursor

from .diff import Target
from .locks import LeaseBusy, lease
from .run import Result, plan_at, reconcile_locked

QUEUE, AGENT = "queue", "agent"
LEASE_WAIT = 20.0  # seconds a slice waits for runs on its queues; then it is tried again next minute


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """How the sweep spends its budget: what it covers, the reads each minute, and the minutes a full cycle takes."""

    queues: int
    agents: int
    budget: int  # reads a minute the share allows
    reads_per_cycle: int
    reads_per_minute: int
    minutes_per_cycle: int

    def as_json(self) -> dict:
        return {
            "queues": self.queues,
            "agents": self.agents,
            "budget_reads_per_minute": self.budget,
            "reads_per_cycle": self.reads_per_cycle,
            "reads_per_minute": self.reads_per_minute,
            "minutes_per_cycle": self.minutes_per_cycle,
        }


def sweep_plan(*, queues: int, agents: int, reads_per_minute: int, share: float, dnd_per_read: int) -> SweepPlan:
    """The reads a full cycle takes, spread evenly over the fewest minutes the budget allows. Pure."""
    budget = max(1, math.floor(reads_per_minute * share))
    cycle = queues + math.ceil(agents / dnd_per_read)
    minutes = max(1, math.ceil(cycle / budget))
    return SweepPlan(queues, agents, budget, cycle, math.ceil(cycle / minutes), minutes)


def sweep_items(wanted: Collection[Target]) -> list[tuple[str, str]]:
    """The sweep's cyclic order: (QUEUE, id) of every queue, then (AGENT, id) of every agent whose DnD is planned."""
    queues = {(QUEUE, t.queue_id) for t in wanted if not t.is_dnd}
    agents = {(AGENT, t.agent_id) for t in wanted if t.is_dnd}
    return sorted(queues) + sorted(agents)


def next_slice(
    items: list[tuple[str, str]], after: tuple[str, str] | None, *, reads: int, dnd_per_read: int
) -> list[tuple[str, str]]:
    """The items following `after` (cyclically) that `reads` reads cover, each at most once. Pure.

    A queue costs a read; consecutive agents cost one read per `dnd_per_read`. `after` need not be
    among the items any more (a queue no longer managed): the slice starts where it would have stood.
    """
    start = bisect_right(items, _rank(after), key=_rank) if after else 0
    taken: list[tuple[str, str]] = []
    spent = batch = 0
    for item in items[start:] + items[:start]:
        if item[0] == AGENT and 0 < batch < dnd_per_read:
            cost, batch = 0, batch + 1
        else:
            cost, batch = 1, 1 if item[0] == AGENT else 0
        if spent + cost > reads:
            break
        spent += cost
        taken.append(item)
    return taken


def _rank(item: tuple[str, str]) -> tuple[int, str]:
    """Queues before agents, each by id: the items' own order, for an `after` no longer among them."""
    return (0 if item[0] == QUEUE else 1, item[1])


def plan_for(provider: Provider, wanted: Collection[Target]) -> SweepPlan:
    """The sweep plan of what `wanted` manages, at the configured share of the provider's budget."""
    items = sweep_items(wanted)
    return sweep_plan(
        queues=sum(kind == QUEUE for kind, _ in items),
        agents=sum(kind == AGENT for kind, _ in items),
        reads_per_minute=provider.reads_per_minute,
        share=settings.SWEEP_BUDGET_SHARE,
        dnd_per_read=provider.dnd_per_read,
    )


def current_plan(provider: Provider, at: datetime | None = None) -> SweepPlan:
    """The sweep plan for what is managed now (or at `at`)."""
    return plan_for(provider, plan_at(provider, at or timezone.now(), boundary=None, only=None)[1])


def sweep(*, provider: Provider, at: datetime | None = None) -> Result | None:
    """Read and correct this minute's slice, then move the cursor past it.

    None when there was nothing to do: nothing is managed, another sweep is at work, or the
    slice's queues or agents stayed busy with other runs (the slice is tried again next minute).
    """
    try:
        with lease(f"{provider.name}:sweep", wait=0):
            return _sweep(provider, at)
    except LeaseBusy:
        return None


def _sweep(provider: Provider, at: datetime | None) -> Result | None:
    wanted = plan_at(provider, at or timezone.now(), boundary=None, only=None)[1]
    items, plan = sweep_items(wanted), plan_for(provider, wanted)
    cursor, _ = SweepCursor.objects.get_or_create(provider=provider.name)
    kind, _, item_id = cursor.last.partition(":")
    after = (kind, item_id) if cursor.last else None
    chosen = next_slice(items, after, reads=plan.reads_per_minute, dnd_per_read=provider.dnd_per_read)
    if not chosen:
        return None
    queues = {i for k, i in chosen if k == QUEUE}
    agents = {i for k, i in chosen if k == AGENT}
    only = {t for t in wanted if (t.agent_id in agents if t.is_dnd else t.queue_id in queues)}
    result = reconcile_locked(provider=provider, at=at, trigger="sweep", only=only, wait=LEASE_WAIT)
    cursor.last = ":".join(chosen[-1])
    cursor.save()
    return result
