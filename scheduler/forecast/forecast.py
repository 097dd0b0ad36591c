"""The forecast: expected calls and handle time per queue and interval, and the agents they need.

For each future interval, the same weekday and local time over the last N weeks, the latest
weighing most (weights decay by a factor a week): arrivals are their weighted mean, handle time
their weighted total over their weighted answered calls. Weeks are counted on the local clock,
so 09:00 on a Monday compares with 09:00 on earlier Mondays across a DST change. A week before
the history starts is not a week of silence: it is left out. Agents come from Erlang C for the
queue's target (`erlang.py`).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from .erlang import agents_needed, service_level, traffic

DEFAULT_AHT = 180.0  # seconds, for an interval whose past weeks answered no call


@dataclass(frozen=True, slots=True)
class Past:
    """One interval of history."""

    start: datetime  # UTC
    arrivals: int
    handled: int
    handle_seconds: int


@dataclass(frozen=True, slots=True)
class Expected:
    """One future interval: the calls expected, their handle time, the agents they need and the level then."""

    start: datetime
    arrivals: float
    aht_seconds: float
    agents: int
    service_level: float


def forecast(
    history: Iterable[Past],
    *,
    starts: Iterable[datetime],
    zone: ZoneInfo,
    minutes: int,
    target: float,
    answer_within: float,
    weeks: int = 6,
    decay: float = 0.7,
    known_until: datetime | None = None,
) -> list[Expected]:
    """Each start's expected calls and the agents that meet `target` within `answer_within` seconds.

    With `known_until` (where the history read ends), a week at or after it is unknown, not silent:
    left out, so the forecast of a start weeks ahead rests on the weeks before it.
    """
    by_start = {p.start: p for p in history}
    first = min(by_start, default=None)
    result = []
    for start in starts:
        weight_sum = arrivals = handled = handle_seconds = 0.0
        local = start.astimezone(zone)
        for week in range(1, weeks + 1):
            past = interval_start((local - timedelta(weeks=week)).astimezone(UTC), minutes)  # wall-clock weeks
            if first is None or past < first:
                break
            if known_until is not None and past >= known_until:
                continue
            weight = decay ** (week - 1)
            seen = by_start.get(past)
            weight_sum += weight
            if seen:
                arrivals += weight * seen.arrivals
                handled += weight * seen.handled
                handle_seconds += weight * seen.handle_seconds
        expected = arrivals / weight_sum if weight_sum else 0.0
        aht = handle_seconds / handled if handled else DEFAULT_AHT
        agents, level = staff(expected * 60 / minutes, aht, target, answer_within)
        result.append(Expected(start, expected, aht, agents, level))
    return result


def staff(calls_per_hour: float, aht: float, target: float, answer_within: float) -> tuple[int, float]:
    """Agents needed and the service level they give; figures rounded so that intervals share answers."""
    return _staff(round(calls_per_hour, 2), round(aht), target, answer_within)


@lru_cache(maxsize=65_536)
def _staff(calls_per_hour: float, aht: float, target: float, answer_within: float) -> tuple[int, float]:
    if calls_per_hour <= 0:
        return 0, 1.0
    erlangs = traffic(calls_per_hour, aht)
    agents = agents_needed(erlangs, aht, target, answer_within)
    return agents, service_level(agents, erlangs, aht, answer_within)


def interval_start(at: datetime, minutes: int) -> datetime:
    """The start of the interval `at` falls in, on the UTC clock (15, 30 and 60 divide the hour)."""
    at = at.astimezone(UTC)
    return at.replace(minute=at.minute - at.minute % minutes, second=0, microsecond=0)


def interval_starts(first: datetime, last: datetime, minutes: int) -> list[datetime]:
    """Every interval start from `first` up to, not including, `last` (UTC)."""
    step, at, starts = timedelta(minutes=minutes), first.astimezone(UTC), []
    while at < last:
        starts.append(at)
        at += step
    return starts
