"""Overrides: a person's decision that beats the schedule until a set time, written to the provider at once.

The receptionist pages and the supervisors' admin both go through here. The write leaves
immediately; if it fails the override stays, the reconciler keeps trying, and the outcome
says plainly that the change has not taken effect.
"""

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from integrations.base import Provider, ProviderError
from integrations.providers import default_provider
from scheduler.locks import LeaseBusy, lease
from scheduler.reconcile import AGENT_FIELD, DND_FIELD, MANUAL_OVERRIDE, QUEUE_FIELD

from .models import Agent, AuditEntry, CallQueue, DndStatus, Override, QueueMembership
from .selectors import AgentPlan, agent_plan

log = logging.getLogger(__name__)

CANCELLED = "manual override cancelled"
MAX_DEFAULT = timedelta(hours=24)
LEASE_WAIT = 2.0  # seconds to wait for a reconcile run in flight before writing without its lease

# RingCentral's error codes, then HTTP statuses, in words a receptionist can act on.
ERROR_WORDS = {
    "CMN-101": "RingCentral refused the request as malformed",
    "CMN-102": "the queue or extension does not exist at RingCentral",
    "CMN-201": "RingCentral is busy, we will retry",
    "CMN-211": "RingCentral had an internal error, we will retry",
    "CMN-301": "RingCentral is busy, we will retry",
    "CMN-408": "RingCentral does not allow this change (no permission, or the queue does not let members change it)",
    "OAU-213": "Callrota's sign-in to RingCentral expired, we will retry",
}
STATUS_WORDS = {
    400: "RingCentral refused the request as malformed",
    401: "Callrota could not sign in to RingCentral; tell your supervisor",
    403: "RingCentral does not allow this change (no permission)",
    404: "the queue or extension does not exist at RingCentral",
    429: "RingCentral is busy, we will retry",
    500: "RingCentral had an internal error, we will retry",
    502: "RingCentral is busy, we will retry",
    503: "RingCentral is busy, we will retry",
    504: "RingCentral is busy, we will retry",
}


@dataclass
class OverrideOutcome:
    override: Override
    applied: bool  # the provider confirmed the write
    message: str  # plain words for the page, e.g. "Done: you are taking Support calls until 12:00."
    error: ProviderError | None = None


def describe_error(error: ProviderError) -> str:
    """A provider error in plain words, with its code and status for the supervisor who looks further."""
    words = ERROR_WORDS.get(error.code) or STATUS_WORDS.get(error.status)
    if words is None:
        words = "RingCentral could not be reached, we will retry" if error.status is None else "RingCentral refused it"
        if error.permanent:
            words = f"RingCentral refused it: {error.message}"
    detail = ", ".join(p for p in (error.code, f"HTTP {error.status}" if error.status else "") if p)
    return f"{words} ({detail})" if detail else words


def default_until(*, agent: Agent, at: datetime) -> datetime:
    """The agent's next schedule boundary after `at` (a shift of theirs starting or ending, or their time off).

    Capped at 24 h.
    """
    return agent_plan(agent, start=at, end=at + MAX_DEFAULT).next_transition(at) or at + MAX_DEFAULT


def place_override(
    *,
    agent: Agent,
    actor,
    until: datetime | None = None,
    queue: CallQueue | None = None,
    accept: bool | None = None,
    dnd_status: str = "",
    provider: Provider | None = None,
    at: datetime | None = None,
) -> OverrideOutcome:
    """Create the override (queue + accept, or DnD), write it to the provider at once, audit it.

    The audit row names `actor` and the reason "manual override".
    """
    at = at or timezone.now()
    plan = agent_plan(agent, start=at - timedelta(days=2), end=at + MAX_DEFAULT)
    until = until or plan.next_transition(at) or at + MAX_DEFAULT
    override = Override(
        agent=agent, queue=queue, accept=accept, dnd_status=dnd_status, starts_at=at, until=until, created_by=actor
    )
    override.full_clean()  # the queue-xor-DnD rule and until > starts_at, as a ValidationError naming the field
    value = accept if queue else dnd_status
    with ExitStack() as stack:
        _pause_reconciler(stack)
        with transaction.atomic():
            # One override per value: the newest replaces any other still holding it.
            _holding_same(override, at).update(cancelled_at=at, cancelled_by=actor)
            override.save()
        error = _write(
            agent, queue, value, actor=actor, provider=provider, reason=MANUAL_OVERRIDE, at=at, override=override
        )
    what = _what(agent, queue, value, actor)
    when = _when(until, at, plan)
    if error is None:
        return OverrideOutcome(override, True, f"Done: {what} {when}.")
    keep = "Callrota will keep trying" if not error.permanent else "Callrota will keep trying, but this may need help"
    return OverrideOutcome(
        override, False, f"Not done: {describe_error(error)}. Your change is saved; {keep} {when}.", error
    )


