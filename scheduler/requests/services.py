"""Every change to a request: ask, accept, claim, withdraw, decide. Each writes its request-log row with it.

An approval writes schedule data only (TimeOff, OccurrenceChange), with the asker and the decider in the
schedule history; the planner does the rest. People are told after the transaction commits.
"""

from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from queues.models import Agent, CallQueue
from scheduler.models import (
    OPEN_STATUSES,
    NotificationMute,
    OccurrenceChange,
    OpenShift,
    RequestKind,
    RequestLogEntry,
    RequestRule,
    RequestStatus,
    Shift,
    TimeOff,
)
from scheduler.models import ScheduleRequest as Request
from scheduler.notify import channels
from scheduler.recurrence import zone
from scheduler.selectors import SHIFT_FIELDS, shift_rule

from . import notices
from .coverage import CoverageEffect, coverage_effect, request_span
from .selectors import eligible_agents

HISTORY_REASON_LENGTH = 100  # simple_history's change reason column


class RequestError(ValueError):
    """A request that cannot be made or changed, with the form field it is about."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def request_time_off(*, agent: Agent, start: datetime, end: datetime, tz: str, reason: str, by: User) -> Request:
    """Ask for time off over [start, end) (aware datetimes); decided at once when the queues' rule allows."""
    if end <= start:
        raise RequestError("end", "the time off must end after it starts: pick a later end")
    if start < timezone.now():
        raise RequestError("start", "time off cannot start in the past: pick a start from now on")
    request = Request(kind=RequestKind.TIME_OFF, requester=agent, start=start, end=end, timezone=tz, reason=reason)
    return _submit(request, by=by)


def offer_occurrence(
    *, agent: Agent, shift: Shift, occurrence: date, colleague: Agent | None, reason: str, by: User
) -> Request:
    """Offer one occurrence of her shift to a named colleague, or to anyone eligible when `colleague` is None."""
    _check_occurrence(shift, occurrence)
    if not shift.agents.filter(pk=agent.pk).exists():
        raise RequestError("occurrence", f"you are not rostered on {shift.name}: offer one of your own shifts")
    if colleague is not None and colleague.pk not in {a.pk for a in eligible_agents(shift)}:
        raise RequestError("colleague", f"{colleague.name} is not eligible: pick a member of {shift.name}'s queues")
    request = Request(kind=RequestKind.OFFER, requester=agent, shift=shift, occurrence=occurrence,
                      colleague=colleague, reason=reason, status=RequestStatus.AWAITING_COLLEAGUE)  # fmt: skip
    with transaction.atomic():
        request.save()
        _log(request, by, "offered", note=reason)
    notices.offered(request)
    return request


def accept_offer(*, request: Request, agent: Agent, by: User) -> Request:
    """The colleague (named, or any eligible agent) takes the offered occurrence; then a supervisor decides."""
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        if request.status != RequestStatus.AWAITING_COLLEAGUE:
            raise RequestError("request", "this offer is no longer open")
        assert request.shift is not None and request.occurrence is not None  # noqa: S101 - an offer names both
        allowed = {a.pk for a in eligible_agents(request.shift)}
        if (request.colleague_id or agent.pk) != agent.pk or agent.pk not in allowed:
            raise RequestError("request", "this offer is not yours to accept")
        request.colleague = agent
        request.status = RequestStatus.PENDING
        request.save(update_fields=["colleague", "status"])
        effect = coverage_effect(request)
        _log(request, by, "accepted", coverage=str(effect))
    return _review(request, effect)


def publish_open_shift(*, shift: Shift, occurrence: date, seats: int, by: User) -> OpenShift:
    """A supervisor opens seats on one occurrence; eligible agents claim them first come, first served."""
    _check_occurrence(shift, occurrence)
    if seats < 1:
        raise RequestError("seats", "an open shift needs at least one seat")
    open_shift, _ = OpenShift.objects.update_or_create(
        shift=shift, occurrence=occurrence, defaults={"seats": seats, "published_by": by}
    )
    return open_shift


