"""What approving a request would do to coverage, computed by the planner on the snapshot with the change applied.

The figures are the coverage module's own (`understaffed`), run twice over the request's span: on the stored
schedule and on the schedule with the request applied. A request keeps coverage when it adds no shortfall
that the stored schedule does not already have.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from queues.models import CallQueue
from scheduler.models import RequestKind, ScheduleRequest
from scheduler.planning import OccurrenceEdit, Snapshot, TimeOffSpan
from scheduler.recurrence import occurrence_span, zone
from scheduler.selectors import schedule_snapshot
from scheduler.supervisor.coverage import Shortfall, staffed_hours, understaffed


@dataclass(frozen=True)
class CoverageEffect:
    """The shortfalls the change would leave in the request's span, and whether it adds any."""

    lines: tuple[str, ...]
    keeps: bool

    def __str__(self) -> str:
        return "\n".join(self.lines)


def request_span(request: ScheduleRequest) -> tuple[datetime, datetime]:
    """The UTC span a request changes: its time off, or its occurrence of the shift."""
    if request.kind == RequestKind.TIME_OFF:
        assert request.start is not None and request.end is not None  # noqa: S101 - clean() requires them
        return request.start, request.end
    assert request.shift is not None and request.occurrence is not None  # noqa: S101 - set by the services
    shift = request.shift
    return occurrence_span(request.occurrence, shift.start_time, shift.end_time, zone(shift.timezone))


def request_zone(request: ScheduleRequest) -> ZoneInfo:
    """The zone the request's times are shown in: the shift's, or the one the time off was asked in."""
    return zone(request.shift.timezone if request.shift else request.timezone or "UTC")


def with_request(snapshot: Snapshot, request: ScheduleRequest) -> Snapshot:
    """The bare schedule as it would be once the request is approved (the planner's own occurrence changes)."""
    bare = snapshot.schedule_only()
    agent_id = request.requester.provider_id
    if request.kind == RequestKind.TIME_OFF:
        start, end = request_span(request)
        return replace(bare, time_off=(*bare.time_off, TimeOffSpan(agent_id, start, end, request.reason)))
    assert request.shift is not None and request.occurrence is not None  # noqa: S101 - set by the services
    rule = next((s for s in bare.shifts if s.name == request.shift.name), None)
    now = rule.changed.get(request.occurrence) if rule else None
    now = now or OccurrenceEdit(request.occurrence)
    gone: str | None = agent_id
    coming = request.colleague.provider_id if request.colleague else None
    if request.kind == RequestKind.CLAIM:
        gone, coming = None, agent_id
    edit = replace(
        now,
        absent=now.absent | ({gone} if gone else set()),
        covering=now.covering | ({coming} if coming else set()),
    )
    return bare.with_change(request.shift.name, edit)


def coverage_effect(request: ScheduleRequest) -> CoverageEffect:
    """What approving would do: the affected queues' shortfalls in the request's span, in words."""
    start, end = request_span(request)
    queues = {q.provider_id: q for q in CallQueue.objects.filter(shifts__in=_shifts_of(request)).distinct()}
    minimums = {q: queue.min_staff for q, queue in queues.items()}
    hours = {q: staffed_hours(queue) for q, queue in queues.items()}
    stored = schedule_snapshot(start=start, end=end).schedule_only()
    before = set(understaffed(stored, minimums, start, end, hours))
    after = understaffed(with_request(stored, request), minimums, start, end, hours)
    tz = request_zone(request)
    lines = tuple(_words(s, queues[s.queue_id].name, tz) for s in after)
    if not queues:
        lines = ("It changes no queue's staffing.",)
    elif not after:
        lines = ("Every queue it touches stays at or above its min staff.",)
    return CoverageEffect(lines, keeps=all(s in before for s in after))


def _shifts_of(request: ScheduleRequest):
    if request.shift_id:
        return [request.shift_id]
    return request.requester.shifts.values("pk")


def _words(shortfall: Shortfall, name: str, tz: ZoneInfo) -> str:
    start, end = shortfall.start.astimezone(tz), shortfall.end.astimezone(tz)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a %d %b %H:%M}"
    return f"{name} would be {shortfall.staffed} of {shortfall.min_staff} on {start:%a %d %b %H:%M}–{until}"
