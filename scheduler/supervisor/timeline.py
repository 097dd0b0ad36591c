"""A queue's day or week as bars: its shifts with their agents, those agents' time off, gaps below min_staff,
and, once there is call history, the agents the forecast needs beside the agents scheduled.

Positions are fractions of the window in real time, so a DST day shows 23 or 25 hours and
the bars stay true to the instants; labels are in the viewer's zone. The template draws SVG.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from queues.models import Agent, CallQueue
from scheduler.forecast.erlang import service_level, traffic
from scheduler.forecast.forecast import forecast, interval_starts
from scheduler.forecast.queue_history import queue_history
from scheduler.planning import desired_state
from scheduler.recurrence import to_utc
from scheduler.selectors import schedule_snapshot

from .board import change_words
from .coverage import staffed_hours, understaffed

CHARS_PER_PERCENT = 1.4  # the SVG is 1000 units wide for the window, about 7 units a character


@dataclass(frozen=True)
class Bar:
    start: datetime
    end: datetime
    label: str
    kind: str  # "shift", "time-off", "gap", or the forecast's "need" (met) and "short"
    x: float  # percent of the window's width
    width: float
    text: str = ""  # what fits on the bar itself (the agents, for a shift)
    changed: bool = False  # a changed occurrence (moved or substituted); its label says so, with the reason


@dataclass
class Lane:
    label: str
    kind: str
    bars: list[Bar] = field(default_factory=list)


@dataclass
class Timeline:
    queue: CallQueue
    start: datetime
    end: datetime
    tz: ZoneInfo
    lanes: list[Lane]
    ticks: list[tuple[float, str]]
    now_x: float | None = None  # where "now" falls, in percent of the window; None outside it

    @property
    def gaps(self) -> list[Bar]:
        return [b for lane in self.lanes for b in lane.bars if b.kind == "gap"]


def window(day: date, days: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of `day` to local midnight `days` later, in UTC."""
    return to_utc(day, time(), tz), to_utc(day + timedelta(days=days), time(), tz)


def queue_timeline(queue: CallQueue, *, day: date, days: int, tz: ZoneInfo, now: datetime | None = None) -> Timeline:
    """The queue's shifts, its agents' time off and its understaffed gaps over `days` local days from `day`."""
    start, end = window(day, days, tz)
    now_x = round((now - start) / (end - start) * 100, 3) if now and start <= now < end else None
    snapshot = schedule_snapshot(start=start, end=end)
    names = dict(Agent.objects.values_list("provider_id", "name"))
    place = _placer(start, end, tz)
    lanes: list[Lane] = []
    rostered: set[str] = set()
    for shift in snapshot.shifts:
        if queue.provider_id not in shift.queue_ids:
            continue
        bars = []
        for occ in shift.occurrences(start, end):
            rostered.update(occ.agent_ids)
            agents = ", ".join(names.get(a, a) for a in occ.agent_ids) or "nobody"
            if occ.change is None:
                bars.append(place(occ.start, occ.end, agents, "shift"))
            else:
                bars.append(
                    replace(place(occ.start, occ.end, f"{agents} — {change_words(occ.change)}", "shift"), changed=True)
                )
        lanes.append(Lane(shift.name, "shift", bars))
    for agent_id in sorted(rostered, key=lambda a: names.get(a, a)):
        offs = [t for t in snapshot.time_off if t.agent_id == agent_id and t.start < end and t.end > start]
        if offs:
            bars = [place(t.start, t.end, t.reason or "time off", "time-off") for t in offs]
            lanes.append(Lane(f"{names.get(agent_id, agent_id)}: time off", "time-off", bars))
    gaps = understaffed(
        snapshot, {queue.provider_id: queue.min_staff}, start, end, {queue.provider_id: staffed_hours(queue)}
    )
    label = "{} of {} scheduled"
    lanes.append(
        Lane(
            "Below min staff", "gap", [place(g.start, g.end, label.format(g.staffed, g.min_staff), "gap") for g in gaps]
        )
    )
    need = _need_lane(queue, snapshot, start, end, tz, place)
    if need:
        lanes.append(need)
    return Timeline(queue, start, end, tz, lanes, _ticks(day, days, tz, place), now_x)