def claim_open_shift(*, open_shift: OpenShift, agent: Agent, by: User) -> Request:
    """Take one seat: a single conditional UPDATE counts it, so two claims never share the last seat."""
    if agent.pk not in {a.pk for a in eligible_agents(open_shift.shift)}:
        raise RequestError("open_shift", f"you are not eligible: {open_shift.shift.name} is for its queues' members")
    request = Request(kind=RequestKind.CLAIM, requester=agent, shift=open_shift.shift,
                      occurrence=open_shift.occurrence, open_shift=open_shift)  # fmt: skip
    with transaction.atomic():
        won = OpenShift.objects.filter(pk=open_shift.pk, taken__lt=F("seats")).update(taken=F("taken") + 1)
        if not won:
            raise RequestError("open_shift", "every seat is taken: look for another open shift")
        try:
            with transaction.atomic():
                request.save()
        except IntegrityError:
            raise RequestError("open_shift", "you already hold a seat on this shift") from None
        effect = _asked(request, by)
    return _review(request, effect)


def withdraw_request(*, request: Request, agent: Agent, by: User) -> Request:
    """The requester takes back a request still waiting for a colleague or a supervisor."""
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        if request.requester_id != agent.pk:
            raise RequestError("request", "only the agent who asked can withdraw a request")
        if request.status not in OPEN_STATUSES:
            raise RequestError("request", f"this request is already {request.get_status_display().lower()}")
        _close(request, RequestStatus.WITHDRAWN, by=by, note="")
        _log(request, by, "withdrawn")
    return request


def decide_request(*, request: Request, approve: bool, note: str, by: User | None) -> Request:
    """Approve (write the schedule change) or deny a pending request; `by` None is the queue's automatic rule."""
    effect = coverage_effect(request)
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        if request.status != RequestStatus.PENDING:
            raise RequestError("request", f"this request is {request.get_status_display().lower()}, not pending")
        if approve:
            _check_still_possible(request)
        _close(request, RequestStatus.APPROVED if approve else RequestStatus.DENIED, by=by, note=note)
        if approve:
            _apply(request, by)
        action = ("approved" if approve else "denied") if by else "approved by rule"
        _log(request, by, action, note=note, coverage=str(effect))
    notices.decided(request)
    return request


def set_muted_channels(*, user: User, muted: set[str]) -> list[str]:
    """Mute exactly these of the configured channels for her (unmuting the rest); unknown names are refused."""
    configured = [channel.name for channel in channels()]
    unknown = sorted(muted - set(configured))
    if unknown:
        raise RequestError("channels", f"no channel named {', '.join(unknown)}: pick from {', '.join(configured)}")
    with transaction.atomic():
        NotificationMute.objects.filter(user=user, channel__in=configured).exclude(channel__in=muted).delete()
        for name in sorted(muted):
            NotificationMute.objects.get_or_create(user=user, channel=name)
    return sorted(muted)


def _check_still_possible(request: Request) -> None:
    """Re-check an offer or claim at approval: the occurrence is still to come, and the agent taking it is
    still eligible (in the shift's queues, not rostered on it, not covering it already)."""
    if request.kind == RequestKind.TIME_OFF:
        return
    assert request.shift is not None and request.occurrence is not None  # noqa: S101 - set by the services
    shift, occurrence = request.shift, request.occurrence
    change = OccurrenceChange.objects.filter(shift=shift, occurrence=occurrence).first()
    if change is not None and change.cancelled:
        raise RequestError("request", f"{shift.name} on {occurrence} was cancelled since: deny this request")
    start, _ = request_span(request)
    if start <= timezone.now():
        when = start.astimezone(zone(shift.timezone))
        raise RequestError(
            "request", f"{shift.name} on {occurrence} started at {when:%a %d %b %H:%M}: too late to approve, deny it"
        )
    taker = request.colleague if request.kind == RequestKind.OFFER else request.requester
    assert taker is not None  # noqa: S101 - an offer reaches a supervisor once accepted
    if taker.pk not in {a.pk for a in eligible_agents(shift)}:
        raise RequestError(
            "request", f"{taker.name} is no longer eligible for {shift.name} (not in its queues, or rostered on it)"
        )
    if change is not None and change.covering.filter(pk=taker.pk).exists():
        raise RequestError("request", f"{taker.name} already covers {shift.name} on {occurrence}: deny this request")


