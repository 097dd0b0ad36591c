"""Rostered pairs the provider cannot apply: an agent on a shift of a queue she is not a member of.

What the provider lists is known from memberships (queues/sync.py `sync_queues`, and every
reconcile run's reads). A queue none of whose members was ever read is not judged: it would
flag every pair of a schedule imported before the first sync.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q

from queues.models import Agent, CallQueue, QueueMembership
from scheduler.models import Shift

RosteredPair = tuple[str, str, str]  # (queue provider id, agent provider id, shift name)


@dataclass(frozen=True, order=True)
class CannotApply:
    """One queue and agent the schedule pairs but the provider does not, with the shifts that pair them."""

    queue: str
    agent: str
    shifts: tuple[str, ...]

    def __str__(self) -> str:
        named = ", ".join(self.shifts)
        return f"{self.agent} is not a member of {self.queue} at the provider (shift {named})"


def shift_pairs(shifts: Iterable[Shift]) -> list[RosteredPair]:
    """Every (queue, agent, shift) the given shifts roster, by provider id."""
    return [(q.provider_id, a.provider_id, s.name) for s in shifts for q in s.queues.all() for a in s.agents.all()]


def current_shift_pairs(*, today: date) -> list[RosteredPair]:
    """The pairs of every shift still in force on `today` or later, active agents only."""
    shifts = Shift.objects.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
    active = Agent.objects.filter(active=True)
    return shift_pairs(shifts.prefetch_related("queues", Prefetch("agents", queryset=active)))


def cannot_apply(rostered: Iterable[RosteredPair]) -> list[CannotApply]:
    """The rostered pairs whose queue's members were read and do not include the agent, sorted by queue and agent."""
    by_pair: dict[tuple[str, str], list[str]] = defaultdict(list)
    for queue_id, agent_id, shift in rostered:
        by_pair[(queue_id, agent_id)].append(shift)
    members = set(QueueMembership.objects.values_list("queue__provider_id", "agent__provider_id"))
    read_queues = {q for q, _ in members}
    missing = {pair: shifts for pair, shifts in by_pair.items() if pair[0] in read_queues and pair not in members}
    queue_names = dict(
        CallQueue.objects.filter(provider_id__in={q for q, _ in missing}).values_list("provider_id", "name")
    )
    agent_names = dict(Agent.objects.filter(provider_id__in={a for _, a in missing}).values_list("provider_id", "name"))
    return sorted(
        CannotApply(queue_names.get(q, q), agent_names.get(a, a), tuple(sorted(set(shifts))))
        for (q, a), shifts in missing.items()
    )
