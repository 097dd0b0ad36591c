"""Side by side, per queue and interval: agents needed, agents scheduled, agents taking calls.

Pure: the forecast, the planner's counts and the observed counts come in as data. Needed is the
forecast's Erlang C agents with the queue's min staff as a floor while it is open; the projected
service level is the one the scheduled agents would give the forecast calls. An interval is
short when fewer agents are scheduled than needed.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .erlang import service_level, traffic
from .forecast import Expected


@dataclass(frozen=True, slots=True)
class Interval:
    """One queue's interval: what the forecast needs, what the plan schedules, what was seen taking calls."""

    start: datetime
    end: datetime
    arrivals: float
    aht_seconds: float
    forecast_need: int  # Erlang C agents for the queue's target
    min_staff: int  # the floor in force: 0 while the queue is closed
    scheduled: int
    taking_calls: int | None  # None for the future, or where nothing was recorded
    service_level: float | None  # projected for the scheduled agents; None when no calls are expected

    @property
    def needed(self) -> int:
        return max(self.forecast_need, self.min_staff)

    @property
    def short(self) -> bool:
        return self.scheduled < self.needed

    def as_json(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "arrivals": round(self.arrivals, 2),
            "aht_seconds": round(self.aht_seconds),
            "forecast_need": self.forecast_need,
            "min_staff": self.min_staff,
            "needed": self.needed,
            "scheduled": self.scheduled,
            "taking_calls": self.taking_calls,
            "service_level": None if self.service_level is None else round(self.service_level, 4),
            "short": self.short,
        }


@dataclass(frozen=True, slots=True)
class LevelChange:
    """One interval's projected service level before and after a change in scheduled agents."""

    start: datetime
    end: datetime
    scheduled_before: int
    scheduled_after: int
    before: float | None  # None when no calls are expected
    after: float | None


def projected_level(
    agents: int, arrivals: float, aht_seconds: float, minutes: int, answer_within: float
) -> float | None:
    """The service level `agents` give an interval's expected calls; None when none are expected."""
    if arrivals <= 0:
        return None
    erlangs = traffic(arrivals * 60 / minutes, aht_seconds)
    return service_level(agents, erlangs, aht_seconds, answer_within)


def side_by_side(
    expected: Iterable[Expected],
    *,
    minutes: int,
    answer_within: float,
    scheduled: Mapping[datetime, int],
    taking_calls: Mapping[datetime, int],
    floor: Callable[[datetime], int],
) -> list[Interval]:
    """Each forecast interval beside its scheduled and observed agents; `floor(start)` is the min staff then."""
    step = timedelta(minutes=minutes)
    return [
        Interval(
            start=e.start,
            end=e.start + step,
            arrivals=e.arrivals,
            aht_seconds=e.aht_seconds,
            forecast_need=e.agents,
            min_staff=floor(e.start),
            scheduled=scheduled.get(e.start, 0),
            taking_calls=taking_calls.get(e.start),
            service_level=projected_level(scheduled.get(e.start, 0), e.arrivals, e.aht_seconds, minutes, answer_within),
        )
        for e in expected
    ]


def service_level_change(
    intervals: Iterable[Interval], *, scheduled_delta: int, minutes: int, answer_within: float
) -> list[LevelChange]:
    """Each interval's projected service level now and with `scheduled_delta` agents more (negative: fewer)."""
    changes = []
    for i in intervals:
        after = max(0, i.scheduled + scheduled_delta)
        level = projected_level(after, i.arrivals, i.aht_seconds, minutes, answer_within)
        changes.append(LevelChange(i.start, i.end, i.scheduled, after, i.service_level, level))
    return changes


def runs(intervals: Iterable[Interval], key: Callable[[Interval], object]) -> list[list[Interval]]:
    """Neighbouring intervals with the same key, each run in order (a gap between intervals ends a run)."""
    found: list[list[Interval]] = []
    for i in intervals:
        if found and found[-1][-1].end == i.start and key(found[-1][-1]) == key(i):
            found[-1].append(i)
        else:
            found.append([i])
    return found


def lowest_level(run: Iterable[Interval]) -> float | None:
    """The lowest projected service level of the intervals that expect calls; None when none does."""
    return min((i.service_level for i in run if i.service_level is not None), default=None)


def level_falls(changes: Iterable[LevelChange]) -> list[LevelChange]:
    """The changes in which the projected service level falls by half a point or more."""
    return [c for c in changes if c.before is not None and c.after is not None and c.before - c.after >= 0.005]


def fall_in_words(queue_name: str, change: LevelChange, zone: ZoneInfo) -> str:
    """ "Support's projected service level 12:00–12:30 falls from 84% to 61%", in `zone`."""
    span = f"{change.start.astimezone(zone):%H:%M}–{change.end.astimezone(zone):%H:%M}"
    return f"{queue_name}'s projected service level {span} falls from {change.before:.0%} to {change.after:.0%}"
