"""The one write path: every provider write, for the reconciler and for overrides alike.

pending row -> send -> audit row -> remember, in that order, every time. A process killed
after sending leaves its pending row behind, and the next run that reads the value audits
what really happened (`resolve_interrupted`).
"""

import logging

from django.db import transaction

from integrations.base import Provider, ProviderError
from queues.models import AuditEntry, AuditField, PendingWrite, ReconcileRun

from .diff import Change, Memory, Target, Value
from .fewest_calls import Call
from .memory import Directory

log = logging.getLogger(__name__)

INTERRUPTED = "INTERRUPTED"


def send_calls(
    provider: Provider, calls: list[Call], directory: Directory, *, run: ReconcileRun | None, actor, tag: str
) -> int:
    """Send each call and audit it at once; a failed call marks its own changes and never stops the others.

    Each audit row names the call as the provider labels it, then `tag` (numbered when several calls share it).
    """
    for number, call in enumerate(calls, start=1):
        label, _ = provider.calls[call.kind]
        api_call = f"{label.format(call.target_id)} {tag}" + (f".{number}" if len(calls) > 1 or run else "")
        for change in call.changes:
            change.call, change.api_call = call.kind, api_call
        PendingWrite.objects.bulk_create(_row(PendingWrite, c, provider, directory, run=run, actor=actor)
                                         for c in call.changes)  # fmt: skip
        error = _send(provider, call)
        for change in call.changes:
            change.outcome, change.error = ("applied", None) if error is None else ("failed", error)
        with transaction.atomic():
            AuditEntry.objects.bulk_create(_row(AuditEntry, c, provider, directory, run=run, actor=actor,
                                                outcome=c.outcome, error_code=c.error_code,
                                                error_message=c.error_message) for c in call.changes)  # fmt: skip
            PendingWrite.objects.filter(api_call=api_call).delete()
            directory.store({c.target: Memory(c.new, None, c.new) for c in call.changes if c.outcome == "applied"})
    return len(calls)


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


def resolve_interrupted(seen: dict[Target, Value], provider: Provider, run: ReconcileRun) -> None:
    """Audit the writes that were cut off between sending a call and hearing back.

    What was read now tells whether each one landed; a write whose value was not read
    this time waits for a later run.
    """
    for pending in PendingWrite.objects.select_related("queue", "agent").filter(agent__provider=provider.name):
        target = Target(pending.agent.provider_id, pending.queue.provider_id if pending.queue else "")
        if target not in seen:
            continue
        landed = text(seen[target]) == pending.new_value
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
            error_message=f"the write was cut off before the provider answered; run {run.pk} read the value back",
            api_call=pending.api_call,
        )
        pending.delete()


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
