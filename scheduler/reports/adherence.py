"""Adherence: per agent and local day, minutes scheduled by the planner against minutes present in Ringostat.

`adherence_table` is pure (a schedule snapshot, Ringostat's day reports and the explicit
employee -> agent mapping in; rows out). `adherence_report` loads those and calls it.
Ringostat's report gives daily totals, not times, so adherence is present time as a share of
scheduled time, capped at 100%: "online" and "speaking" count as present (Ringostat has already
merged each employee's SIPs by its priority rule: speaking over online over DnD over offline).
"""

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from integrations.base import ProviderName
from integrations.models import IdentityKind, ProviderIdentity
from integrations.ringostat.client import SipStatusRow, client_from_settings
from queues.models import Agent
from scheduler.planning import Snapshot
from scheduler.selectors import schedule_snapshot

from .call_stats import handled_per_day


@dataclass(frozen=True, slots=True)
class AdherenceRow:
    agent_id: str
    agent: str
    day: date
    scheduled_minutes: int
    online_minutes: int
    adherence: float | None  # percent, one decimal; None when nothing was scheduled
    calls_handled: int | None = None


@dataclass(frozen=True, slots=True)
class AdherenceReport:
    rows: list[AdherenceRow]
    unmatched_employees: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "rows": [{**asdict(r), "day": r.day.isoformat()} for r in self.rows],
            "unmatched_employees": self.unmatched_employees,
        }


def scheduled_spans(snapshot: Snapshot, agent_id: str, start: datetime, end: datetime) -> list[tuple]:
    """The agent's on-shift time in [start, end) as sorted, disjoint (start, end) pairs, time off removed."""
    spans = sorted(
        (max(o.start, start), min(o.end, end))
        for shift in snapshot.shifts_by_agent.get(agent_id, ())
        for o in shift.occurrences(start, end)
        if agent_id in o.agent_ids  # an occurrence she covers counts, one she sits out does not
    )
    merged: list[list] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    off = [(t.start, t.end) for t in snapshot.time_off if t.agent_id == agent_id]
    return _subtract([tuple(m) for m in merged], off)


def _subtract(spans: list[tuple], holes: list[tuple]) -> list[tuple]:
    for h_start, h_end in holes:
        spans = [piece for s, e in spans for piece in ((s, min(e, h_start)), (max(s, h_end), e)) if piece[0] < piece[1]]
    return spans


def scheduled_minutes(snapshot: Snapshot, agent_id: str, day: date, tz: ZoneInfo) -> int:
    """Minutes the agent is scheduled on local `day` in zone `tz`."""
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    return int(sum((e - s).total_seconds() for s, e in scheduled_spans(snapshot, agent_id, start, end)) // 60)


def adherence_table(
    *,
    snapshot: Snapshot,
    reports: dict[date, list[SipStatusRow]],
    employee_agents: dict[str, str],
    agent_names: dict[str, str],
    tz: ZoneInfo,
    calls: dict[tuple[str, date], int] | None = None,
) -> AdherenceReport:
    """One row per mapped agent and day of `reports`; Ringostat employees with no mapping listed apart."""
    present: dict[tuple[str, date], int] = {}
    unmatched: set[str] = set()
    for day, rows in reports.items():
        for row in rows:
            agent_id = employee_agents.get(row.employee)
            if agent_id is None:
                unmatched.add(row.employee)
            else:
                present[agent_id, day] = present.get((agent_id, day), 0) + row.working
    table = []
    for agent_id in sorted(set(employee_agents.values()), key=lambda a: (agent_names.get(a, a), a)):
        for day in sorted(reports):
            scheduled = scheduled_minutes(snapshot, agent_id, day, tz)
            online = present.get((agent_id, day), 0) // 60
            percent = round(100 * min(online, scheduled) / scheduled, 1) if scheduled else None
            handled = None if calls is None else calls.get((agent_id, day), 0)
            table.append(
                AdherenceRow(agent_id, agent_names.get(agent_id, agent_id), day, scheduled, online, percent, handled)
            )
    return AdherenceReport(table, sorted(unmatched))


def adherence_report(
    *, first: date, last: date, client=None, with_calls: bool = False, call_provider=None
) -> AdherenceReport:
    """The adherence table for [first, last] from the database, the schedule and Ringostat (settings);
    with_calls adds the calls each RingCentral agent handled that day (RingCentral's call log)."""
    tz = ZoneInfo(settings.RINGOSTAT_TIMEZONE)
    client = client or client_from_settings()
    reports = client.daily_report(settings.RINGOSTAT_PROJECT_ID, first, last)
    snapshot = schedule_snapshot(
        start=datetime.combine(first, time(), tz), end=datetime.combine(last + timedelta(days=1), time(), tz)
    )
    mapping = ringostat_employees()
    names = dict(Agent.objects.filter(provider_id__in=mapping.values()).values_list("provider_id", "name"))
    calls = None
    if with_calls:
        agent_ids = sorted(call_log_agents(mapping).values_list("provider_id", flat=True))
        calls = handled_per_day(first=first, last=last, tz=tz, agent_ids=agent_ids, provider=call_provider)
    return adherence_table(
        snapshot=snapshot, reports=reports, employee_agents=mapping, agent_names=names, tz=tz, calls=calls
    )


def ringostat_employees() -> dict[str, str]:
    """Ringostat employee (as its report spells the name) -> agent provider id, from explicit provider identities."""
    return dict(
        ProviderIdentity.objects.filter(provider=ProviderName.RINGOSTAT, kind=IdentityKind.EMPLOYEE).values_list(
            "external_id", "agent__provider_id"
        )
    )


def call_log_agents(mapping: dict[str, str]):
    """The RingCentral agents of the report, whose call log gives the calls they handled."""
    return Agent.objects.filter(provider=ProviderName.RINGCENTRAL, provider_id__in=mapping.values())
