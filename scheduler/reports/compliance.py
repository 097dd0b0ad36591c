"""Plan compliance: per queue and local day, the share of scheduled minutes the provider matched the plan.

Definitions (what every figure here means):
- The plan is the one plan: `desired_state` of the stored schedule with its holds (overrides), taken at
  the window's start and after each of the planner's `boundaries`. A member's value is her queue switch.
- The actual value is the provider's, as Callrota learned it: the append-only log of changes
  (queues.models.ActualChange: heard from events, read by runs and the sweep, or written and
  acknowledged). A value holds from the moment it was learned until the next change of the same target.
- A member *takes the queue's calls* while her queue switch is on and her Do Not Disturb lets queue
  calls through (TakeAllCalls, or the legacy TakeDepartmentCallsOnly). A DnD Callrota never learned
  counts as letting them through, as on the now board. DnD therefore counts through its effect on queue
  calls only; the off-shift DnD an agent is planned to have when she is on no shift is not part of any
  queue's compliance.
- Scheduled minutes: member-minutes the plan has her on the queue, within the queue's open hours
  (`open_hours`; around the clock for a queue without hours), on that local day, up to now.
- Matched minutes: scheduled minutes in which she took the queue's calls.
- Unknown minutes: scheduled minutes before anything was learned of her queue switch; they are left out
  of the share, which is matched / (scheduled - unknown), and None when that is zero.
- Unplanned minutes: open minutes she took the queue's calls while the plan had her off; shown, and
  listed as deviations, but not part of the share (the share is of *scheduled* minutes).
- A deviation is an interval in which she took calls while planned off, or did not while planned on.
Days are local days of one zone (the schedule's own by default), so a DST day has 23 or 25 hours.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from queues.actual import Pair, Steps, actual_steps, taking, value_at
from queues.models import CallQueue
from scheduler.planning import Snapshot, boundaries, desired_state
from scheduler.recurrence import to_utc
from scheduler.selectors import schedule_snapshot
from scheduler.supervisor.opening import Interval, open_hours


def day_window(day: date, tz: ZoneInfo) -> Interval:
    """Local `day` in `tz` as a UTC interval (23 or 25 hours on a DST day)."""
    return to_utc(day, time(), tz), to_utc(day + timedelta(days=1), time(), tz)


@dataclass(frozen=True, slots=True)
class Deviation:
    """[start, end) in which an agent's actual state in a queue differed from the plan."""

    queue_id: str
    agent_id: str
    start: datetime
    end: datetime
    planned: bool  # the plan had her taking the queue's calls
    cause: str  # "queue switch" or "DnD": what kept her from (or put her to) taking calls

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    def as_json(self) -> dict:
        return {"queue": self.queue_id, "agent": self.agent_id, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "planned": self.planned, "cause": self.cause}  # fmt: skip


@dataclass
class Tally:
    """Seconds of one queue's (or member's) day by what the plan wanted and what the provider did."""

    scheduled: float = 0.0
    matched: float = 0.0
    unknown: float = 0.0
    unplanned: float = 0.0
    deviations: list[Deviation] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        self.scheduled += other.scheduled
        self.matched += other.matched
        self.unknown += other.unknown
        self.unplanned += other.unplanned
        self.deviations += other.deviations

    @property
    def percent(self) -> float | None:
        """Matched as a share of the scheduled seconds whose actual value is known, in percent (one decimal)."""
        known = self.scheduled - self.unknown
        return round(100 * self.matched / known, 1) if known > 0 else None


def member_tally(pair: Pair, plan: Steps, switch: Steps, dnd: Steps, windows: Iterable[Interval]) -> Tally:
    """Tally one member of one queue over `windows` (open hours of one day), listing her deviations."""
    tally = Tally()
    for start, end in windows:
        cuts = sorted({start, *(at for steps in (plan, switch, dnd) for at, _ in steps if start < at < end)})
        for since, until in zip(cuts, [*cuts[1:], end], strict=True):
            seconds = (until - since).total_seconds()
            planned, switched = bool(value_at(plan, since)), value_at(switch, since)
            took = taking(switched, value_at(dnd, since))
            if planned:
                tally.scheduled += seconds
                tally.unknown += seconds if took is None else 0
                tally.matched += seconds if took else 0
            elif took:
                tally.unplanned += seconds
            if took is not None and took != planned:
                cause = "queue switch" if bool(switched) != planned else "DnD"
                _extend(tally.deviations, Deviation(pair[0], pair[1], since, until, planned, cause))
    return tally


def _extend(deviations: list[Deviation], new: Deviation) -> None:
    """Append, merging with the previous deviation when it ends where this one starts and says the same."""
    last = deviations[-1] if deviations else None
    if last and last.end == new.start and (last.planned, last.cause) == (new.planned, new.cause):
        deviations[-1] = Deviation(last.queue_id, last.agent_id, last.start, new.end, last.planned, last.cause)
    else:
        deviations.append(new)


def plan_steps(snapshot: Snapshot, start: datetime, end: datetime) -> dict[Pair, Steps]:
    """(queue id, agent id) -> the plan's queue switch over [start, end), as steps (from the planner).

    Planned agent by agent: her values depend on her shifts, time off and holds only, so the planner
    over her part of the snapshot gives the same answer at a fraction of the cost of planning every
    pair at every boundary of everyone.
    """
    steps: dict[Pair, Steps] = defaultdict(list)
    for part in by_agent(snapshot).values():
        for at in [start, *(b.at for b in boundaries(part, start, end))]:
            for pair, accept in desired_state(part, at).accept.items():
                if not steps[pair] or steps[pair][-1][1] != accept:
                    steps[pair].append((at, accept))
    return dict(steps)


