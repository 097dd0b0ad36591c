"""What Callrota remembers of each value at the provider, in the membership and agent rows.

`Directory.load` reads the rows for a set of targets once; `slots` turns them into the diff's
plain Slots; `store` writes what a run (or an override) saw and planned back, in batches.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from queues.models import ActualChange, ActualSource, Agent, CallQueue, QueueMembership, actual_changed

from .diff import Memory, Slot, Target

BATCH = 500  # rows per INSERT or plain UPDATE: one giant statement is slow to plan on PostgreSQL
REWRITE_BATCH = 100  # rows per row-by-row UPDATE (a CASE per row and field): PostgreSQL plans these slowest


@dataclass
class Directory:
    """One provider's queues, agents and memberships named by a set of targets."""

    queues: dict[str, CallQueue]
    agents: dict[str, Agent]
    memberships: dict[Target, QueueMembership]

    @classmethod
    def load(cls, provider: str, targets: Iterable[Target]) -> "Directory":
        targets = list(targets)
        queues = _by_provider_id(CallQueue, provider, {t.queue_id for t in targets if t.queue_id})
        agents = _by_provider_id(Agent, provider, {t.agent_id for t in targets})
        queue_by_pk = {q.pk: q for q in queues.values()}
        agent_by_pk = {a.pk: a for a in agents.values()}
        memberships = {}
        for m in QueueMembership.objects.filter(queue__in=queue_by_pk, agent__in=agent_by_pk):
            # The queue and agent already loaded, not a join's copies: thousands of rows at a busy boundary.
            m.queue, m.agent = queue_by_pk[m.queue_id], agent_by_pk[m.agent_id]
            memberships[Target(m.agent.provider_id, m.queue.provider_id)] = m
        return cls(queues, agents, memberships)

    def knows(self, target: Target) -> bool:
        return target.agent_id in self.agents and (target.is_dnd or target.queue_id in self.queues)

    def slots(self, targets: Iterable[Target]) -> dict[Target, Slot]:
        """The diff's view of each remembered value (a pair never seen has an empty one)."""
        return {t: self._slot(t) for t in targets}

    def _slot(self, target: Target) -> Slot:
        if target.is_dnd:
            agent = self.agents[target.agent_id]
            return Slot(agent.dnd_status or None, agent.dnd_planned or None)
        row, enforce = self.memberships.get(target), self.queues[target.queue_id].enforce
        return Slot(row.accepting, row.planned, enforce) if row else Slot(enforce=enforce)

    def store(self, memory: dict[Target, Memory], *, source: str = ActualSource.READ) -> None:
        """Remember what was seen (and planned) of each value; a pair seen for the first time gets its row.

        Only rows whose values changed are rewritten one by one; the rest, nearly all of them on
        a quiet pass, only have their observation time moved, one set-based UPDATE per batch. A
        row-by-row `bulk_update` of every membership grew into one CASE per row and took minutes
        on PostgreSQL at 12,000 rows; this stays linear and cheap. A value that changed is also
        appended to the actual-value log, as learned from `source` (a read, or a write that landed).
        """
        now = timezone.now()
        log: list[ActualChange] = []
        changed: list[QueueMembership] = []
        new: list[QueueMembership] = []
        seen_again: dict[datetime, list[int]] = defaultdict(list)
        agents_changed: list[Agent] = []
        agents_seen_again: dict[datetime, list[int]] = defaultdict(list)
        for target, m in memory.items():
            if target.is_dnd:
                agent = self.agents[target.agent_id]
                before = (agent.dnd_status, agent.dnd_planned)
                if agent.dnd_status != str(m.seen):
                    log.append(ActualChange.of_dnd(agent.pk, str(m.seen), m.observed_at or now, source))
                agent.dnd_status, agent.dnd_observed_at = str(m.seen), m.observed_at or agent.dnd_observed_at
                agent.dnd_planned = agent.dnd_planned if m.planned is None else str(m.planned)
                if (agent.dnd_status, agent.dnd_planned) != before:
                    agents_changed.append(agent)
                elif m.observed_at:
                    agents_seen_again[m.observed_at].append(agent.pk)
                continue
            row = self.memberships.get(target)
            if row is None:
                row = self.memberships[target] = QueueMembership(
                    queue=self.queues[target.queue_id], agent=self.agents[target.agent_id]
                )
            before_row = (row.accepting, row.planned)
            if row.accepting != bool(m.seen):
                log.append(ActualChange.of_queue_calls(row, bool(m.seen), m.observed_at or now, source))
            row.accepting, row.observed_at = bool(m.seen), m.observed_at or row.observed_at
            row.planned = row.planned if m.planned is None else bool(m.planned)
            if row.pk is None:
                new.append(row)
            elif (row.accepting, row.planned) != before_row:
                changed.append(row)
            elif m.observed_at:
                seen_again[m.observed_at].append(row.pk)
        QueueMembership.objects.bulk_create(new, batch_size=BATCH)
        actual_changed(log)  # after the new rows: a first value names its membership's queue and agent
        QueueMembership.objects.bulk_update(changed, ["accepting", "observed_at", "planned"], batch_size=REWRITE_BATCH)
        Agent.objects.bulk_update(
            agents_changed, ["dnd_status", "dnd_observed_at", "dnd_planned"], batch_size=REWRITE_BATCH
        )
        _touch(QueueMembership, "observed_at", seen_again)
        _touch(Agent, "dnd_observed_at", agents_seen_again)


def _touch(model, field: str, ids_by_time: dict[datetime, list[int]]) -> None:
    """Move the observation time of unchanged rows: one plain UPDATE per time and batch of ids."""
    for at, ids in ids_by_time.items():
        for start in range(0, len(ids), BATCH):
            model.objects.filter(pk__in=ids[start : start + BATCH]).update(**{field: at})


def _by_provider_id(model, provider: str, ids: set[str]) -> dict:
    return {o.provider_id: o for o in model.objects.filter(provider=provider, provider_id__in=ids)}
