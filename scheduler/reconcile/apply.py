"""The one write path: every provider write, for the reconciler and for overrides alike.

pending row -> send -> audit row -> remember, in that order, every time. A process killed
after sending leaves its pending row behind, and so does a write whose answer never came
(a timeout, a connection dropped after sending): its outcome is unknown, and it is audited
so. The next run that reads the value audits what really happened (`resolve_interrupted`),
and nothing more is sent to a value with a write pending until it has been read back, so the
same write is never sent twice without a read between.
"""

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from integrations.base import Provider, ProviderError
from queues.models import ActualSource, AuditEntry, AuditField, PendingWrite, ReconcileRun

from .diff import Change, Memory, Target, Value
from .fewest_calls import Call
from .memory import Directory

log = logging.getLogger(__name__)

INTERRUPTED = "INTERRUPTED"  # the error code of a pending write that a read showed had not landed
UNSETTLED = "UNSETTLED"  # a write not sent: an earlier one to the same value is unknown and could not be read
LEASE_LOST = "LEASE_LOST"  # a write not sent: the run stalled, its lease lapsed, and another run may hold it


def send_calls(
    provider: Provider,
    calls: list[Call],
    directory: Directory,
    *,
    run: ReconcileRun | None,
    actor,
    tag: str,
    numbered: bool = False,
    fence: Callable[[], bool] | None = None,
) -> int:
    """Send each call and audit it at once; a failed call marks its own changes and never stops the others.

    Each audit row names the call as the provider labels it, then `tag`, then with `numbered` the
    call's number in this batch. A call to a value whose earlier write is still pending reads it
    back first, and is not sent if that read fails. With `fence` (whether the run still holds its
    leases), no call is sent once it says no: another run may be writing those values now.
    """
    unsettled = {_target(p) for p in _pending(provider)}
    lost: ProviderError | None = None
    for number, call in enumerate(calls, start=1):
        label, _ = provider.calls[call.kind]
        api_call = f"{label.format(call.target_id)} {tag}" + (f".{number}" if numbered else "")
        for change in call.changes:
            change.call, change.api_call = call.kind, api_call
        if lost is None and fence is not None and not fence():
            log.warning("run %s lost its leases; %s calls not sent", tag, len(calls) - number + 1)
            lost = ProviderError(
                "not sent: this run was held up past its lease, and another run may now be writing this value; "
                "that run, or the next, writes what is still needed",
                code=LEASE_LOST,
            )
        error = lost or _settle(provider, unsettled & {c.target for c in call.changes}, run=run)
        if error is None:
            PendingWrite.objects.bulk_create(_row(PendingWrite, c, provider, directory, run=run, actor=actor)
                                             for c in call.changes)  # fmt: skip
            error = _send(provider, call)
        outcome = "applied" if error is None else "unknown" if error.outcome_unknown else "failed"
        for change in call.changes:
            change.outcome, change.error = outcome, error
        with transaction.atomic():
            AuditEntry.objects.bulk_create(_row(AuditEntry, c, provider, directory, run=run, actor=actor,
                                                outcome=c.outcome, error_code=c.error_code,
                                                error_message=c.error_message) for c in call.changes)  # fmt: skip
            if outcome != "unknown":  # an unknown write stays pending until a read tells what became of it
                PendingWrite.objects.filter(api_call=api_call).delete()
            # A write that landed is the value as of now: a read sent before it is older and must not overwrite it.
            landed = timezone.now()
            applied = {c.target: Memory(c.new, landed, c.new) for c in call.changes if c.outcome == "applied"}
            directory.store(applied, source=ActualSource.WRITTEN)
    return len(calls)


def _settle(provider: Provider, pending: set[Target], *, run: ReconcileRun | None) -> ProviderError | None:
    """Read back values that have a write pending and audit what became of it, before anything more is sent.

    None when nothing is pending any more; else the error that kept a pending value from being read.
    """
    if not pending:
        return None
    try:
        seen = _read_back(provider, pending)
    except ProviderError as error:
        return ProviderError(
            f"an earlier write to this value has an unknown outcome and could not be read back, so nothing was sent: "
            f"{error}",
            code=UNSETTLED,
        )
    resolve_interrupted(seen, provider, run)
    return None


