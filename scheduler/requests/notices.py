"""Who is told what about a request, and the day-before reminder of a changed shift. Sent after commit."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q

from scheduler.models import OccurrenceChange, ScheduleRequest, ShiftReminderSent
from scheduler.notify import notify
from scheduler.recurrence import zone
from scheduler.roles import SUPERVISOR

from .coverage import request_zone
from .selectors import eligible_agents

ONE_DAY = timedelta(days=1)


def asked(request: ScheduleRequest) -> None:
    """A new request waits for a supervisor: tell the supervisors."""
    supervisors = User.objects.filter(Q(groups__name=SUPERVISOR) | Q(is_superuser=True), is_active=True).distinct()
    _later(list(supervisors), f"New request: {describe(request)}", "Open the pending requests page to decide.")


def offered(request: ScheduleRequest) -> None:
    """An occurrence is offered: tell the named colleague, or every eligible one."""
    assert request.shift is not None and request.occurrence is not None  # noqa: S101 - an offer names both
    agents = [request.colleague] if request.colleague else eligible_agents(request.shift)
    users = [a.user for a in agents if a and a.user]
    _later(users, f"Shift offered to you: {describe(request)}", "Open My schedule to accept it.")


def decided(request: ScheduleRequest) -> None:
    """A request was approved or denied: tell the requester, and the colleague of a trade."""
    agents = [request.requester, request.colleague]
    users = [a.user for a in agents if a and a.user]
    verdict = request.get_status_display().lower()
    body = f"{describe(request)}\nDecision: {verdict}." + (f"\nNote: {request.note}" if request.note else "")
    _later(users, f"Request {verdict}: {describe(request)}", body)


def remind_changed_shifts(*, now: datetime) -> int:
    """Tell the agents of every occurrence changed for tomorrow (in its shift's zone); return how many were told.

    Each (change, person) is claimed by inserting its unique ShiftReminderSent row first: a second run the same
    day, or a second worker at once, finds the row taken and sends nothing. At most once: a send that fails after
    the claim is logged by the channel, not retried.
    """
    soon = now.astimezone(UTC).date()
    changes = OccurrenceChange.objects.filter(occurrence__range=(soon, soon + 2 * ONE_DAY)).select_related("shift")
    told = 0
    for change in changes.prefetch_related("absent__user", "covering__user"):
        if change.occurrence != now.astimezone(zone(change.shift.timezone)).date() + ONE_DAY:
            continue
        for agents, words in ((change.absent.all(), "you are off"), (change.covering.all(), "you work")):
            users = [a.user for a in agents if a.user and _claim_reminder(change, a.user)]
            subject = f"Tomorrow {words}: {change.shift.name} on {change.occurrence:%a %d %b}"
            notify(users=users, subject=subject, body=f"{subject}. {change.reason}".strip())
            told += len(users)
    return told


def _claim_reminder(change: OccurrenceChange, user: User) -> bool:
    """True when this call inserted the reminder's row, so it is the one to send it."""
    try:
        with transaction.atomic():
            ShiftReminderSent.objects.create(change=change, user=user, occurrence=change.occurrence)
    except IntegrityError:
        return False
    return True


def describe(request: ScheduleRequest) -> str:
    """One line naming the request: who, what, when."""
    who = request.requester.name
    if request.shift is not None:
        to = f" to {request.colleague.name}" if request.colleague else ""
        return (
            f"{who}: {request.get_kind_display().lower()}{to}, {request.shift.name} on {request.occurrence:%a %d %b %Y}"
        )
    tz = request_zone(request)
    start, end = request.start.astimezone(tz), request.end.astimezone(tz)  # type: ignore[union-attr]
    return f"{who}: time off {start:%a %d %b %Y %H:%M} to {end:%a %d %b %Y %H:%M} ({tz.key})"


def _later(users: list[User], subject: str, body: str) -> None:
    transaction.on_commit(lambda: notify(users=users, subject=subject, body=body))