def _check_occurrence(shift: Shift, occurrence: date) -> None:
    today = timezone.now().astimezone(zone(shift.timezone)).date()
    if occurrence < today:
        raise RequestError("occurrence", f"{occurrence} is past: pick a date from {today} on")
    if not _runs_on(shift, occurrence):
        raise RequestError("occurrence", f"{shift.name} does not run on {occurrence}: pick one of its dates")


def _runs_on(shift: Shift, day: date) -> bool:
    rule = shift_rule({field: getattr(shift, field) for field in SHIFT_FIELDS if field != "id"}, (), ())
    return day in rule.days(day, day)


def _submit(request: Request, *, by: User) -> Request:
    with transaction.atomic():
        request.full_clean()
        request.save()
        effect = _asked(request, by)
    return _review(request, effect)


def _asked(request: Request, by: User) -> CoverageEffect:
    """Log the request with the coverage effect it has now, and return that effect."""
    effect = coverage_effect(request)
    _log(request, by, "asked", note=request.reason, coverage=str(effect))
    return effect


def _review(request: Request, effect: CoverageEffect) -> Request:
    """Approve at once when every queue's rule allows it; otherwise tell the supervisors."""
    if _rule_approves(request, effect):
        return decide_request(request=request, approve=True, note="", by=None)
    notices.asked(request)
    return request


def _rule_approves(request: Request, effect: CoverageEffect) -> bool:
    shifts = [request.shift_id] if request.shift_id else request.requester.shifts.values("pk")
    queues = list(CallQueue.objects.filter(shifts__in=shifts).distinct())
    rules = {r.queue_id: r for r in RequestRule.objects.filter(queue__in=queues)}
    if not queues or len(rules) < len(queues):
        return False
    if request.kind == RequestKind.CLAIM and not any(r.claims_need_approval for r in rules.values()):
        return True
    return all(r.auto_approve for r in rules.values()) and effect.keeps


def _close(request: Request, status: str, *, by: User | None, note: str) -> None:
    if request.open_shift_id and status in (RequestStatus.DENIED, RequestStatus.WITHDRAWN):
        OpenShift.objects.filter(pk=request.open_shift_id).update(taken=F("taken") - 1)  # the seat is free again
    request.status, request.decided_at, request.decided_by, request.note = status, timezone.now(), by, note
    request.save(update_fields=["status", "decided_at", "decided_by", "note"])


def _apply(request: Request, by: User | None) -> None:
    """The schedule change itself, recorded in the schedule history as asked by the agent, decided by `by`."""
    asker = request.requester.user
    why = f"request {request.pk}: asked by {asker or request.requester.name}, decided by {by or 'rule'}"
    if request.kind == RequestKind.TIME_OFF:
        assert request.start is not None and request.end is not None  # noqa: S101 - clean() requires them
        row = TimeOff(agent=request.requester, start=request.start, end=request.end,
                      timezone=request.timezone or "UTC", reason=request.reason or "time off request")  # fmt: skip
        _stamp(row, by or asker, why).save()
        return
    change, _ = OccurrenceChange.objects.get_or_create(shift=request.shift, occurrence=request.occurrence)
    _stamp(change, by or asker, why)
    if not change.reason:
        change.reason = why[:200]
        change.save(update_fields=["reason"])
    if request.kind == RequestKind.OFFER:
        assert request.colleague is not None  # noqa: S101 - an offer reaches a supervisor once accepted
        change.absent.add(request.requester)
        change.covering.add(request.colleague)
    else:
        change.covering.add(request.requester)


def _stamp(row, user, why: str):
    row._history_user = user
    row._change_reason = why[:HISTORY_REASON_LENGTH]
    return row


def _log(request: Request, by: User | None, action: str, *, note: str = "", coverage: str = "") -> None:
    RequestLogEntry.objects.create(request=request, actor=by, action=action, note=note[:500], coverage=coverage)
