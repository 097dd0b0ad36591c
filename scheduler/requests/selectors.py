"""Reads for the request pages: who is eligible, what is open, what waits for whom."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import F, Q, QuerySet

from queues.models import Agent, CallQueue
from scheduler.models import OpenShift, RequestKind, RequestStatus, ScheduleRequest, Shift
from scheduler.selectors import agent_plan


def eligible_agents(shift: Shift) -> list[Agent]:
    """Active agents with a login who belong to every queue of the shift and are not rostered on it."""
    agents = Agent.objects.filter(active=True, user__isnull=False).exclude(shifts=shift)
    for queue in CallQueue.objects.filter(shifts=shift):
        agents = agents.filter(Q(memberships__queue=queue) | Q(shifts__queues=queue))
    return list(agents.distinct().order_by("name"))


def pending_requests() -> QuerySet[ScheduleRequest]:
    """Requests waiting for a supervisor, oldest first."""
    return ScheduleRequest.objects.filter(status=RequestStatus.PENDING).select_related(
        "requester", "colleague", "shift"
    )


def my_requests(agent: Agent) -> QuerySet[ScheduleRequest]:
    """Her requests, newest first."""
    return ScheduleRequest.objects.filter(requester=agent).select_related("shift", "colleague").order_by("-pk")


def offers_to(agent: Agent, today: date) -> list[ScheduleRequest]:
    """Offers waiting for a colleague that she may accept: named to her, or open to anyone she is eligible for."""
    waiting = (
        ScheduleRequest.objects.filter(kind=RequestKind.OFFER, status=RequestStatus.AWAITING_COLLEAGUE)
        .filter(Q(colleague=agent) | Q(colleague__isnull=True), occurrence__gte=today)
        .exclude(requester=agent)
        .select_related("requester", "shift")
    )
    return [r for r in waiting if r.colleague_id or agent in eligible_agents(r.shift)]  # type: ignore[arg-type]


def open_shifts_for(agent: Agent, today: date) -> list[OpenShift]:
    """Open shifts with a free seat that she may claim."""
    free = OpenShift.objects.filter(occurrence__gte=today, taken__lt=F("seats")).select_related("shift")
    return [o for o in free if agent in eligible_agents(o.shift)]


@dataclass(frozen=True)
class MyShift:
    """One occurrence of her plan, as the planner gives it."""

    shift: str
    shift_id: int
    day: date
    start: datetime
    end: datetime


def my_shifts(agent: Agent, *, start: datetime, weeks: int) -> list[MyShift]:
    """Her shift occurrences from `start` for `weeks` weeks, from the planner: those she sits out are left out,
    those she covers are in."""
    end = start + timedelta(weeks=weeks)
    plan = agent_plan(agent, start=start, end=end)
    ids = dict(Shift.objects.filter(name__in=[s.name for s in plan.snapshot.shifts]).values_list("name", "pk"))
    found = [
        MyShift(rule.name, ids[rule.name], occ.local_date, occ.start, occ.end)
        for rule in plan.snapshot.shifts
        for occ in rule.occurrences(start, end)
        if agent.provider_id in occ.agent_ids
    ]
    return sorted(found, key=lambda s: s.start)