def cancel_override(override: Override, *, actor, provider: Provider | None = None) -> OverrideOutcome:
    """Cancel it and write the schedule's value back at once (audited, reason "manual override cancelled")."""
    if override.cancelled_at is not None:
        return OverrideOutcome(override, False, "This override was already cancelled; nothing changed.")
    at = timezone.now()
    agent, queue = override.agent, override.queue
    plan = agent_plan(agent, start=at - timedelta(days=2), end=at + MAX_DEFAULT)
    value = plan.value(at, queue.provider_id if queue else None)
    with ExitStack() as stack:
        _pause_reconciler(stack)
        override.cancelled_at, override.cancelled_by = at, actor
        override.save(update_fields=["cancelled_at", "cancelled_by"])
        if value is None:
            _audit(agent, queue, None, None, actor=actor, reason=CANCELLED, outcome=AuditEntry.Outcome.SKIPPED)
            thing = queue.name if queue else "Do Not Disturb"
            return OverrideOutcome(
                override, True, f"Cancelled. The schedule does not manage {thing} here; it stays as is."
            )
        error = _write(agent, queue, value, actor=actor, provider=provider, reason=CANCELLED, at=at, override=override)
    what = _what(agent, queue, value, actor)
    if error is None:
        return OverrideOutcome(override, True, f"Cancelled: back on the schedule, {what}.")
    return OverrideOutcome(
        override,
        False,
        f"Cancelled, but the schedule's value did not take effect: {describe_error(error)}. "
        "The next scheduler run will try again.",
        error,
    )


def _pause_reconciler(stack: ExitStack):
    """Hold the reconciler's lease while an override changes and is written.

    Otherwise a run in flight that read the overrides before this one existed could undo the
    write as drift. If a run holds the lease for long, write anyway: the next run heals.
    """
    try:
        stack.enter_context(lease("reconcile", wait=LEASE_WAIT))
    except LeaseBusy:
        log.info("a reconcile run is in progress; writing the override without waiting for it")


def _holding_same(override: Override, at: datetime):
    same = Override.objects.active(at).filter(agent=override.agent)
    return same.filter(queue=override.queue) if override.queue else same.filter(queue__isnull=True)


def _write(agent, queue, value, *, actor, provider, reason, at, override) -> ProviderError | None:
    """Send one value to the provider now, audit it, and remember it so the next reconcile run writes nothing."""
    provider = provider or default_provider()
    record = _record(agent, queue)
    old = (record.dnd_status or None) if queue is None else record.accepting
    if queue is None:
        field, call = DND_FIELD, f"PUT extension/{agent.provider_id}/presence"
        send = lambda: provider.write_dnd(agent.provider_id, value)  # noqa: E731
    elif queue.editable_member_status:
        field, call = AGENT_FIELD, f"PUT extension/{agent.provider_id}/call-queue-presence"
        send = lambda: provider.write_agent_queue_presence(agent.provider_id, {queue.provider_id: value})  # noqa: E731
    else:  # members may not change it themselves: only the queue's own call can
        field, call = QUEUE_FIELD, f"PUT call-queues/{queue.provider_id}/presence"
        send = lambda: provider.write_queue_presence(queue.provider_id, {agent.provider_id: value})  # noqa: E731
    try:
        send()
    except ProviderError as error:
        log.warning("override %s: %s failed: %s", override.pk, call, error)
        _audit(agent, queue, old, value, actor=actor, reason=reason, outcome="failed", field=field,
               api_call=f"{call} override #{override.pk}", error=error)  # fmt: skip
        return error
    with transaction.atomic():
        _remember(record, value, at)
        _audit(agent, queue, old, value, actor=actor, reason=reason, outcome="applied", field=field,
               api_call=f"{call} override #{override.pk}")  # fmt: skip
    return None


def _record(agent: Agent, queue: CallQueue | None):
    """The row that remembers the value: the agent for DnD, else the membership (made if missing)."""
    if queue is None:
        return agent
    membership, _ = QueueMembership.objects.get_or_create(agent=agent, queue=queue)
    return membership


def _remember(record, value, at):
    if isinstance(record, Agent):
        record.dnd_status, record.dnd_observed_at, record.dnd_planned = value, at, value
        record.save(update_fields=["dnd_status", "dnd_observed_at", "dnd_planned"])
    else:
        record.accepting, record.observed_at, record.planned = value, at, value
        record.save(update_fields=["accepting", "observed_at", "planned"])


def _audit(agent, queue, old, new, *, actor, reason, outcome, field="", api_call="", error=None):
    field = field or (DND_FIELD if queue is None else AGENT_FIELD)
    AuditEntry.objects.create(
        actor=actor,
        reason=reason,
        provider=agent.provider,
        queue=queue,
        agent=agent,
        field=field,
        old_value=_text(old),
        new_value=_text(new),
        outcome=outcome,
        error_code=(error.code or (str(error.status) if error.status else "")) if error else "",
        error_message=error.message[:500] if error else "",
        api_call=api_call,
    )


def _text(value) -> str:
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _what(agent: Agent, queue: CallQueue | None, value, actor) -> str:
    """'you are taking Support calls', or '<name> is ...' when a supervisor acts for her."""
    subject = "you are" if actor is not None and actor.pk == agent.user_id else f"{agent.name} is"
    if queue is not None:
        return f"{subject} {'taking' if value else 'not taking'} {queue.name} calls"
    if value == DndStatus.TAKE_ALL_CALLS:
        return f"{subject} back, taking all calls"
    return f"{subject} away ({DndStatus(value).label.lower()})"


def _when(until: datetime, at: datetime, plan: AgentPlan) -> str:
    """'until 12:00, when Support mornings ends', in the zone her shifts are in."""
    local, today = until.astimezone(plan.zone), at.astimezone(plan.zone).date()
    shown = f"{local:%H:%M}" if local.date() == today else f"{local:%a %H:%M}"
    why = plan.transitions.get(until)
    return f"until {shown}, when {why}" if why else f"until {shown}"
