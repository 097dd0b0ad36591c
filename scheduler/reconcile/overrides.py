"""Overrides: a person's decision that beats the schedule until a set time, written to the provider at once.

The receptionist pages and the supervisors' admin both go through here. An override is a
one-change plan sent through the one write path (`apply.send_calls`), so it is recorded as
pending before it leaves and audited like any run's write. If the write fails the override
stays, the reconciler keeps trying, and the outcome says plainly that it has not taken effect.
"""

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from integrations.base import Provider, ProviderError
from integrations.providers import default_provider
from queues.models import Agent, CallQueue, DndStatus, Override
from scheduler.planning import MANUAL_OVERRIDE
from scheduler.selectors import AgentPlan, agent_plan

from .apply import audit_noted, send_calls
from .diff import Change, Target, Value
from .fewest_calls import Call
from .locks import LeaseBusy, lease_names, leases
from .memory import Directory

log = logging.getLogger(__name__)

CANCELLED = "manual override cancelled"
MAX_DEFAULT = timedelta(hours=24)
LEASE_WAIT = 2.0  # seconds to wait for a reconcile run on the same queue or agent before writing without its lease


@dataclass
class OverrideOutcome:
    override: Override
    applied: bool  # the provider confirmed the write
    message: str  # plain words for the page, e.g. "Done: you are taking Support calls until 12:00."
    error: ProviderError | None = None


def default_until(*, agent: Agent, at: datetime) -> datetime:
    """The agent's next schedule boundary after `at` (a shift of hers starting or ending, or her time off).

    Capped at 24 h.
    """
    return _next_boundary(agent_plan(agent, start=at - timedelta(days=2), end=at + MAX_DEFAULT), at)


def _next_boundary(plan: AgentPlan, at: datetime) -> datetime:
    return plan.next_transition(at) or at + MAX_DEFAULT


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

    Without `until` it lasts until the agent's next schedule boundary, at most 24 h. The audit
    row names `actor` and the reason "manual override".
    """
    at = at or timezone.now()
    plan = agent_plan(agent, start=at - timedelta(days=2), end=at + MAX_DEFAULT)
    until = until or _next_boundary(plan, at)
    override = Override(
        agent=agent, queue=queue, accept=accept, dnd_status=dnd_status, starts_at=at, until=until, created_by=actor
    )
    override.full_clean()  # the queue-xor-DnD rule and until > starts_at, as a ValidationError naming the field
    value: Value = accept if queue else dnd_status  # type: ignore[assignment]  # full_clean: accept is set with a queue
    with ExitStack() as stack:
        _pause_reconciler(stack, agent, queue)
        with transaction.atomic():
            # One override per value: the newest replaces any other still holding it.
            _holding_same(override, at).update(cancelled_at=at, cancelled_by=actor)
            override.save()
        error = _write(agent, queue, value, actor=actor, provider=provider, reason=MANUAL_OVERRIDE, override=override)
    what = _what(agent, queue, value, actor)
    when = _when(until, at, plan)
    if error is None:
        return OverrideOutcome(override, True, f"Done: {what} {when}.")
    keep = "Callrota will keep trying" if not error.permanent else "Callrota will keep trying, but this may need help"
    return OverrideOutcome(
        override, False, f"Not done: {error.describe()}. Your change is saved; {keep} {when}.", error
    )


def cancel_override(override: Override, *, actor, provider: Provider | None = None) -> OverrideOutcome:
    """Cancel it and write the schedule's value back at once (audited, reason "manual override cancelled")."""
    if override.cancelled_at is not None:
        return OverrideOutcome(override, False, "This override was already cancelled; nothing changed.")
    at = timezone.now()
    agent, queue = override.agent, override.queue
    with ExitStack() as stack:
        _pause_reconciler(stack, agent, queue)
        override.cancelled_at, override.cancelled_by = at, actor
        override.save(update_fields=["cancelled_at", "cancelled_by"])
        plan = agent_plan(agent, start=at - timedelta(days=2), end=at + MAX_DEFAULT)
        value = plan.value(at, queue.provider_id if queue else None)
        if value is None:
            _skip(agent, queue, actor=actor, provider=provider or default_provider())
            thing = queue.name if queue else "Do Not Disturb"
            return OverrideOutcome(
                override, True, f"Cancelled. The schedule does not manage {thing} here; it stays as is."
            )
        error = _write(agent, queue, value, actor=actor, provider=provider, reason=CANCELLED, override=override)
    what = _what(agent, queue, value, actor)
    if error is None:
        return OverrideOutcome(override, True, f"Cancelled: back on the schedule, {what}.")
    return OverrideOutcome(
        override,
        False,
        f"Cancelled, but the schedule's value did not take effect: {error.describe()}. "
        "The next scheduler run will try again.",
        error,
    )


def _pause_reconciler(stack: ExitStack, agent: Agent, queue: CallQueue | None):
    """Hold the lease of the overridden value (the queue's, or the agent's for DnD) while it changes and is written.

    Otherwise a run in flight on that queue or agent that read the overrides before this one
    existed could undo the write as drift. If a run holds the lease for long, write anyway: the
    next run heals.
    """
    try:
        stack.enter_context(leases(lease_names(agent.provider, [_target(agent, queue)]), wait=LEASE_WAIT))
    except LeaseBusy:
        log.info("a reconcile run is in progress; writing the override without waiting for it")


def _holding_same(override: Override, at: datetime):
    same = Override.objects.active(at).filter(agent=override.agent)
    return same.filter(queue=override.queue) if override.queue else same.filter(queue__isnull=True)


def _target(agent: Agent, queue: CallQueue | None) -> Target:
    return Target(agent.provider_id, queue.provider_id if queue else "")


def _write(agent, queue, value, *, actor, provider, reason, override) -> ProviderError | None:
    """Send one value through the write path; the agent's own call where members may change it."""
    provider = provider or default_provider()
    target = _target(agent, queue)
    directory = Directory.load(agent.provider, [target])
    old = directory.slots([target])[target].last_seen
    change = Change(target, old, value, reason)
    if queue is None:
        call = Call("dnd", agent.provider_id, [change])
    elif queue.editable_member_status:
        call = Call("agent", agent.provider_id, [change])
    else:  # members may not change it themselves: only the queue's own call can
        call = Call("queue", queue.provider_id, [change])
    send_calls(provider, [call], directory, run=None, actor=actor, tag=f"override #{override.pk}")
    return change.error


def _skip(agent: Agent, queue: CallQueue | None, *, actor, provider: Provider) -> None:
    """Audit a cancel that leaves the value as it is: the schedule does not manage it."""
    target = _target(agent, queue)
    change = Change(target, None, "", CANCELLED, outcome="skipped", call="dnd" if queue is None else "agent")
    audit_noted([change], provider, Directory.load(agent.provider, [target]), run=None, actor=actor)


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
