"""Make the provider match the plan: desired vs actual -> diff -> fewest calls -> write -> audit.

Level-triggered: every run reads the actual state and writes only the difference, so a
second run writes nothing and a late, missed or crashed run is healed by the next one.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from integrations.base import Provider, ProviderError
from queues.models import Agent, AuditEntry, CallQueue, Override, PendingWrite, QueueMembership, ReconcileRun

from .cover import min_vertex_cover
from .locks import lease
from .planning import DesiredState, Snapshot, desired_state, explain
from .selectors import schedule_snapshot

log = logging.getLogger(__name__)

QUEUE_FIELD, AGENT_FIELD, DND_FIELD = "acceptCurrentQueueCalls", "acceptCalls", "dndStatus"
MANUAL_OVERRIDE, DRIFT = "manual override", "drift correction"
EPSILON = timedelta(microseconds=1)


@dataclass
class Change:
    """One value to change at the provider, and what became of it."""

    agent: Agent
    queue: CallQueue | None  # None for DnD
    old: object
    new: object
    reason: str
    field: str
    outcome: str = "planned"
    error_code: str = ""
    error_message: str = ""
    api_call: str = ""
    record: object = field(default=None, repr=False)  # the membership or agent that remembers the value

    def as_json(self) -> dict:
        return {
            "queue": self.queue.provider_id if self.queue else None,
            "agent": self.agent.provider_id,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
            "outcome": self.outcome,
            **({"error_code": self.error_code} if self.error_code else {}),
        }


@dataclass
class Result:
    run: ReconcileRun | None
    at: datetime
    changes: list[Change] = field(default_factory=list)
    writes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(c.outcome == "failed" for c in self.changes)

    def as_json(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "writes": self.writes,
            "changes": [c.as_json() for c in self.changes],
            "problems": self.problems,
        }


def reconcile_locked(
    *, provider: Provider, at: datetime | None = None, trigger: str, actor=None, boundary=None, wait=10.0
) -> Result:
    """One run under the reconcile lease; the plan is computed after the lease is taken.

    A boundary run is planned for now, or for the boundary if it fires a hair early.
    """
    with lease("reconcile", wait=wait):
        at = at or (max(timezone.now(), boundary) if boundary else timezone.now())
        return reconcile(provider=provider, at=at, trigger=trigger, actor=actor, boundary=boundary)


def reconcile(
    *, provider: Provider, at: datetime, trigger: str, dry_run: bool = False, actor=None, boundary=None
) -> Result:
    """Plan at `at`, read the provider, write the difference in the fewest calls, audit every change.

    With `boundary`, only the values that change at that instant are read and written: a
    boundary run touches a few queues at once, and the every-minute pass covers the rest.
    """
    window_start = min(at, boundary - EPSILON) if boundary else at
    snapshot = schedule_snapshot(start=window_start, end=at + EPSILON)
    desired, overridden = _desired_with_overrides(snapshot, at)
    if boundary:
        before, _ = _desired_with_overrides(snapshot, boundary - EPSILON)
        after, _ = _desired_with_overrides(snapshot, boundary)
        desired = _only(desired, _changed(before, after))
    run = None if dry_run else ReconcileRun.objects.create(at=at, trigger=trigger)
    result = Result(run, at)
    diff = _Diff(snapshot, desired, overridden, at, result)
    diff.queues(provider)
    diff.dnd(provider)
    result.changes = diff.changes
    if dry_run:
        result.writes = len(_calls(diff.changes))
        return result
    _resolve_interrupted(diff.seen, run)
    _write(provider, _calls(diff.changes), result, actor)
    _record(result, diff, actor)
    return result


def _changed(before: DesiredState, after: DesiredState) -> set:
    """Keys ((queue id, agent id) pairs and agent ids) whose desired value differs."""
    pairs = {k for k in before.accept.keys() | after.accept.keys() if before.accept.get(k) != after.accept.get(k)}
    return pairs | {a for a in before.dnd.keys() | after.dnd.keys() if before.dnd.get(a) != after.dnd.get(a)}


def _only(state: DesiredState, keys: set) -> DesiredState:
    accept = {k: v for k, v in state.accept.items() if k in keys}
    return DesiredState(state.at, accept, {a: v for a, v in state.dnd.items() if a in keys})


def _desired_with_overrides(snapshot: Snapshot, at: datetime) -> tuple[DesiredState, set]:
    """The plan, with every active override laid over it; also the keys the overrides decided."""
    state = desired_state(snapshot, at)
    overridden = set()
    for override in Override.objects.active(at).select_related("queue", "agent"):
        agent_id = override.agent.provider_id
        if override.queue_id:
            key = (override.queue.provider_id, agent_id)
            state.accept[key] = override.accept
        else:
            key = agent_id
            state.dnd[agent_id] = override.dnd_status
        overridden.add(key)
    return state, overridden


class _Diff:
    """Reads the actual state and turns each difference from the plan into a Change."""

    def __init__(self, snapshot, desired, overridden, at, result):
        self.snapshot, self.desired, self.overridden, self.at, self.result = snapshot, desired, overridden, at, result
        self.changes: list[Change] = []
        self.drift_noted: list[Change] = []  # drift left alone because the queue does not enforce
        self.observed: list[QueueMembership | Agent] = []  # every record whose value was read
        self.seen: dict = {}  # (queue id, agent id) or agent id -> the value read

    def queues(self, provider: Provider):
        by_queue: dict[str, dict[str, bool]] = {}
        for (queue_id, agent_id), accept in self.desired.accept.items():
            by_queue.setdefault(queue_id, {})[agent_id] = accept
        queues = _by_provider_id(CallQueue, by_queue)
        agents = _by_provider_id(Agent, {a for wanted in by_queue.values() for a in wanted})
        memberships = {
            (m.queue.provider_id, m.agent.provider_id): m
            for m in QueueMembership.objects.filter(queue__in=queues.values()).select_related("queue", "agent")
        }
        for queue_id, wanted in sorted(by_queue.items()):
            try:
                actual = provider.read_queue_presence(queue_id)
            except ProviderError as error:
                self.result.problems.append(f"queue {queue_id}: read failed: {error}")
                continue
            for agent_id, accept in sorted(wanted.items()):
                if agent_id not in actual:
                    self.result.problems.append(f"queue {queue_id}: agent {agent_id} is not a member at the provider")
                    continue
                key = (queue_id, agent_id)
                membership = memberships.get(key) or QueueMembership(queue=queues[queue_id], agent=agents[agent_id])
                self._compare(membership, key, actual[agent_id], accept, membership.queue.enforce)

    def _compare(self, record, key, actual, wanted, enforce):
        """Decide what one value needs; `record` is the membership or agent that remembers it."""
        planned, last_seen = _planned(record), _seen(record)
        self.seen[key] = actual
        _remember_seen(record, actual, self.at)
        self.observed.append(record)
        if actual == wanted:
            _remember_plan(record, wanted)
            return
        is_dnd = isinstance(record, Agent)
        agent, queue = (record, None) if is_dnd else (record.agent, record.queue)
        field_name = DND_FIELD if is_dnd else QUEUE_FIELD
        if planned != wanted:
            reason = MANUAL_OVERRIDE if key in self.overridden else self._why(agent, queue, wanted)
        elif enforce or key in self.overridden:
            reason = DRIFT
        else:
            if actual != last_seen:  # note the drift once, when it first appears
                self.drift_noted.append(Change(agent, queue, actual, wanted, "drift", field_name, outcome="skipped"))
            return
        self.changes.append(Change(agent, queue, actual, wanted, reason, field_name, record=record))

    def _why(self, agent, queue, wanted) -> str:
        on = wanted is True or wanted == "TakeAllCalls"
        return explain(self.snapshot, self.at, agent.provider_id, queue.provider_id if queue else None, on)

    def dnd(self, provider: Provider):
        if not self.desired.dnd:
            return
        agents = _by_provider_id(Agent, self.desired.dnd)
        try:
            actual = provider.read_dnd(sorted(self.desired.dnd))
        except ProviderError as error:
            self.result.problems.append(f"DnD read failed: {error}")
            return
        for agent_id, wanted in sorted(self.desired.dnd.items()):
            if agent_id not in actual:
                self.result.problems.append(f"agent {agent_id}: DnD status not returned by the provider")
                continue
            self._compare(agents[agent_id], agent_id, actual[agent_id], wanted, enforce=True)


def _by_provider_id(model, ids) -> dict:
    return {o.provider_id: o for o in model.objects.filter(provider_id__in=list(ids))}


# A membership remembers its queue status, an agent its DnD: the same four questions of each.
def _planned(record):
    return (record.dnd_planned or None) if isinstance(record, Agent) else record.planned


def _seen(record):
    return (record.dnd_status or None) if isinstance(record, Agent) else record.accepting


def _remember_plan(record, wanted):
    if isinstance(record, Agent):
        record.dnd_planned = wanted
    else:
        record.planned = wanted


def _remember_seen(record, value, at=None):
    if isinstance(record, Agent):
        record.dnd_status = value
        record.dnd_observed_at = at or record.dnd_observed_at
    else:
        record.accepting = value
        record.observed_at = at or record.observed_at


def write_plan(changes: list[Change]) -> list[tuple[str, str, list[Change]]]:
    """Group queue changes into the fewest calls: ('queue', id, changes) or ('agent', id, changes).

    A pair whose queue does not let members edit their status must travel in the queue's call.
    """
    forced = {c.queue.provider_id for c in changes if not c.queue.editable_member_status}
    free = [(c.queue.provider_id, c.agent.provider_id) for c in changes if c.queue.provider_id not in forced]
    queue_ids, agent_ids = min_vertex_cover(free)
    queue_ids |= forced
    calls: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        queue_id = change.queue.provider_id
        key = ("queue", queue_id) if queue_id in queue_ids else ("agent", change.agent.provider_id)
        calls.setdefault(key, []).append(change)
    return [(kind, target, group) for (kind, target), group in sorted(calls.items())]


def _calls(changes: list[Change]) -> list[tuple[str, str, list[Change]]]:
    """Every call to make: the fewest for queue membership changes, then one per DnD change."""
    calls = write_plan([c for c in changes if c.queue is not None])
    return calls + [("dnd", c.agent.provider_id, [c]) for c in changes if c.queue is None]


def _write(provider: Provider, calls, result: Result, actor):
    """Send every call and audit it at once; a failed call marks its own changes and never stops the others."""
    for number, (kind, target, group) in enumerate(calls, start=1):
        send, label, field_name = _CALLS[kind]
        for change in group:
            change.field = field_name
            change.api_call = f"{label.format(target)} #{result.run.pk}.{number}"
        result.writes += 1
        PendingWrite.objects.bulk_create(_pending_row(c, result.run, actor) for c in group)
        try:
            send(provider, target, group)
        except ProviderError as error:
            log.warning("write failed: %s: %s", label.format(target), error)
            for change in group:
                change.outcome, change.error_code, change.error_message = "failed", error.code, error.message[:500]
        else:
            for change in group:
                change.outcome = "applied"
                _remember_plan(change.record, change.new)
                _remember_seen(change.record, change.new)
        with transaction.atomic():
            AuditEntry.objects.bulk_create(_audit_row(c, result.run, actor) for c in group)
            PendingWrite.objects.filter(api_call=group[0].api_call).delete()


def _pending_row(change: Change, run, actor) -> PendingWrite:
    return PendingWrite(
        run=run,
        actor=actor,
        queue=change.queue,
        agent=change.agent,
        field=change.field,
        old_value=_text(change.old),
        new_value=_text(change.new),
        reason=change.reason,
        api_call=change.api_call,
    )


def _resolve_interrupted(seen: dict, run: ReconcileRun):
    """Audit the writes of a run that was cut off between sending a call and hearing back.

    What was read now tells whether each one landed; a write whose value was not read
    this time waits for a later run.
    """
    for pending in PendingWrite.objects.select_related("queue", "agent"):
        agent_id = pending.agent.provider_id
        key = (pending.queue.provider_id, agent_id) if pending.queue else agent_id
        if key not in seen:
            continue
        landed = _text(seen[key]) == pending.new_value
        AuditEntry.objects.create(
            actor=pending.actor,
            run=pending.run,
            reason=pending.reason,
            queue=pending.queue,
            agent=pending.agent,
            field=pending.field,
            old_value=pending.old_value,
            new_value=pending.new_value,
            outcome="applied" if landed else "failed",
            error_code="" if landed else "INTERRUPTED",
            error_message=f"the run was cut off before the provider answered; run {run.pk} read the value back",
            api_call=pending.api_call,
        )
        pending.delete()


_CALLS = {
    "queue": (
        lambda p, queue_id, group: p.write_queue_presence(queue_id, {c.agent.provider_id: c.new for c in group}),
        "PUT call-queues/{}/presence",
        QUEUE_FIELD,
    ),
    "agent": (
        lambda p, agent_id, group: p.write_agent_queue_presence(agent_id, {c.queue.provider_id: c.new for c in group}),
        "PUT extension/{}/call-queue-presence",
        AGENT_FIELD,
    ),
    "dnd": (lambda p, agent_id, group: p.write_dnd(agent_id, group[0].new), "PUT extension/{}/presence", DND_FIELD),
}


@transaction.atomic
def _record(result: Result, diff: _Diff, actor):
    """Store what was seen: drift left alone, last known state, the run's totals."""
    AuditEntry.objects.bulk_create(_audit_row(c, result.run, actor) for c in diff.drift_noted)
    memberships = [r for r in diff.observed if isinstance(r, QueueMembership)]
    known = [m for m in memberships if m.pk]
    QueueMembership.objects.bulk_create([m for m in memberships if not m.pk])
    QueueMembership.objects.bulk_update(known, ["accepting", "observed_at", "planned"])
    agents = [r for r in diff.observed if isinstance(r, Agent)]
    Agent.objects.bulk_update(agents, ["dnd_status", "dnd_observed_at", "dnd_planned"])
    run = result.run
    run.finished_at, run.writes, run.problems = timezone.now(), result.writes, result.problems
    run.failures = sum(c.outcome == "failed" for c in result.changes)
    run.save()


def _audit_row(change: Change, run, actor) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        run=run,
        reason=change.reason,
        queue=change.queue,
        agent=change.agent,
        field=change.field,
        old_value=_text(change.old),
        new_value=_text(change.new),
        outcome=change.outcome,
        error_code=change.error_code,
        error_message=change.error_message,
        api_call=change.api_call,
    )


def _text(value) -> str:
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
