"""Occurrences of a shift: which local dates it runs on, and each occurrence's UTC span.

Local times that do not exist or occur twice on DST days follow RFC 5545 §3.3.5:
a nonexistent time takes the UTC offset from before the gap, an ambiguous one its
first occurrence. That is exactly `zoneinfo` with `fold=0`.
"""

from collections.abc import Iterator
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from functools import cache, cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# dateutil keeps a rule's parts in private attributes (`_freq`, `_interval`, `_bymonth`...) and its
# per-year masks in `_iterinfo`; the stubs leave the parts out, so they are read through `Any`.
# The property test in tests/test_hostile_rules.py checks that the days picked here are dateutil's.
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, _iterinfo, rrule, rrulestr

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REQUIRED_WITHIN_YEARS = 5  # a rule must pick a day within this many years of its start
COUNT_HORIZON_YEARS = 100  # COUNT is counted this far from the start at most


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; ValueError with a hint if there is none."""
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # OSError: a name too long for a file
        raise ValueError(f"unknown timezone {_brief(str(name), 40)}: use an IANA name such as Europe/Kyiv") from None


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


def parse_rrule(text: str, dtstart: date) -> "Recurrence":
    """The shift's recurrence; ValueError if the text is not one RRULE of days.

    A rule that reads but cannot be planned (a zero interval, COUNT=0, an UNTIL before the
    start, no day in the years after its start) is returned with its `problem` set and picks
    no day, so a row stored before these checks existed never stops the planner.
    `validate_rrule` is the strict form the forms and imports use.
    """
    return _parsed(text.strip(), dtstart)


def validate_rrule(text: str, dtstart: date) -> "Recurrence":
    """parse_rrule, refusing with ValueError a rule that could never be planned."""
    recurrence = parse_rrule(text, dtstart)
    if recurrence.problem:
        raise ValueError(recurrence.problem)
    return recurrence


@lru_cache(maxsize=1024)  # the planner parses every stored rule on every snapshot
def _parsed(text: str, dtstart: date) -> "Recurrence":
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    shown = _brief(text)
    try:
        rule = rrulestr(text, dtstart=datetime.combine(dtstart, time()))
    except (ValueError, TypeError, OverflowError) as error:
        raise ValueError(f"invalid RRULE {shown}: {_brief(str(error))}") from None
    if not isinstance(rule, rrule):  # RDATE or EXDATE lines make a set, and a shift has one rule
        raise ValueError(f"invalid RRULE {shown}: one rule only, without RDATE or EXDATE")
    parts: Any = rule
    if parts._freq > DAILY:  # HOURLY, MINUTELY, SECONDLY
        raise ValueError(f"invalid RRULE {shown}: FREQ must be DAILY or coarser; the shift's start gives the time")
    recurrence = Recurrence(rule, dtstart)
    recurrence.problem = _problem(recurrence, shown)
    return recurrence


def _brief(text: str, limit: int = 80) -> str:
    """A value quoted for a message, cut short: a rule pasted by mistake can be long."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _problem(recurrence: "Recurrence", shown: str) -> str:
    """Why a readable rule can never be planned, or ''."""
    rule, start = recurrence.parts, recurrence.start
    if rule._interval < 1:
        return f"invalid RRULE {shown}: INTERVAL must be 1 or more"
    if rule._count is not None and rule._count < 1:
        return f"invalid RRULE {shown}: COUNT must be 1 or more"
    if rule._count is not None and rule._until is not None:
        return f"invalid RRULE {shown}: give COUNT or UNTIL, not both (RFC 5545)"
    if rule._byeaster:  # dateutil's extension, and an offset past the year breaks its masks
        return f"invalid RRULE {shown}: BYEASTER is not part of RFC 5545; pick the days with BYMONTH and BYMONTHDAY"
    nth_limit = 5 if rule._freq == MONTHLY or rule._bymonth else 53  # n-th in a month, or in the year
    if any(abs(n) > nth_limit for _, n in rule._bynweekday or ()):
        return f"invalid RRULE {shown}: an n-th weekday in BYDAY must be 1 to {nth_limit} (or -1 to -{nth_limit})"
    if rule._timeset != (time(),):
        return f"invalid RRULE {shown}: BYHOUR, BYMINUTE and BYSECOND are not allowed; the shift's start gives the time"
    if rule._until is not None and rule._until.date() < start:
        return f"invalid RRULE {shown}: UNTIL {rule._until.date()} is before the rule's start {start}"
    horizon = _years_later(start, REQUIRED_WITHIN_YEARS)
    if not recurrence.dates(start, horizon):
        return f"invalid RRULE {shown}: it picks no day from {start} to {horizon}; check BYMONTH, BYMONTHDAY and BYDAY"
    return ""


