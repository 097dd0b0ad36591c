"""One queue's needed, scheduled and taking-calls agents per interval, loaded from the database.

Needed comes from the stored call history (the forecast) with min staff as a floor while open;
scheduled from the planner (the one plan: schedule_snapshot + desired_state, holds included);
taking calls from the actual values: a member's queue switch on and her DnD letting queue calls through.
Up to now, taking calls is read from the actual-value log (queues.actual, the reader plan compliance
uses too): every change Callrota heard, read or wrote, so a change made at the phone counts. An interval
counts its current members' time-weighted average; members who have left the queue are not counted.
"""

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from queues.actual import Steps, actual_steps, taking, value_at
from queues.models import CallQueue, QueueMembership, queue_calls_reach
from scheduler.forecast.forecast import forecast, interval_start, interval_starts
from scheduler.forecast.queue_history import queue_history
from scheduler.forecast.side_by_side import (
    Interval,
    LevelChange,
    lowest_level,
    runs,
    service_level_change,
    side_by_side,
)
from scheduler.planning import DesiredState, Snapshot, boundaries, desired_state
from scheduler.selectors import schedule_snapshot

from .coverage import staffed_hours


def scheduled_counts(snapshot: Snapshot, queue_id: str, starts: list[datetime]) -> dict[datetime, int]:
    """Per interval start, the agents the plan has taking the queue's calls (accepting, and DnD letting them in).

    The plan changes only at its boundaries, so it is asked once per boundary, not once per interval.
    """
    if not starts:
        return {}
    changes = sorted({starts[0], *(b.at for b in boundaries(snapshot, starts[0], starts[-1] + timedelta(seconds=1)))})
    counts_at: dict[datetime, int] = {}
    counts = {}
    for at in starts:
        since = changes[bisect_right(changes, at) - 1]
        if since not in counts_at:
            counts_at[since] = _planned(desired_state(snapshot, since), queue_id)
        counts[at] = counts_at[since]
    return counts


def _planned(state: DesiredState, queue_id: str) -> int:
    return sum(
        1
        for (q, agent_id), accept in state.accept.items()
        if accept and q == queue_id and queue_calls_reach(state.dnd.get(agent_id)) is not False
    )


def taking_calls_counts(
    queue: CallQueue, starts: Iterable[datetime], *, minutes: int, now: datetime
) -> dict[datetime, int]:
    """Per interval start up to now, the queue's current members taking its calls, on average over the interval
    (up to now for the current one), read from the actual-value log, so changes made at the phone count."""
    step = timedelta(minutes=minutes)
    spans = {s: (s, min(now, s + step)) for s in starts if s < now}
    if not spans:
        return {}
    members = QueueMembership.objects.filter(queue=queue, agent__active=True).values_list("agent__provider_id")
    first, last = min(a for a, _ in spans.values()), max(b for _, b in spans.values())
    switches, dnds = actual_steps([queue], {a for (a,) in members}, first, last)
    series = [(steps, dnds.get(agent_id, [])) for (_, agent_id), steps in switches.items()]
    return {s: _mean_taking(series, since, until) for s, (since, until) in spans.items()}


def _mean_taking(series: list[tuple[Steps, Steps]], since: datetime, until: datetime) -> int:
    """Members taking calls over [since, until), time-weighted and rounded half up; unknown counts as not."""
    seconds = 0.0
    for switch, dnd in series:
        cuts = sorted({since, *(at for steps in (switch, dnd) for at, _ in steps if since < at < until)})
        for a, b in zip(cuts, [*cuts[1:], until], strict=True):
            if taking(value_at(switch, a), value_at(dnd, a)):
                seconds += (b - a).total_seconds()
    return math.floor(seconds / (until - since).total_seconds() + 0.5)


def forecast_zone(queue: CallQueue, snapshot: Snapshot) -> ZoneInfo:
    """The zone the queue's weeks are counted in: its opening hours' zone, else its shifts' most used zone."""
    hours = staffed_hours(queue)
    if hours is not None:
        return hours.tz
    zones = Counter(s.tz for s in snapshot.shifts if queue.provider_id in s.queue_ids)
    return zones.most_common(1)[0][0] if zones else ZoneInfo("UTC")


