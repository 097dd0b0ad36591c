"""A queue's day or week as bars: its shifts with their agents, those agents' time off, gaps below min_staff,
and, once there is call history, three lanes side by side: agents needed, scheduled and taking calls.

Positions are fractions of the window in real time, so a DST day shows 23 or 25 hours and
the bars stay true to the instants; labels are in the viewer's zone. The template draws SVG.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from queues.models import Agent, CallQueue
from scheduler.forecast.side_by_side import Interval, lowest_level, runs
from scheduler.recurrence import to_utc
from scheduler.selectors import schedule_snapshot

from .board import change_words
from .coverage import staffed_hours, understaffed
from .need import queue_side_by_side

CHARS_PER_PERCENT = 1.4  # the SVG is 1000 units wide for the window, about 7 units a character


@dataclass(frozen=True)
class Bar:
    start: datetime
    end: datetime
    label: str
    kind: str  # "shift", "time-off", "gap"; side by side: "need", "scheduled" (meets need), "short", "taking"
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

    @property
    def short_of_need(self) -> list[Bar]:
        return [b for lane in self.lanes for b in lane.bars if b.kind == "short"]


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
    lanes += _side_by_side_lanes(queue, snapshot, start, end, tz, now, place)
    return Timeline(queue, start, end, tz, lanes, _ticks(day, days, tz, place), now_x)


def _side_by_side_lanes(queue: CallQueue, snapshot, start: datetime, end: datetime, tz: ZoneInfo, now, place):
    """Three lanes per interval: agents needed, agents scheduled (red where short, with the projected service
    level in words), agents taking calls (up to now). No lanes without call history; equal neighbours share a bar."""
    intervals = queue_side_by_side(queue, start=start, end=end, now=now, tz=tz, snapshot=snapshot)
    if intervals is None:
        return []
    target = f"{queue.target_service_level:.0%} in {queue.answer_within} s"
    needed = [
        place(
            r[0].start,
            r[-1].end,
            f"need {i.needed} (forecast {i.forecast_need}, min staff {i.min_staff})",
            "need",
            str(i.needed),
        )  # fmt: skip
        for r in runs(intervals, lambda i: (i.needed, i.forecast_need, i.min_staff))
        if (i := r[0]).needed
    ]
    scheduled = [
        place(
            r[0].start,
            r[-1].end,
            _scheduled_label(r),
            "short" if i.short else "scheduled",
            *_scheduled_texts(i, lowest_level(r)),
        )  # fmt: skip
        for r in runs(intervals, lambda i: (i.needed, i.scheduled))
        if (i := r[0]).needed or i.scheduled
    ]
    seen = [i for i in intervals if i.taking_calls is not None]
    taking = [
        place(
            r[0].start, r[-1].end, f"taking calls {i.taking_calls} of {i.needed} needed", "taking", str(i.taking_calls)
        )  # fmt: skip
        for r in runs(seen, lambda i: (i.taking_calls, i.needed))
        if (i := r[0]).taking_calls or i.needed
    ]
    return [
        Lane(f"Needed ({target})", "need", needed),
        Lane("Scheduled", "scheduled", scheduled),
        Lane("Taking calls", "taking", taking),
    ]


def _scheduled_label(run: list[Interval]) -> str:
    i, low = run[0], lowest_level(run)
    if not i.short:
        return f"need {i.needed}, scheduled {i.scheduled}"
    if low is None:
        return f"need {i.needed}, scheduled {i.scheduled}, no calls expected"
    same = all(abs((j.service_level or 0) - low) < 0.005 for j in run if j.service_level is not None)
    return f"need {i.needed}, scheduled {i.scheduled}, service level {'' if same else 'down to '}{low:.0%}"


def _scheduled_texts(i: Interval, low: float | None) -> tuple[str, ...]:
    """What a bar may show, longest first: a narrow red bar still shows its level."""
    if not i.short or low is None:
        return (str(i.scheduled),)
    return f"{i.scheduled} of {i.needed}, SL {low:.0%}", f"SL {low:.0%}", f"{low:.0%}"


def _placer(start: datetime, end: datetime, tz: ZoneInfo):
    total = (end - start).total_seconds()

    def place(s: datetime, e: datetime, label: str, kind: str, *shorter: str) -> Bar:
        s, e = max(s, start), min(e, end)
        x = (s - start).total_seconds() / total * 100
        local = _span(s.astimezone(tz), e.astimezone(tz))
        width = (e - s).total_seconds() / total * 100
        fits = int(width * CHARS_PER_PERCENT)
        text = next((t for t in (label, *shorter) if len(t) <= fits), "")
        if not text and not shorter and fits > 3:
            text = label[: fits - 1] + "…"
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
