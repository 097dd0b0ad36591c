"""Make the provider match the plan: plan -> read -> diff -> fewest calls -> write -> audit.

Level-triggered: every run reads the actual state and writes only the difference, so a
second run writes nothing and a late, missed or crashed run is healed by the next one.
"""

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from integrations.base import Provider, ProviderError
from queues.heard import heard_after, heard_since_live
from queues.models import ReconcileRun
from scheduler.planning import DesiredState, Snapshot, desired_state, explain
from scheduler.selectors import schedule_snapshot

from .apply import audit_noted, resolve_interrupted, send_calls
from .diff import Change, Memory, Target, Value, diff, held_targets, remembered, targets
from .fewest_calls import Call, fewest_calls
from .locks import lease_names, leases
from .memory import Directory

EPSILON = timedelta(microseconds=1)
# How early a boundary run may start and wait for its instant, with everything before its first write done.
LEAD = timedelta(seconds=2)


@dataclass
class Result:
    run: ReconcileRun | None
    at: datetime
    changes: list[Change] = field(default_factory=list)
    writes: int = 0
    problems: list[str] = field(default_factory=list)
    failed_reads: int = 0  # provider reads that failed: the values behind them were neither checked nor set
    calls: list[Call] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # call kind -> the provider's name for the field

    @property
    def failed(self) -> bool:
        return any(c.outcome == "failed" for c in self.changes)

    @property
    def ok(self) -> bool:
        """Everything was read, and every write is known to have landed."""
        return not self.failed_reads and all(c.outcome not in ("failed", "unknown") for c in self.changes)

    def as_json(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "ok": self.ok,
            "failed_reads": self.failed_reads,
            "writes": self.writes,
            "changes": [
                c.as_json(self.fields[c.call or ("dnd" if c.target.is_dnd else "queue")]) for c in self.changes
            ],
            "problems": self.problems,
        }


def reconcile_locked(
    *,
    provider: Provider,
    at: datetime | None = None,
    trigger: str,
    actor=None,
    boundary=None,
    wait=10.0,
    only: Collection[Target] | None = None,
) -> Result:
    """One run under the leases of the queues and agents it touches; the plan is computed after they are taken.

    A boundary run is planned for now, or for the boundary if it starts early (the dispatcher
    starts it up to LEAD ahead): then it plans, reads and diffs ahead and sends its first write at
    the boundary itself. With `only`, the run reads and writes those targets and no others.
    """
    planned_at = at or (max(timezone.now(), boundary) if boundary else timezone.now())
    scope = set(plan_at(provider, planned_at, boundary=boundary, only=only)[1])
    with leases(lease_names(provider.name, scope), wait=wait) as held:
        now = timezone.now()
        early = at is None and boundary is not None and now < boundary
        at = at or (max(now, boundary) if boundary else now)
        # A value the plan took on after the leases were chosen is left to the next run: it is not ours to touch.
        return reconcile(
            provider=provider,
            at=at,
            trigger=trigger,
            actor=actor,
            boundary=boundary,
            only=scope,
            write_from=boundary if early else None,
            fence=held.still_ours,
        )


def reconcile(
    *,
    provider: Provider,
    at: datetime,
    trigger: str,
    dry_run: bool = False,
    actor=None,
    boundary=None,
    only: Collection[Target] | None = None,
    write_from: datetime | None = None,
    fence: Callable[[], bool] | None = None,
) -> Result:
    """Plan at `at`, read the provider, write the difference in the fewest calls, audit every change.

    With `boundary`, only the values that change at that instant are read and written: a
    boundary run touches a few queues at once, and the rolling sweep covers the rest. With
    `only`, no target outside it is read or written. With `write_from`, nothing is sent before
    then (at most LEAD from now): the run prepares its calls and waits. A dry run returns the
    calls it would make and creates no run row. With `fence`, no call is sent once it says the
    run's leases are no longer its own.
    """
    result = Result(None, at, fields={kind: name for kind, (_, name) in provider.calls.items()})
    if not dry_run:
        result.run = ReconcileRun.objects.create(at=at, trigger=trigger)
    try:
        _reconcile(
            result, provider, boundary=boundary, dry_run=dry_run, actor=actor, only=only, write_from=write_from,
            fence=fence,
        )  # fmt: skip
    except BaseException as error:  # a time limit, a crash: the run is over, and its row says so
        if result.run is not None:
            _record_stopped(result, error)
        raise
    return result


