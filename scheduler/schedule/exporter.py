"""The database's schedule as a document, and a document as YAML in the documented format."""

from collections import Counter
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from queues.models import Agent, CallQueue
from scheduler import recurrence
from scheduler.models import OccurrenceChange, Shift, TimeOff

from .parse import (
    AgentEntry,
    ChangeEntry,
    ClosedDateEntry,
    OpeningRangeEntry,
    QueueEntry,
    ScheduleDocument,
    ShiftEntry,
    TimeOffEntry,
    wall_time_to_utc,
)


def export_document() -> ScheduleDocument:
    """The database's schedule as a document (what `export_schedule` writes)."""
    shifts = list(Shift.objects.prefetch_related("queues", "agents"))
    zones = Counter(s.timezone for s in shifts)
    return ScheduleDocument(
        timezone=zones.most_common(1)[0][0] if zones else "UTC",
        queues=[_queue_entry(q) for q in CallQueue.objects.prefetch_related("opening_ranges", "closed_dates")],
        agents=[AgentEntry(id=a.provider_id, name=a.name, off_shift_dnd=a.off_shift_dnd) for a in Agent.objects.all()],
        shifts=[_shift_entry(s) for s in shifts],
        time_off=[_time_off_entry(t) for t in TimeOff.objects.select_related("agent")],
        changes=[
            _change_entry(c)
            for c in OccurrenceChange.objects.select_related("shift").prefetch_related("absent", "covering")
        ],
    )


def _queue_entry(queue: CallQueue) -> QueueEntry:
    # Only hours entered by hand are written: the provider's come back with the next queue sync.
    by_hand = queue.hours_source == CallQueue.HoursSource.ADMIN
    ranges = _grouped_ranges(queue) if by_hand else []
    closed = [ClosedDateEntry(date=c.date, name=c.name) for c in queue.closed_dates.all()]
    return QueueEntry(
        id=queue.provider_id,
        name=queue.name,
        min_staff=queue.min_staff,
        editable_member_status=queue.editable_member_status,
        opening_hours=ranges or None,
        closed_dates=closed or None,
        hours_timezone=queue.hours_timezone if ranges or closed else None,
    )


def _grouped_ranges(queue: CallQueue) -> list[OpeningRangeEntry]:
    """The weekly ranges, one entry per opening and closing time with all its days."""
    days: dict[tuple, list[str]] = {}
    for r in sorted(queue.opening_ranges.all(), key=lambda r: (r.opens, r.closes, r.weekday)):
        days.setdefault((r.opens, r.closes), []).append(recurrence.WEEKDAYS[r.weekday])
    return [OpeningRangeEntry(days=d, opens=opens, closes=closes) for (opens, closes), d in days.items()]


def _shift_entry(shift: Shift) -> ShiftEntry:
    return ShiftEntry(
        name=shift.name,
        queues=sorted(q.provider_id for q in shift.queues.all()),
        agents=sorted(a.provider_id for a in shift.agents.all()),
        start=shift.start_time,
        end=shift.end_time,
        timezone=shift.timezone,
        days=[d for d in shift.days.split(",") if d],
        rrule=shift.rrule,
        dtstart=shift.dtstart,
        valid_from=shift.valid_from,
        valid_until=shift.valid_until,
    )


def _time_off_entry(off: TimeOff) -> TimeOffEntry:
    tz = recurrence.zone(off.timezone)
    return TimeOffEntry(
        agent=off.agent.provider_id,
        start=_wall_time(off.start, tz),
        end=_wall_time(off.end, tz),
        timezone=off.timezone,
        reason=off.reason,
    )


def _change_entry(change: OccurrenceChange) -> ChangeEntry:
    entry = ChangeEntry(
        occurrence=change.occurrence,
        cancelled=change.cancelled,
        absent=sorted(a.provider_id for a in change.absent.all()),
        covering=sorted(a.provider_id for a in change.covering.all()),
        reason=change.reason,
    )
    if change.start and change.end:
        entry.date, entry.start, entry.end = _moved(change, recurrence.zone(change.shift.timezone))
    entry._shift = change.shift.name
    return entry