def by_agent(snapshot: Snapshot) -> dict[str, Snapshot]:
    """Each agent's part of the snapshot, as `schedule_snapshot(agent=)` loads it: her shifts naming only her,
    her time off, her holds and her off-shift DnD."""
    time_off, holds = defaultdict(list), defaultdict(list)
    for off in snapshot.time_off:
        time_off[off.agent_id].append(off)
    for hold in snapshot.overrides:  # in the snapshot's order: a later hold beats an earlier one
        holds[hold.agent_id].append(hold)
    dnd = snapshot.off_shift_dnd
    return {
        agent_id: Snapshot(
            tuple(replace(s, agent_ids=(agent_id,)) for s in snapshot.shifts_by_agent.get(agent_id, ())),
            tuple(time_off[agent_id]),
            {agent_id: dnd[agent_id]} if agent_id in dnd else {},
            tuple(holds[agent_id]),
        )
        for agent_id in set(snapshot.shifts_by_agent) | set(holds)
    }


@dataclass(frozen=True, slots=True)
class ComplianceRow:
    queue: CallQueue
    day: date
    tally: Tally

    def as_json(self) -> dict:
        t = self.tally
        return {
            "queue": self.queue.provider_id,
            "name": self.queue.name,
            "day": self.day.isoformat(),
            "scheduled_minutes": round(t.scheduled / 60, 1),
            "matched_minutes": round(t.matched / 60, 1),
            "unknown_minutes": round(t.unknown / 60, 1),
            "unplanned_minutes": round(t.unplanned / 60, 1),
            "compliance": t.percent,
            "deviations": [d.as_json() for d in t.deviations],
        }


def compliance_table(
    *,
    queues: list[CallQueue],
    days: list[date],
    tz: ZoneInfo,
    plan: Mapping[Pair, Steps],
    switches: Mapping[Pair, Steps],
    dnds: Mapping[str, Steps],
    now: datetime,
) -> list[ComplianceRow]:
    """One row per queue and day, up to `now`: pure over the plan's and the log's steps."""
    rows = []
    members_of: dict[str, list[Pair]] = defaultdict(list)
    for pair in sorted(plan):
        members_of[pair[0]].append(pair)
    for queue in queues:
        members = members_of[queue.provider_id]
        for day in days:
            start, end = day_window(day, tz)
            windows = open_hours(queue, start, min(end, now)) if start < now else []
            tally = Tally()
            for pair in members:
                tally.add(member_tally(pair, plan[pair], switches.get(pair, []), dnds.get(pair[1], []), windows))
            tally.deviations.sort(key=lambda d: (d.start, d.agent_id))
            rows.append(ComplianceRow(queue, day, tally))
    return rows


def compliance_report(
    *, first: date, last: date, tz: ZoneInfo, queue_ids: Iterable[str] | None = None, now: datetime | None = None
) -> list[ComplianceRow]:
    """Compliance per queue and local day over [first, last] (reads the schedule and the actual-value log)."""
    now = now or timezone.now()
    start, end = day_window(first, tz)[0], min(day_window(last, tz)[1], now)
    queues = list(CallQueue.objects.prefetch_related("opening_ranges", "closed_dates"))  # each queue's hours
    if queue_ids is not None:
        wanted = set(queue_ids)
        queues = [q for q in queues if q.provider_id in wanted]
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if start >= end:
        return compliance_table(queues=queues, days=days, tz=tz, plan={}, switches={}, dnds={}, now=now)
    names = {q.provider_id for q in queues}
    plan = {p: s for p, s in plan_steps(schedule_snapshot(start=start, end=end), start, end).items() if p[0] in names}
    switches, dnds = actual_steps(queues, {a for _, a in plan}, start, end)
    return compliance_table(queues=queues, days=days, tz=tz, plan=plan, switches=switches, dnds=dnds, now=now)


def audit_link(deviation: Deviation, queue_pk: int | None, agent_pk: int | None) -> str:
    """The audit history filtered to this deviation's agent (and queue, for a switch) around its interval."""
    margin = timedelta(minutes=1)
    query = {"agent": agent_pk, "created_at__gte": (deviation.start - margin).isoformat(),
             "created_at__lt": (deviation.end + margin).isoformat()}  # fmt: skip
    if deviation.cause == "queue switch":
        query["queue"] = queue_pk
    query = {name: value for name, value in query.items() if value is not None}
    return f"{reverse('admin:queues_auditentry_changelist')}?{urlencode(query)}"


TODAY_CACHED_FOR = 60  # seconds: the board refreshes every 15 s; a day's share moves little in a minute


def compliance_today(*, at: datetime, tz: ZoneInfo) -> dict[str, float | None]:
    """Queue provider id -> plan compliance of local today in `tz`, up to `at` (for the now board).

    Kept a minute in the cache: at 300 queues it takes seconds (bench/compliance.py), too long for each refresh.
    """
    today = at.astimezone(tz).date()
    key = f"compliance-today:{tz.key}:{today.isoformat()}"
    found = cache.get(key)
    if found is None:
        rows = compliance_report(first=today, last=today, tz=tz, now=at)
        found = {row.queue.provider_id: row.tally.percent for row in rows}
        cache.set(key, found, TODAY_CACHED_FOR)
    return found
