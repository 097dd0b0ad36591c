"""Ringostat's SIP statuses and its rule for an employee with several SIP accounts.

From Ringostat's reference: when one SIP is speaking, only speaking counts; otherwise online
counts over DnD, and DnD over offline. Pure functions over plain intervals.
"""

import re
from dataclasses import dataclass
from datetime import datetime

PRIORITY = ("speaking", "online", "dnd", "offline")  # highest first
_DURATION = re.compile(r"(\d{2,}):([0-5]\d):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime
    status: str


def parse_duration(value, *, field: str = "duration") -> int:
    """Seconds in an `HH:MM:SS` string (hours may pass 24); ValueError naming the field otherwise."""
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{field}: {value!r} is not a duration (HH:MM:SS)")
    hours, minutes, seconds = (int(part) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def format_duration(seconds: int) -> str:
    """`HH:MM:SS`, as Ringostat writes durations."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def merge_sips(intervals: list[Interval]) -> list[Interval]:
    """One employee's timeline from all their SIPs' intervals: at each moment the highest-priority status."""
    edges = sorted({t for i in intervals for t in (i.start, i.end)})
    merged: list[Interval] = []
    for start, end in zip(edges, edges[1:], strict=False):
        present = {i.status for i in intervals if i.start <= start and i.end >= end}
        status = next((s for s in PRIORITY if s in present), None)
        if status is None:
            continue
        if merged and merged[-1].status == status and merged[-1].end == start:
            merged[-1] = Interval(merged[-1].start, end, status)
        else:
            merged.append(Interval(start, end, status))
    return merged


def seconds_by_status(timeline: list[Interval], start: datetime, end: datetime) -> dict[str, int]:
    """Seconds spent in each status within [start, end)."""
    totals = dict.fromkeys(PRIORITY, 0)
    for interval in timeline:
        overlap = (min(interval.end, end) - max(interval.start, start)).total_seconds()
        if overlap > 0:
            totals[interval.status] += int(overlap)
    return totals