def _read_back(provider: Provider, wanted: set[Target]) -> dict[Target, Value]:
    """The provider's current value of each target: one read per queue, one batched read for DnD."""
    seen: dict[Target, Value] = {}
    for queue_id in {t.queue_id for t in wanted if not t.is_dnd}:
        presence = provider.read_queue_presence(queue_id)
        seen |= {t: presence[t.agent_id] for t in wanted if t.queue_id == queue_id and t.agent_id in presence}
    dnd_ids = sorted(t.agent_id for t in wanted if t.is_dnd)
    if dnd_ids:
        dnd = provider.read_dnd(dnd_ids)
        seen |= {Target(a): dnd[a] for a in dnd_ids if a in dnd}
    return seen


def _send(provider: Provider, call: Call) -> ProviderError | None:
    try:
        if call.kind == "queue":
            provider.write_queue_presence(call.target_id, {c.target.agent_id: bool(c.new) for c in call.changes})
        elif call.kind == "agent":
            provider.write_agent_queue_presence(call.target_id, {c.target.queue_id: bool(c.new) for c in call.changes})
        else:
            provider.write_dnd(call.target_id, str(call.changes[0].new))
    except ProviderError as error:
        label, _ = provider.calls[call.kind]
        log.warning("write failed: %s: %s", label.format(call.target_id), error)
        return error
    return None


def audit_noted(changes: list[Change], provider: Provider, directory: Directory, *, run, actor) -> None:
    """Audit changes that were decided but not sent (drift left alone, a cancel with nothing to write)."""
    AuditEntry.objects.bulk_create(
        _row(AuditEntry, c, provider, directory, run=run, actor=actor, outcome=c.outcome) for c in changes
    )


def resolve_interrupted(seen: dict[Target, Value], provider: Provider, run: ReconcileRun | None) -> None:
    """Audit the writes whose outcome is unknown: cut off, or unanswered, between sending and hearing back.

    What was read now tells whether each one landed; a write whose value was not read
    this time waits for a later run.
    """
    read_by = f"run {run.pk}" if run else "a read before the next write"
    for pending in _pending(provider):
        target = _target(pending)
        if target not in seen:
            continue
        landed = text(seen[target]) == pending.new_value
        with transaction.atomic():
            if not PendingWrite.objects.filter(pk=pending.pk).delete()[0]:
                continue  # settled meanwhile by another process
            AuditEntry.objects.create(
                actor=pending.actor,
                run=pending.run,
                reason=pending.reason,
                provider=provider.name,
                queue=pending.queue,
                agent=pending.agent,
                field=pending.field,
                old_value=pending.old_value,
                new_value=pending.new_value,
                outcome="applied" if landed else "failed",
                error_code="" if landed else INTERRUPTED,
                error_message=f"the provider's answer to this write never came; {read_by} read the value back",
                api_call=pending.api_call,
            )


def _pending(provider: Provider):
    return PendingWrite.objects.select_related("queue", "agent").filter(agent__provider=provider.name)


def _target(pending: PendingWrite) -> Target:
    return Target(pending.agent.provider_id, pending.queue.provider_id if pending.queue else "")


def _row(model, change: Change, provider: Provider, directory: Directory, **extra):
    """A pending or audit row for one change; the field in neutral words, the call in the provider's."""
    return model(
        reason=change.reason,
        queue=directory.queues.get(change.target.queue_id),
        agent=directory.agents[change.target.agent_id],
        field=AuditField.DND if change.target.is_dnd else AuditField.QUEUE_CALLS,
        old_value=text(change.old),
        new_value=text(change.new),
        api_call=change.api_call,
        **({"provider": provider.name} if model is AuditEntry else {}),
        **extra,
    )


def text(value) -> str:
    """A value as the audit stores it: booleans as true/false, nothing as empty."""
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
