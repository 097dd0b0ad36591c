"""My schedule: an agent's shifts for the next weeks and her requests. Thin: forms in, one service each.

Plain forms and redirects, no JavaScript: it works on any phone. Outcomes come back as messages.
"""

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from queues.models import Agent
from queues.selectors import agent_of_login
from scheduler.models import (
    NotificationMute,
    OpenShift,
    RequestKind,
    RequestLogEntry,
    RequestStatus,
    ScheduleRequest,
    Shift,
)
from scheduler.notify import channels
from scheduler.post_limit import posts_per_minute
from scheduler.selectors import agent_plan

from . import services
from .forms import OfferForm, TimeOffForm
from .selectors import eligible_agents, my_requests, my_shifts, offers_to, open_shifts_for

WEEKS = 3
REQUESTS_PER_MINUTE = 20  # logged steps a login may take a minute: far above a person's pace


bounded = posts_per_minute(RequestLogEntry, limit=REQUESTS_PER_MINUTE, page=("requests:my_schedule", "My schedule"))


@login_required
def my_schedule(request):
    agent = agent_of_login(request.user)
    if agent is None:
        return render(request, "queues/no_agent.html")
    now = timezone.now()
    zone = _zone(agent)
    shifts = my_shifts(agent, start=now, weeks=WEEKS)
    today = now.astimezone(zone).date()
    offered = {(r.shift_id, r.occurrence) for r in my_requests(agent) if r.status in _OPEN and r.shift_id}
    by_id = Shift.objects.in_bulk({s.shift_id for s in shifts})
    colleagues = {pk: eligible_agents(shift) for pk, shift in by_id.items()}
    rows = [(s, colleagues[s.shift_id], (s.shift_id, s.day) in offered) for s in shifts]
    context = {
        "agent": agent,
        "zone": zone,
        "weeks": WEEKS,
        "rows": rows,
        "time_off_form": TimeOffForm(),
        "offers": offers_to(agent, today),
        "open_shifts": open_shifts_for(agent, today),
        "requests": my_requests(agent)[:20],
        "open_statuses": _OPEN,
        "channels": _channel_choices(request.user),
    }
    with timezone.override(zone):
        return render(request, "requests/my_schedule.html", context)


@login_required
@require_POST
@bounded
def time_off(request):
    agent = _agent_or_404(request)
    form = TimeOffForm(request.POST)
    if form.is_valid():
        zone = _zone(agent)
        start, end = form.span(zone)
        _run(request, "Time off asked for", services.request_time_off, agent=agent, start=start, end=end,
             tz=zone.key, reason=form.cleaned_data["reason"], by=request.user)  # fmt: skip
    else:
        _form_errors(request, form)
    return redirect("requests:my_schedule")


@login_required
@require_POST
@bounded
def offer(request):
    agent = _agent_or_404(request)
    form = OfferForm(request.POST, agent=agent)
    if form.is_valid():
        data = form.cleaned_data
        _run(request, "Shift offered", services.offer_occurrence, agent=agent, shift=data["shift"],
             occurrence=data["occurrence"], colleague=data["colleague"], reason=data["reason"],
             by=request.user)  # fmt: skip
    else:
        _form_errors(request, form)
    return redirect("requests:my_schedule")


@login_required
@require_POST
@bounded
def accept(request, pk: int):
    agent = _agent_or_404(request)
    offered = get_object_or_404(ScheduleRequest, pk=pk, kind=RequestKind.OFFER)
    _run(request, "Offer accepted", services.accept_offer, request=offered, agent=agent, by=request.user)
    return redirect("requests:my_schedule")


@login_required
@require_POST
@bounded
def claim(request, pk: int):
    agent = _agent_or_404(request)
    seat = get_object_or_404(OpenShift, pk=pk)
    _run(request, "Seat claimed", services.claim_open_shift, open_shift=seat, agent=agent, by=request.user)
    return redirect("requests:my_schedule")


@login_required
@require_POST
@bounded
def withdraw(request, pk: int):
    agent = _agent_or_404(request)
    mine = get_object_or_404(ScheduleRequest, pk=pk, requester=agent)
    _run(request, "Request withdrawn", services.withdraw_request, request=mine, agent=agent, by=request.user)
    return redirect("requests:my_schedule")


@login_required
@require_POST
def mute(request):
    """She ticks the channels she wants to hear from; the unticked ones are muted."""
    configured = {name for name, _, _ in _channel_choices(request.user)}
    hearing = set(request.POST.getlist("hear"))
    try:
        muted = services.set_muted_channels(user=request.user, muted=configured - hearing)
    except services.RequestError as error:
        messages.error(request, f"{error.field}: {error.message}")
    else:
        messages.success(request, f"Muted: {', '.join(CHANNEL_LABELS.get(m, m) for m in muted) or 'nothing'}.")
    return redirect("requests:my_schedule")


CHANNEL_LABELS = {"email": "Email", "team_messaging": "RingCentral Team Messaging"}


def _channel_choices(user) -> list[tuple[str, str, bool]]:
    """Each configured channel: its name, its label, and whether she hears from it."""
    muted = set(NotificationMute.objects.filter(user=user).values_list("channel", flat=True))
    return [(c.name, CHANNEL_LABELS.get(c.name, c.name), c.name not in muted) for c in channels()]


_OPEN = (RequestStatus.AWAITING_COLLEAGUE, RequestStatus.PENDING)


def _run(http, done: str, service, **arguments) -> None:
    """Call the service; say what became of it (approved at once, waiting, or why not)."""
    try:
        result = service(**arguments)
    except services.RequestError as error:
        messages.error(http, f"{error.field.replace('_', ' ')}: {error.message}")
        return
    messages.success(http, f"{done}: {result.get_status_display().lower()}.")


def _agent_or_404(request) -> Agent:
    agent = agent_of_login(request.user)
    if agent is None:
        raise Http404("no agent is linked to this login")
    return agent


def _zone(agent: Agent) -> ZoneInfo:
    """The zone her shifts are mostly in: her times are asked and shown in it."""
    now = timezone.now()
    return agent_plan(agent, start=now, end=now).zone


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = field.replace("_", " ")
        for error in errors:
            messages.error(request, f"{label}: {error}" if field != "__all__" else error)