def plan_at(
    provider: Provider, at: datetime, *, boundary, only: Collection[Target] | None
) -> tuple[Snapshot, dict[Target, Value], DesiredState]:
    """The plan at `at`: the snapshot, the values to make true (a boundary's changes, within `only`), the state.

    The one place a run, its leases and the sweep learn what is managed.
    """
    window_start = min(at, boundary - EPSILON) if boundary else at
    snapshot = schedule_snapshot(start=window_start, end=at + EPSILON, provider=provider.name)
    state = desired_state(snapshot, at)
    if boundary:
        changed = _changed(desired_state(snapshot, boundary - EPSILON), desired_state(snapshot, boundary))
        wanted = targets(state, among=changed)
    else:
        wanted = targets(state)
    if only is not None:
        wanted = {t: v for t, v in wanted.items() if t in only}
    return snapshot, wanted, state


def _reconcile(result: Result, provider: Provider, *, boundary, dry_run: bool, actor, only, write_from, fence) -> None:
    at = result.at
    snapshot, wanted, state = plan_at(provider, at, boundary=boundary, only=only)
    directory = Directory.load(provider.name, wanted)
    wanted = {t: v for t, v in wanted.items() if directory.knows(t)}
    held, why = held_targets(state), _why(snapshot, at)
    read_from, actual, found = _read_and_diff(result, provider, wanted, directory, held, why, snapshot.problems)
    if dry_run:
        result.writes = len(result.calls)
        return
    if write_from is not None:
        _sleep_until(write_from)
        if heard_after(provider.name, ((t.agent_id, t.queue_id) for t in wanted), read_from):
            # Someone changed a value while the run waited: what it read is old, so read (or hear) again.
            read_from, actual, found = _read_and_diff(result, provider, wanted, directory, held, why, snapshot.problems)
    run = result.run
    assert run is not None  # created for every run that writes
    resolve_interrupted(actual, provider, run)
    result.writes = send_calls(
        provider, result.calls, directory, run=run, actor=actor, tag=f"#{run.pk}", numbered=True, fence=fence
    )
    memory = _unless_heard_since(remembered(wanted, actual, found.changes, at), provider.name, read_from)
    _record(result, found.noted, provider, directory, memory, actor)


def _read_and_diff(result: Result, provider: Provider, wanted, directory: Directory, held, why, problems):
    """Read the wanted values and find the calls that make them true: when the read began, what it read, the diff."""
    result.problems = list(problems)
    read_from = timezone.now()
    actual, result.failed_reads = read_actual(provider, wanted, result.problems)
    found = diff(wanted, actual, directory.slots(actual), held=held, why=why)
    result.changes = found.changes
    result.calls = fewest_calls(found.changes, member_editable=lambda q: directory.queues[q].editable_member_status)
    return read_from, actual, found


def _sleep_until(instant: datetime) -> None:
    """Wait for `instant`, never longer than LEAD: a clock that disagrees by more sends at once, as before."""
    time.sleep(max(0.0, min((instant - timezone.now()).total_seconds(), LEAD.total_seconds())))


