"""The receptionist pages: My queues, and the forms that toggle a queue, step away and cancel an override.

Thin: each view checks that the login acts for its own agent, validates the form and calls one
function of scheduler.receptionist.selectors or scheduler.reconcile.overrides. Outcomes come back
as messages after a redirect. Every change, and every refused attempt, writes an audit row, so a
login may post only CHANGES_PER_MINUTE of them a minute; past that the answer is 429 and nothing is written.
"""

import logging
import unicodedata
from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from integrations.providers import default_provider
from queues.models import Agent, AuditEntry, AuditField, CallQueue
from queues.selectors import agent_of_login
from scheduler.post_limit import posts_per_minute
from scheduler.reconcile.overrides import cancel_override, place_override

from .forms import DURATIONS, PROVIDER_ID_LENGTH, AgentActionForm, AwayForm, CancelForm, ToggleForm
from .selectors import my_queues, others_taking_calls, short_if_stopped, would_leave_short

log = logging.getLogger(__name__)

REFUSED = "refused: not the user's own agent"
CHANGES_PER_MINUTE = 20  # far above a person's pace, far below a script's
QUOTED_LENGTH = 40  # of a posted value quoted in an audit row


bounded = posts_per_minute(AuditEntry, limit=CHANGES_PER_MINUTE, page=("queues:my_queues", "My queues"))


@login_required
def my_queues_page(request):
    agent = agent_of_login(request.user)
    if agent is None:
        return render(request, "queues/no_agent.html")
    page = my_queues(agent, provider=default_provider())
    chosen = getattr(request, "viewer_zone", None)
    if chosen is not None and chosen.source != "schedule":  # her own setting; else her shifts' zone
        page = replace(page, zone=chosen.tz)
    with timezone.override(page.zone):  # her times in her zone, for this response only
        return render(request, "queues/my_queues.html", {"page": page, "durations": DURATIONS})


@login_required
@require_POST
@bounded
def toggle(request):
    return _hold(request, ToggleForm)


@login_required
@require_POST
@bounded
def away(request):
    return _hold(request, AwayForm)


def _hold(request, form_class: type[AgentActionForm]):
    """Place the hold the form describes for her own agent, then back to her page."""
    agent, refused = _acting_agent(request)
    if refused:
        return refused
    form = form_class(request.POST, agent=agent)
    if form.is_valid():
        at = timezone.now()
        wanted = form.hold()
        if not form.cleaned_data["confirmed"] and (short := would_leave_short(agent, at=at, **wanted)):
            return _confirm(request, form, short)
        hold = place_override(
            agent=agent, actor=request.user, until=form.until(at), provider=default_provider(), at=at, **wanted
        )
        _report(request, hold)
        if hold.applied and wanted.get("accept") is False:
            _warn_if_short(request, agent, wanted["queue"], at)
    else:
        _form_errors(request, form)
    return redirect("queues:my_queues")


@login_required
@require_POST
@bounded
def cancel(request):
    agent, refused = _acting_agent(request)
    if refused:
        return refused
    form = CancelForm(request.POST, agent=agent)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("queues:my_queues")
    override = form.cleaned_data["override"]
    if override.agent_id != agent.pk:
        return _forbidden(request, override.agent, override.queue, what=f"cancel override #{override.pk}")
    _report(request, cancel_override(override, actor=request.user, provider=default_provider()))
    return redirect("queues:my_queues")


def _acting_agent(request):
    """(her agent, None), or (None, a 403 response) when the form names anyone else's agent."""
    agent = agent_of_login(request.user)
    if agent is None:
        return None, render(request, "queues/no_agent.html", status=403)
    posted = request.POST.get("agent", "")
    if posted != agent.provider_id:
        target = _named(Agent, posted)
        queue = _named(CallQueue, request.POST.get("queue", ""))
        return None, _forbidden(request, target, queue, what=f"act for agent {_printable(posted)!r}")
    return agent, None


def _named(model, provider_id: str):
    """The row a posted provider id names; None for a value no id can be (PostgreSQL refuses NUL in a query)."""
    if len(provider_id) > (PROVIDER_ID_LENGTH or 64) or any(unicodedata.category(c)[0] == "C" for c in provider_id):
        return None
    return model.objects.filter(provider_id=provider_id).first()


def _forbidden(request, target: Agent | None, queue: CallQueue | None, *, what: str):
    """403, and an audit row of the attempt: who tried what on whose behalf."""
    log.warning("user %s tried to %s", request.user.pk, what)
    AuditEntry.objects.create(
        actor=request.user,
        reason=REFUSED,
        agent=target,
        queue=queue,
        field=AuditField.DND if queue is None else AuditField.QUEUE_CALLS,
        new_value=_printable(request.POST.get("accept") or request.POST.get("status") or ""),
        outcome=AuditEntry.Outcome.SKIPPED,
        error_code="403",
        error_message=f"{request.user.get_username()} tried to {what}"[:500],
        api_call=f"POST {request.path}",
    )
    return render(request, "queues/forbidden.html", status=403)


def _printable(value: str) -> str:
    """A posted value fit for an audit row: control and invisible characters dropped, at most QUOTED_LENGTH long."""
    printable = "".join(c for c in value if unicodedata.category(c)[0] != "C")
    return printable if len(printable) <= QUOTED_LENGTH else printable[: QUOTED_LENGTH - 1] + "…"


def _confirm(request, form: AgentActionForm, short: list[str]):
    """The confirm step, before a change that leaves an open queue below its min staff; it works without JS."""
    posted = {name: request.POST.get(name, "") for name in ("agent", "queue", "accept", "status", "duration")}
    stopping = form.hold().get("queue")
    context = {
        "short": short,
        "posted": {k: v for k, v in posted.items() if k in form.fields},
        "action": request.path,
        "what": f"Stop taking {stopping.name} calls" if stopping else "Step away",
    }
    return render(request, "queues/confirm_short.html", context)


def _warn_if_short(request, agent: Agent, queue: CallQueue, at) -> None:
    others = others_taking_calls(agent, [queue]).get(queue.pk, 0)
    if warning := short_if_stopped(queue, others, at=at):
        messages.warning(request, f"You stopped taking {queue.name} calls. {warning}")


def _report(request, outcome):
    (messages.success if outcome.applied else messages.error)(request, outcome.message)


def _form_errors(request, form):
    for field, errors in form.errors.items():
        for error in errors:
            messages.error(request, f"{field}: {error}" if field != "__all__" else error)
