"""What approving a request would do to coverage, computed by the planner on the snapshot with the change applied.

The figures are the coverage module's own (`understaffed`), run twice over the request's span: on the stored
schedule and on the schedule with the request applied. A request keeps coverage when it adds no shortfall
that the stored schedule does not already have.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from queues.models import CallQueue
from scheduler.forecast.forecast import interval_start, interval_starts
from scheduler.forecast.side_by_side import LevelChange, fall_in_words, level_falls
from scheduler.models import CallVolume, OccurrenceChange, RequestKind, ScheduleRequest
from scheduler.planning import OccurrenceEdit, Snapshot, TimeOffSpan
from scheduler.recurrence import occurrence_span, zone
from scheduler.selectors import schedule_snapshot
from scheduler.supervisor.coverage import Shortfall, staffed_hours, understaffed
from scheduler.supervisor.need import projected_service_level_change, scheduled_counts


@dataclass(frozen=True)
class CoverageEffect:
    """The shortfalls the change would leave in the request's span, and whether it adds any."""

    lines: tuple[str, ...]
    keeps: bool
    levels: tuple[str, ...] = ()  # the projected service level of each interval it changes, from the forecast

    def __str__(self) -> str:
        return "\n".join((*self.lines, *self.levels))


def request_span(request: ScheduleRequest) -> tuple[datetime, datetime]:
    """The UTC span a request changes: its time off, or its occurrence of the shift (moved times if moved)."""
    if request.kind == RequestKind.TIME_OFF:
        assert request.start is not None and request.end is not None  # noqa: S101 - clean() requires them
        return request.start, request.end
    assert request.shift is not None and request.occurrence is not None  # noqa: S101 - set by the services
    shift = request.shift
    moved = (
        OccurrenceChange.objects.filter(shift=shift, occurrence=request.occurrence, start__isnull=False)
        .values_list("start", "end")
        .first()
    )
    if moved is not None and moved[0] is not None and moved[1] is not None:  # clean() sets both or neither
        return moved[0], moved[1]
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
    affected = CallQueue.objects.filter(shifts__in=_shifts_of(request)).distinct()
    queues = {q.provider_id: q for q in affected.prefetch_related("opening_ranges", "closed_dates")}
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
    levels = service_level_lines(stored, with_request(stored, request), queues.values(), start, end, tz)
    return CoverageEffect(lines, keeps=all(s in before for s in after), levels=levels)


def service_level_lines(
    stored: Snapshot, changed: Snapshot, queues: Iterable[CallQueue], start: datetime, end: datetime, tz: ZoneInfo
) -> tuple[str, ...]:
    """Per queue and forecast interval in [start, end) whose scheduled agents the change moves, the projected
    service level before and after, in words; "no forecast" for a queue without call history."""
    minutes = settings.CALLROTA_FORECAST_INTERVAL
    starts = interval_starts(interval_start(start, minutes), end, minutes)
    queues = list(queues)
    known = set(CallVolume.objects.filter(queue__in=queues, minutes=minutes).values_list("queue", flat=True))
    lines: list[str] = []
    for queue in queues:
        now = scheduled_counts(stored, queue.provider_id, starts)
        then = scheduled_counts(changed, queue.provider_id, starts)
        spans = _delta_runs(starts, {at: then[at] - now[at] for at in starts}, timedelta(minutes=minutes))
        if not spans:
            continue
        if queue.pk not in known:
            lines.append(f"{queue.name}: no forecast (no call history), so no projected service level.")
            continue
        for span_start, span_end, delta in spans:
            for change in projected_service_level_change(
                queue=queue, start=span_start, end=span_end, scheduled_delta=delta
            ):
                lines.append(_level_in_words(queue.name, change, tz))
    return tuple(lines)


def _delta_runs(
    starts: list[datetime], deltas: dict[datetime, int], step: timedelta
) -> list[tuple[datetime, datetime, int]]:
    """Neighbouring intervals with the same non-zero change in scheduled agents, as (start, end, change)."""
    found: list[tuple[datetime, datetime, int]] = []
    for at in starts:
        delta = deltas[at]
        if not delta:
            continue
        if found and found[-1][1] == at and found[-1][2] == delta:
            found[-1] = (found[-1][0], at + step, delta)
        else:
            found.append((at, at + step, delta))
    return found


def _level_in_words(name: str, change: LevelChange, tz: ZoneInfo) -> str:
    if change.before is None or change.after is None:
        span = f"{change.start.astimezone(tz):%H:%M}–{change.end.astimezone(tz):%H:%M}"
        return f"{name} expects no calls {span}: no projected service level."
    if level_falls([change]):
        return fall_in_words(name, change, tz)
    span = f"{change.start.astimezone(tz):%H:%M}–{change.end.astimezone(tz):%H:%M}"
    verb = "rises" if change.after > change.before else "stays"
    return f"{name}'s projected service level {span} {verb} from {change.before:.0%} to {change.after:.0%}"


def _shifts_of(request: ScheduleRequest):
    if request.shift_id:
        return [request.shift_id]
    return request.requester.shifts.values("pk")


def _words(shortfall: Shortfall, name: str, tz: ZoneInfo) -> str:
    start, end = shortfall.start.astimezone(tz), shortfall.end.astimezone(tz)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a %d %b %H:%M}"
    return f"{name} would be {shortfall.staffed} of {shortfall.min_staff} on {start:%a %d %b %H:%M}–{until}"