def read_actual(
    provider: Provider, wanted: dict[Target, Value], problems: list[str]
) -> tuple[dict[Target, Value], int]:
    """Read every wanted value from the provider: one read per queue, one (batched) read for DnD.

    A value the listener heard in its live session is the actual state already, and is not read.
    A read that fails, or a value the provider lacks, is a problem of the run, never a guess.
    Returns the values read (and heard) and how many reads failed.
    """
    heard = heard_since_live(provider.name, ((t.agent_id, t.queue_id) for t in wanted))
    actual: dict[Target, Value] = {Target(*pair): value for pair, value in heard.items()}
    failed = 0
    by_queue: dict[str, list[str]] = {}
    for target in wanted:
        if target in actual:
            continue
        if not target.is_dnd:
            by_queue.setdefault(target.queue_id, []).append(target.agent_id)
    for queue_id, agent_ids in by_queue.items():
        try:
            presence = provider.read_queue_presence(queue_id)
        except ProviderError as error:
            if error.blocks_every_call:  # a refused login: one clear problem, not one a queue
                problems.append(error.user_message)
                return actual, failed + 1
            problems.append(f"queue {queue_id}: read failed: {error}")
            failed += 1
            continue
        for agent_id in agent_ids:
            if agent_id in presence:
                actual[Target(agent_id, queue_id)] = presence[agent_id]
            else:
                problems.append(f"queue {queue_id}: agent {agent_id} is not a member at the provider")
    dnd_ids = sorted(t.agent_id for t in wanted if t.is_dnd and t not in actual)
    if dnd_ids:
        try:
            dnd = provider.read_dnd(dnd_ids)
        except ProviderError as error:
            problems.append(f"DnD read failed: {error}")
            return actual, failed + 1
        for agent_id in dnd_ids:
            if agent_id in dnd:
                actual[Target(agent_id)] = dnd[agent_id]
            else:
                why = getattr(dnd, "failures", {}).get(agent_id)  # a batch part's own error (Readings)
                problems.append(f"agent {agent_id}: DnD status not returned by the provider{f': {why}' if why else ''}")
    return actual, failed


def _unless_heard_since(memory: dict[Target, Memory], provider: str, since: datetime) -> dict[Target, Memory]:
    """What a run remembers, less the values the listener heard while it ran: those are newer than its read."""
    newer = heard_after(provider, ((t.agent_id, t.queue_id) for t in memory), since)
    return {t: m for t, m in memory.items() if (t.agent_id, t.queue_id) not in newer}


def _changed(before: DesiredState, after: DesiredState) -> set[Target]:
    """Targets whose desired value differs between two states (compared as the states hold them: a boundary
    run compares thousands of values and keeps a few)."""
    accept = before.accept.keys() | after.accept.keys()
    dnd = before.dnd.keys() | after.dnd.keys()
    return {Target(a, q) for q, a in accept if before.accept.get((q, a)) != after.accept.get((q, a))} | {
        Target(a) for a in dnd if before.dnd.get(a) != after.dnd.get(a)
    }


def _why(snapshot: Snapshot, at: datetime):
    def why(target: Target, wanted: Value) -> str:
        on = wanted is True or wanted == "TakeAllCalls"
        return explain(snapshot, at, target.agent_id, target.queue_id or None, on)

    return why


@transaction.atomic
def _record(result: Result, noted: list[Change], provider: Provider, directory: Directory, memory, actor) -> None:
    """Store what was seen: drift left alone, last known state, the run's totals."""
    run = result.run
    assert run is not None  # a dry run records nothing
    audit_noted(noted, provider, directory, run=run, actor=actor)
    directory.store(memory)
    run.finished_at, run.writes, run.problems = timezone.now(), result.writes, result.problems
    run.failures = sum(c.outcome == "failed" for c in result.changes)
    run.save()


def _record_stopped(result: Result, error: BaseException) -> None:
    """Close the row of a run cut short, saying why; the next run reads and heals what it left."""
    run = result.run
    assert run is not None
    why = "it ran out of time (the task's time limit)" if isinstance(error, SoftTimeLimitExceeded) else repr(error)
    run.finished_at = timezone.now()
    run.problems = [*result.problems, f"the run stopped before it finished: {why}"]
    run.writes = len({c.api_call for c in result.changes if c.outcome != "planned"})
    run.failures = sum(c.outcome == "failed" for c in result.changes)
    run.save()
