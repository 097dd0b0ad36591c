"""Opening hours: when a queue is open, as weekly local ranges in one zone, less its closed dates.

`OpeningHours` is pure: it answers "is the queue open at t" and "which open intervals in
[start, end)" in UTC. Local times that do not exist or occur twice on DST days follow
RFC 5545 §3.3.5, like the shifts (scheduler/recurrence.py): a nonexistent time takes the UTC
offset from before the gap, an ambiguous one its first occurrence; that is zoneinfo with fold=0.
A closed date closes the whole local day, also the part of an overnight range that runs into it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.base import BusinessHours, WeeklyRange

if TYPE_CHECKING:
    from .models import CallQueue

Span = tuple[datetime, datetime]
DAY = timedelta(days=1)
# Open every day from midnight to the next midnight: the hours of a queue that has closed dates only.
ALL_WEEK = tuple(WeeklyRange(weekday, time(0), time(0)) for weekday in range(7))


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local `day` `at` in `tz`, RFC 5545 style (fold=0)."""
    if at.fold:
        at = at.replace(fold=0)
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """A queue's weekly ranges in `tz`, closed on the local dates in `closed`."""

    ranges: tuple[WeeklyRange, ...]
    tz: ZoneInfo
    closed: frozenset[date] = frozenset()

    def intervals(self, start: datetime, end: datetime) -> list[Span]:
        """The open intervals within [start, end), in UTC, in order, touching ones merged."""
        first, last = start.astimezone(self.tz).date() - DAY, end.astimezone(self.tz).date()
        spans = [span for day in _days(first, last) for span in self._ranges_on(day)]
        shut = [self._whole_day(day) for day in self.closed if first <= day <= last + DAY]
        return _clip(_subtract(_merge(spans), _merge(shut)), start, end)

    def is_open(self, at: datetime) -> bool:
        """Whether the queue is open at the instant `at`."""
        return bool(self.intervals(at, at + timedelta(microseconds=1)))

    def _ranges_on(self, day: date) -> list[Span]:
        return [
            (local_instant(day, r.opens, self.tz), local_instant(day + (r.closes <= r.opens) * DAY, r.closes, self.tz))
            for r in _by_weekday(self.ranges)[day.weekday()]
        ]

    def _whole_day(self, day: date) -> Span:
        return local_instant(day, time(0), self.tz), local_instant(day + DAY, time(0), self.tz)


@lru_cache(maxsize=4096)  # a queue's ranges are asked for again on every board refresh
def _by_weekday(ranges: tuple[WeeklyRange, ...]) -> tuple[tuple[WeeklyRange, ...], ...]:
    return tuple(tuple(r for r in ranges if r.weekday == weekday) for weekday in range(7))


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += DAY


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for since, until in sorted(s for s in spans if s[0] < s[1]):
        if merged and since <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], until))
        else:
            merged.append((since, until))
    return merged


def _subtract(spans: list[Span], holes: list[Span]) -> list[Span]:
    left = []
    for since, until in spans:
        for hole_start, hole_end in holes:
            if hole_start < until and since < hole_end:
                if since < hole_start:
                    left.append((since, hole_start))
                since = max(since, hole_end)
        if since < until:
            left.append((since, until))
    return left


def _clip(spans: list[Span], start: datetime, end: datetime) -> list[Span]:
    return [(max(s, start), min(e, end)) for s, e in spans if s < end and start < e]


def opening_hours_of(queue: "CallQueue") -> OpeningHours | None:
    """The queue's opening hours; None when it is open around the clock (no ranges, no closed dates)."""
    if queue.pk is None:  # not stored yet, so no hours stored either
        return None
    ranges = tuple(WeeklyRange(r.weekday, r.opens, r.closes) for r in queue.opening_ranges.all())
    closed = frozenset(c.date for c in queue.closed_dates.all())
    if not ranges and not closed:
        return None
    return OpeningHours(ranges or ALL_WEEK, _zone_or_utc(queue.hours_timezone), closed)


def _zone_or_utc(name: str) -> ZoneInfo:
    # The admin and the sync refuse an unknown zone; a zone later dropped from tzdata must not stop the board.
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def store_provider_hours(queue: "CallQueue", hours: BusinessHours) -> bool:
    """Replace the queue's weekly ranges with the provider's, unless hours were entered in admin; whether it did."""
    if queue.hours_source == queue.HoursSource.ADMIN:
        return False
    changed = queue.hours_timezone != hours.timezone
    queue.hours_timezone = hours.timezone
    if changed:
        queue.save(update_fields=["hours_timezone"])
    return replace_opening_hours(queue, ranges=hours.ranges) or changed


def replace_opening_hours(
    queue: "CallQueue", *, ranges: Iterable[WeeklyRange] | None = None, closed: dict[date, str] | None = None
) -> bool:
    """Replace the queue's weekly ranges and its closed dates (None: leave them as they are); whether any changed."""
    changed = False
    if ranges is not None and ranges_of(queue) != (wanted := set(ranges)):
        queue.opening_ranges.all().delete()
        queue.opening_ranges.bulk_create(
            queue.opening_ranges.model(queue=queue, weekday=r.weekday, opens=r.opens, closes=r.closes)
            for r in sorted(wanted, key=lambda r: (r.weekday, r.opens))
        )
        changed = True
    if closed is not None and closed_dates_of(queue) != closed:
        queue.closed_dates.all().delete()
        queue.closed_dates.bulk_create(
            queue.closed_dates.model(queue=queue, date=day, name=name) for day, name in sorted(closed.items())
        )
        changed = True
    return changed


def ranges_of(queue: "CallQueue") -> set[WeeklyRange]:
    """The queue's stored weekly ranges."""
    return {WeeklyRange(r.weekday, r.opens, r.closes) for r in queue.opening_ranges.all()} if queue.pk else set()


def closed_dates_of(queue: "CallQueue") -> dict[date, str]:
    """The queue's stored closed dates, each with its name."""
    return {c.date: c.name for c in queue.closed_dates.all()} if queue.pk else {}