def _years_later(day: date, years: int) -> date:
    return date(min(day.year + years, MAXYEAR), day.month, 28 if day.day > 28 else day.day)


class Recurrence:
    """A parsed RRULE expanded to local dates by a walk over its periods that is bounded by construction.

    dateutil's own search (`after`, `between`, iteration) runs period after period until a day
    matches, so a rule that never matches, or a zero interval, searches for ever. Here only the
    periods (years, months, weeks or days, `INTERVAL` apart) that touch the asked window are
    visited, found by arithmetic; dateutil's per-year masks decide the days inside each period,
    with the same filters as its `_iter`, so the days picked are dateutil's (a property test checks).
    COUNT is resolved once into the date of the last counted day, by a walk of at most
    COUNT_HORIZON_YEARS from the start.
    """

    def __init__(self, rule: rrule, start: date):
        self.rule = rule
        parts: Any = rule
        self.parts = parts  # the same rule, its private parts readable
        self.start = start
        self.problem = ""
        until = parts._until
        self.until: date | None = until.date() if until is not None else None

    def __repr__(self) -> str:
        return f"Recurrence({str(self.rule)!r})"

    def dates(self, first: date, last: date) -> list[date]:
        """The days in [first, last] the rule picks, in order; none for a rule with a problem."""
        if self.problem:
            return []
        end = min(d for d in (last, self.until, self.count_end) if d is not None)
        return [d for d in self._walk(max(first, self.start), end) if d >= first]

    def periods(self, first: date, last: date) -> Iterator[date]:
        """The start of each of the rule's periods that may hold a day in [first, last].

        Their number is at most (last - first) / (period length x INTERVAL) + 2: never a search.
        """
        rule = self.parts
        interval = rule._interval
        if interval < 1 or last < first:
            return
        k = max(0, _units_between(rule, self.start, first) // interval)
        while (period := _period_start(rule, self.start, k * interval)) is not None and period <= last:
            yield period
            k += 1

    @cached_property
    def count_end(self) -> date | None:
        """The last day COUNT lets the rule pick (None without COUNT), counted within COUNT_HORIZON_YEARS."""
        count = self.parts._count
        if count is None:
            return None
        last = _years_later(self.start, COUNT_HORIZON_YEARS)
        if self.until is not None:
            last = min(last, self.until)
        picked = 0
        for day in self._walk(self.start, last):
            picked += 1
            if picked == count:
                return day
        return last

    def _walk(self, first: date, last: date) -> Iterator[date]:
        """The days picked in the periods touching [first, last], in order (some may fall just outside)."""
        info = _iterinfo(self.rule)  # dateutil's per-year masks, rebuilt when the year or month changes
        for period in self.periods(first, last):
            yield from (d for d in self._picked(period, info) if d <= last)

    def _picked(self, period: date, info: Any) -> list[date]:
        """The days of the period starting at `period` that pass the rule's BY* parts and BYSETPOS.

        The test is dateutil's (`rrule._iter`), over its masks, so the days are dateutil's.
        """
        rule = self.parts
        info.rebuild(period.year, self.start.month if rule._freq == YEARLY else period.month)
        indexes = [i for i in _period_indexes(rule, info, period) if _kept(rule, info, i)]
        if rule._bysetpos:
            indexes = _set_positions(indexes, rule._bysetpos)
        return [d for d in (date.fromordinal(info.yearordinal + i) for i in indexes) if d >= self.start]


def _set_positions(indexes: list[int], positions) -> list[int]:
    """BYSETPOS: the n-th (from the end when negative) of the period's days; positions past them pick none."""
    picked = {indexes[p - 1 if p > 0 else p] for p in positions if -len(indexes) <= p <= len(indexes) and p}
    return sorted(picked)


def _units_between(rule: Any, start: date, day: date) -> int:
    """Whole periods of the rule's frequency from the period holding `start` to the one holding `day`."""
    freq = rule._freq
    if freq == YEARLY:
        return day.year - start.year
    if freq == MONTHLY:
        return (day.year - start.year) * 12 + day.month - start.month
    if freq == WEEKLY:
        wkst = rule._wkst
        return (_week_start(day, wkst) - _week_start(start, wkst)).days // 7
    return (day - start).days


def _period_start(rule: Any, start: date, units: int) -> date | None:
    """The first day of the period `units` periods after `start`'s (`start` itself for its own), as dateutil walks."""
    freq = rule._freq
    try:
        if freq == YEARLY:
            return date(start.year + units, 1, 1) if units else start
        if freq == MONTHLY:
            year, month = divmod(start.month - 1 + units, 12)
            return date(start.year + year, month + 1, 1) if units else start
        if freq == WEEKLY:
            return _week_start(start, rule._wkst) + timedelta(weeks=units) if units else start
        return start + timedelta(days=units)
    except (ValueError, OverflowError):  # past year 9999
        return None


def _week_start(day: date, wkst: int) -> date:
    return day - timedelta(days=(day.weekday() - wkst) % 7)


def _period_indexes(rule: Any, info: Any, period: date) -> range:
    """Day-of-year indexes (into `info`'s masks) of the period starting at `period`."""
    freq = rule._freq
    i = period.toordinal() - info.yearordinal
    if freq == YEARLY:
        return range(info.yearlen)
    if freq == MONTHLY:
        return range(info.mrange[period.month - 1], info.mrange[period.month])
    if freq == WEEKLY:  # to the day before the next week start, across the new year if need be
        wkst = rule._wkst
        return range(i, i + 7 - (period.weekday() - wkst) % 7)
    return range(i, i + 1)


def _kept(r: Any, ii: Any, i: int) -> bool:
    """Whether day index `i` passes the BY* parts: dateutil's own test in `rrule._iter` (BYEASTER is refused)."""
    return not (
        (r._bymonth and ii.mmask[i] not in r._bymonth)
        or (r._byweekno and not ii.wnomask[i])
        or (r._byweekday and ii.wdaymask[i] not in r._byweekday)
        or (ii.nwdaymask and not ii.nwdaymask[i])
        or (
            (r._bymonthday or r._bynmonthday)
            and ii.mdaymask[i] not in r._bymonthday
            and ii.nmdaymask[i] not in r._bynmonthday
        )
        or (
            r._byyearday
            and (
                (i < ii.yearlen and i + 1 not in r._byyearday and -ii.yearlen + i not in r._byyearday)
                or (
                    i >= ii.yearlen
                    and i + 1 - ii.yearlen not in r._byyearday
                    and -ii.nextyearlen + i - ii.yearlen not in r._byyearday
                )
            )
        )
    )


def to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local `day` `at` in `tz`, RFC 5545 style (fold=0)."""
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


def occurrence_span(day: date, start: time, end: time, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC start and end of the occurrence starting on local `day`; end <= start ends the next day."""
    end_day = day + timedelta(days=1) if end <= start else day
    return to_utc(day, start, tz), to_utc(end_day, end, tz)
