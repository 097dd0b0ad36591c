"""Reads of the schedule: the planner's snapshot, in a constant number of queries."""

from collections import defaultdict
from datetime import datetime

from queues.models import Agent

from . import recurrence
from .models import Shift, TimeOff
from .planning import ShiftRule, Snapshot, TimeOffSpan


def schedule_snapshot(*, start: datetime, end: datetime) -> Snapshot:
    """The whole schedule as plain objects, with the time off that overlaps [start, end)."""
    queues_of = _ids_by_shift(Shift.queues.through, "callqueue__provider_id")
    agents_of = _ids_by_shift(Shift.agents.through, "agent__provider_id")
    shifts = tuple(
        shift_rule(row, queues_of[row["id"]], agents_of[row["id"]])
        for row in Shift.objects.values(
            "id", "name", "timezone", "start_time", "end_time", "days", "rrule", "dtstart", "valid_from", "valid_until"
        )
    )
    time_off = tuple(
        TimeOffSpan(agent_id, t_start, t_end, reason)
        for agent_id, t_start, t_end, reason in TimeOff.objects.filter(start__lt=end, end__gt=start).values_list(
            "agent__provider_id", "start", "end", "reason"
        )
    )
    managed = dict(Agent.objects.filter(off_shift_dnd__isnull=False).values_list("provider_id", "off_shift_dnd"))
    return Snapshot(shifts, time_off, managed)


def shift_rule(row: dict, queue_ids, agent_ids) -> ShiftRule:
    """A ShiftRule from a Shift's field values (a `values()` row or the importer's dict)."""
    rule = recurrence.parse_rrule(row["rrule"], row["dtstart"]) if row["rrule"] else None
    return ShiftRule(
        name=row["name"],
        tz=recurrence.zone(row["timezone"]),
        start=row["start_time"],
        end=row["end_time"],
        queue_ids=tuple(sorted(queue_ids)),
        agent_ids=tuple(sorted(agent_ids)),
        weekdays=None if rule else recurrence.parse_days(row["days"]),
        rule=rule,
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
    )


def _ids_by_shift(through, provider_id_path: str) -> dict[int, list[str]]:
    ids = defaultdict(list)
    for shift_id, provider_id in through.objects.values_list("shift_id", provider_id_path):
        ids[shift_id].append(provider_id)
    return ids