def _moved(change: OccurrenceChange, tz: ZoneInfo) -> tuple[date | None, time | datetime, time | datetime]:
    """A move as the file writes it: HH:MM times (with `date` when another day) if they read back to the
    same instants, else wall times (with their offset in a DST fold)."""
    assert change.start is not None and change.end is not None
    start, end = change.start.astimezone(tz), change.end.astimezone(tz)
    times = start.time().replace(tzinfo=None), end.time().replace(tzinfo=None)
    if recurrence.occurrence_span(start.date(), *times, tz) == (change.start, change.end):
        return (start.date() if start.date() != change.occurrence else None), *times
    return None, _wall_time(change.start, tz), _wall_time(change.end, tz)


def _wall_time(value: datetime, tz: ZoneInfo) -> datetime:
    """The local wall time, keeping the offset where the wall time alone would mislead (a DST gap or fold)."""
    local = value.astimezone(tz)
    naive = local.replace(tzinfo=None)
    return naive if wall_time_to_utc(naive, tz) == value else local


def dump_schedule(document: ScheduleDocument) -> str:
    """The document as YAML in the documented format, optional keys left out when at their default."""
    changes: dict[str, list[dict[str, Any]]] = {}
    for change in document.changes:
        changes.setdefault(change.shift, []).append(_change_data(change))
    data = {
        "timezone": document.timezone,
        "queues": [_queue_data(q, document.timezone) for q in document.queues],
        "agents": [a.model_dump(exclude_defaults=True) for a in document.agents],
        "shifts": [_shift_data(s, document.timezone, changes.get(s.name, [])) for s in document.shifts],
        "time_off": [_time_off_data(t, document.timezone) for t in document.time_off],
    }
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


class _Dumper(yaml.SafeDumper):
    """Block mappings with inline lists of ids or days, as in the documented format."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a value used twice is written twice: the importer refuses anchors and aliases

    def represent_flow_list(self, data: list[Any]) -> yaml.Node:
        return self.represent_sequence(
            "tag:yaml.org,2002:seq", data, flow_style=not any(isinstance(v, dict) for v in data)
        )


_Dumper.add_representer(list, _Dumper.represent_flow_list)


def _queue_data(queue: QueueEntry, default_tz: str) -> dict[str, Any]:
    data = queue.model_dump(exclude_defaults=True, exclude={"opening_hours", "closed_dates", "hours_timezone"})
    if queue.hours_timezone and queue.hours_timezone != default_tz:
        data["hours_timezone"] = queue.hours_timezone
    if queue.opening_hours is not None:
        data["opening_hours"] = [
            {"days": r.days, "opens": f"{r.opens:%H:%M}", "closes": f"{r.closes:%H:%M}"} for r in queue.opening_hours
        ]
    if queue.closed_dates is not None:
        data["closed_dates"] = [{"date": c.date} | ({"name": c.name} if c.name else {}) for c in queue.closed_dates]
    return data


def _change_data(change: ChangeEntry) -> dict[str, Any]:
    data: dict[str, Any] = {"occurrence": change.occurrence}
    if change.cancelled:
        data["cancelled"] = True
    if change.date:
        data["date"] = change.date
    for key in ("start", "end"):
        value = getattr(change, key)
        if value is not None:
            data[key] = f"{value:%H:%M}" if isinstance(value, time) else _iso_minutes(value)
    data.update({k: getattr(change, k) for k in ("absent", "covering", "reason") if getattr(change, k)})
    return data


def _shift_data(shift: ShiftEntry, default_tz: str, changes: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {"name": shift.name, "queues": shift.queues, "agents": shift.agents}
    if shift.rrule:
        data.update(rrule=shift.rrule, dtstart=shift.dtstart)
    else:
        data.update(days=shift.days)
    data.update({"start": f"{shift.start:%H:%M}", "end": f"{shift.end:%H:%M}"})
    optional: dict[str, Any] = {"timezone": shift.timezone if shift.timezone != default_tz else None}
    optional.update(valid_from=shift.valid_from, valid_until=shift.valid_until, changes=changes or None)
    return data | {k: v for k, v in optional.items() if v is not None}


def _time_off_data(off: TimeOffEntry, default_tz: str) -> dict[str, Any]:
    data: dict[str, Any] = {"agent": off.agent, "start": _iso_minutes(off.start), "end": _iso_minutes(off.end)}
    if off.timezone != default_tz:
        data["timezone"] = off.timezone
    return data | ({"reason": off.reason} if off.reason else {})


def _iso_minutes(value: datetime) -> str:
    return value.isoformat(timespec="minutes" if not value.second else "seconds")