def _need_lane(queue: CallQueue, snapshot, start: datetime, end: datetime, tz: ZoneInfo, place) -> Lane | None:
    """Agents the forecast needs beside agents scheduled, per interval; short intervals red with their level.

    None when the queue has no call history yet. Neighbouring intervals with the same figures share a bar.
    """
    minutes, weeks = settings.CALLROTA_FORECAST_INTERVAL, settings.CALLROTA_FORECAST_WEEKS
    history = queue_history(queue, before=start, minutes=minutes, weeks=weeks)
    if not history:
        return None
    starts = interval_starts(start, end, minutes)
    expected = forecast(history, starts=starts, zone=tz, minutes=minutes, target=queue.target_service_level,
                        answer_within=queue.answer_within, weeks=weeks)  # fmt: skip
    step = timedelta(minutes=minutes)
    runs: list[tuple[datetime, datetime, int, int, float]] = []
    for e in expected:
        accept = desired_state(snapshot, e.start).accept
        scheduled = sum(1 for (q, _), on in accept.items() if on and q == queue.provider_id)
        erlangs = traffic(e.arrivals * 60 / minutes, e.aht_seconds)
        level = service_level(scheduled, erlangs, e.aht_seconds, queue.answer_within) if e.agents else 1.0
        if runs and runs[-1][1] == e.start and runs[-1][2:4] == (e.agents, scheduled):
            runs[-1] = (runs[-1][0], e.start + step, e.agents, scheduled, min(runs[-1][4], level))
        else:
            runs.append((e.start, e.start + step, e.agents, scheduled, level))
    bars = [
        place(
            s,
            t,
            f"need {n}, scheduled {m}" + (f", service level {level:.0%}" if m < n else ""),
            "short" if m < n else "need",
        )  # fmt: skip
        for s, t, n, m, level in runs
        if n or m
    ]
    return Lane(f"Need (forecast, {queue.target_service_level:.0%} in {queue.answer_within} s)", "need", bars)


def _placer(start: datetime, end: datetime, tz: ZoneInfo):
    total = (end - start).total_seconds()

    def place(s: datetime, e: datetime, label: str, kind: str) -> Bar:
        s, e = max(s, start), min(e, end)
        x = (s - start).total_seconds() / total * 100
        local = _span(s.astimezone(tz), e.astimezone(tz))
        width = (e - s).total_seconds() / total * 100
        fits = int(width * CHARS_PER_PERCENT)
        text = label if len(label) <= fits else (label[: fits - 1] + "…" if fits > 3 else "")
        return Bar(s, e, f"{label} ({local})", kind, round(x, 3), round(width, 3), text)

    return place


def _span(start: datetime, end: datetime) -> str:
    """'Tue 08:00–12:00', or with the end's day when it ends on a later day (a midnight end is the same day's)."""
    same_day = start.date() == end.date() or (end.time() == time() and end - start < timedelta(days=1))
    return f"{start:%a %H:%M}–{end:%H:%M}" if same_day else f"{start:%a %H:%M}–{end:%a %H:%M}"


def _ticks(day: date, days: int, tz: ZoneInfo, place) -> list[tuple[float, str]]:
    """A tick every 3 local hours for a day, every local midnight for a week."""
    if days > 1:
        return [(place(to_utc(d, time(), tz), to_utc(d, time(), tz), "", "").x, f"{d:%a %d %b}")
                for d in (day + timedelta(days=i) for i in range(days))]  # fmt: skip
    return [
        (place(to_utc(day, time(h), tz), to_utc(day, time(h), tz), "", "").x, f"{h:02d}:00") for h in range(0, 24, 3)
    ]