def queue_side_by_side(
    queue: CallQueue,
    *,
    start: datetime,
    end: datetime,
    now: datetime | None,
    tz: ZoneInfo | None = None,
    snapshot: Snapshot | None = None,
) -> list[Interval] | None:
    """The queue's intervals in [start, end): needed, scheduled, taking calls (up to `now`); None without history."""
    minutes, weeks = settings.CALLROTA_FORECAST_INTERVAL, settings.CALLROTA_FORECAST_WEEKS
    first = interval_start(start, minutes)
    history = queue_history(queue, before=first, minutes=minutes, weeks=weeks)
    if not history:
        return None
    snapshot = snapshot or schedule_snapshot(start=first, end=end)
    starts = interval_starts(first, end, minutes)
    expected = forecast(history, starts=starts, zone=tz or forecast_zone(queue, snapshot), minutes=minutes,
                        target=queue.target_service_level, answer_within=queue.answer_within, weeks=weeks,
                        known_until=first)  # fmt: skip
    hours = staffed_hours(queue)
    return side_by_side(
        expected,
        minutes=minutes,
        answer_within=queue.answer_within,
        scheduled=scheduled_counts(snapshot, queue.provider_id, starts),
        taking_calls=taking_calls_counts(queue, starts, minutes=minutes, now=now) if now else {},
        floor=lambda at: queue.min_staff if hours is None or hours.is_open(at) else 0,
    )


def projected_service_level_change(
    *, queue: CallQueue, start: datetime, end: datetime, scheduled_delta: int, tz: ZoneInfo | None = None
) -> list[LevelChange]:
    """Per interval touching [start, end), the queue's projected service level before and after
    `scheduled_delta` more scheduled agents (-1: one fewer). Empty without call history."""
    intervals = queue_side_by_side(queue, start=start, end=end, now=None, tz=tz) or []
    return service_level_change(
        intervals, scheduled_delta=scheduled_delta, minutes=settings.CALLROTA_FORECAST_INTERVAL,
        answer_within=queue.answer_within,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class NeedShortfall:
    """[start, end) in UTC in which a queue has fewer scheduled agents than it needs, forecast and floor."""

    queue_id: str
    start: datetime
    end: datetime
    staffed: int
    needed: int
    forecast_need: int
    min_staff: int
    service_level: float | None  # the lowest projected level of the run's intervals

    @property
    def missing(self) -> int:
        return self.needed - self.staffed

    def as_json(self) -> dict:
        return {
            "kind": "need",
            "queue": self.queue_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "staffed": self.staffed,
            "needed": self.needed,
            "forecast_need": self.forecast_need,
            "min_staff": self.min_staff,
            "missing": self.missing,
            "service_level": None if self.service_level is None else round(self.service_level, 4),
        }


def need_shortfalls(queue_id: str, intervals: Iterable[Interval]) -> list[NeedShortfall]:
    """The short intervals, neighbours with the same figures merged into one run."""
    short = [i for i in intervals if i.short]
    return [
        NeedShortfall(
            queue_id,
            run[0].start,
            run[-1].end,
            run[0].scheduled,
            run[0].needed,
            run[0].forecast_need,
            run[0].min_staff,
            lowest_level(run),
        )  # fmt: skip
        for run in runs(short, lambda i: (i.scheduled, i.needed, i.forecast_need, i.min_staff))
    ]


def need_report(*, start: datetime, end: datetime) -> list[tuple[NeedShortfall, str]]:
    """Every queue with call history: the runs in [start, end) scheduled below need, with the queue's name."""
    minutes = settings.CALLROTA_FORECAST_INTERVAL
    snapshot = schedule_snapshot(start=interval_start(start, minutes), end=end)
    found = []
    for queue in CallQueue.objects.filter(call_volume__minutes=minutes).distinct():
        intervals = queue_side_by_side(queue, start=start, end=end, now=None, snapshot=snapshot) or []
        runs = need_shortfalls(queue.provider_id, intervals)
        found += [(replace(s, start=max(s.start, start), end=min(s.end, end)), queue.name) for s in runs]
    return sorted(found, key=lambda f: (f[0].start, f[0].queue_id))
