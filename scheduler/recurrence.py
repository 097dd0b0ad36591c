"""Occurrences of a shift: which local dates it runs on, and each occurrence's UTC span.

Local times that do not exist or occur twice on DST days follow RFC 5545 §3.3.5:
a nonexistent time takes the UTC offset from before the gap, an ambiguous one its
first occurrence. That is exactly `zoneinfo` with `fold=0`.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, rrule, rrulestr

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; ValueError with a hint if there is none."""
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown timezone {name!r}: use an IANA name such as Europe/Kyiv") from None


@cache
def _zone(name: str) -> ZoneInfo:
    if not name or name != name.strip():
        raise ValueError(name)
    return ZoneInfo(name)


def parse_days(value: str) -> frozenset[int]:
    """Weekday numbers (Monday = 0) from 'mon,tue'; ValueError naming an unknown day."""
    days = [d.strip().lower() for d in value.split(",") if d.strip()]
    for day in days:
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r}: use {', '.join(WEEKDAYS)}")
    return frozenset(WEEKDAYS.index(d) for d in days)


def parse_rrule(text: str, dtstart: date) -> rrule:
    """A dateutil rule that picks the shift's days; ValueError if it is not a valid RRULE.

    Times come from the shift's start, so rules finer than a day are refused.
    """
    text = text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    try:
        rule = rrulestr(text, dtstart=datetime.combine(dtstart, time()))
    except (ValueError, TypeError) as error:
        raise ValueError(f"invalid RRULE {text!r}: {error}") from None
    if not isinstance(rule, rrule):  # RDATE or EXDATE lines make a set, and a shift has one rule
        raise ValueError(f"invalid RRULE {text!r}: one rule only, without RDATE or EXDATE")
    # dateutil keeps FREQ in a private attribute, which its stubs leave out.
    if rule._freq > DAILY:  # type: ignore[attr-defined]  # HOURLY, MINUTELY, SECONDLY
        raise ValueError(f"invalid RRULE {text!r}: FREQ must be DAILY or coarser; the shift's start gives the time")
    return rule


def to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local `day` `at` in `tz`, RFC 5545 style (fold=0)."""
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Occurrence:
    start: datetime  # UTC
    end: datetime  # UTC
    local_date: date  # the local date the occurrence starts on


def occurrence_span(day: date, start: time, end: time, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC start and end of the occurrence starting on local `day`; end <= start ends the next day."""
    end_day = day + timedelta(days=1) if end <= start else day
    return to_utc(day, start, tz), to_utc(end_day, end, tz)
