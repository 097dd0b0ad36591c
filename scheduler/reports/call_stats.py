"""Calls handled per agent and day, from RingCentral's detailed call log (legs with legType).

A RingOut call has a leg per party (RingCentral's reference): the caller's status is the result of
the `RingOutClientToCaller` leg, the callee's of the `RingOutClientToSubscriber` leg, and a call
may have only one leg (e.g. Busy: the other party was never called). A RingOut counts as handled
when both parties connected; any other call when its own result is a connected one.
A call is counted once in the agent's local day (the column beside adherence).
"""

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from integrations.providers import default_provider
from integrations.ringcentral.schema import CallLogRecord

CONNECTED = frozenset({"Accepted", "Call connected"})
CALLER_LEG, CALLEE_LEG = "RingOutClientToCaller", "RingOutClientToSubscriber"


def ringout_statuses(record: CallLogRecord) -> tuple[str | None, str | None]:
    """(callerStatus, calleeStatus) from the legs; None for a party whose leg is absent."""
    return record.leg_result(CALLER_LEG), record.leg_result(CALLEE_LEG)


def is_ringout(record: CallLogRecord) -> bool:
    return any(leg.leg_type in (CALLER_LEG, CALLEE_LEG) for leg in record.legs)


def handled(record: CallLogRecord) -> bool:
    """Whether the call connected (for a RingOut: both its caller and callee legs)."""
    if is_ringout(record):
        return all(status in CONNECTED for status in ringout_statuses(record))
    return record.result in CONNECTED


def started_at(record: CallLogRecord) -> datetime:
    return datetime.fromisoformat(record.start_time.replace("Z", "+00:00"))


def calls_per_day(calls: dict[str, list[CallLogRecord]], tz: ZoneInfo) -> dict[tuple[str, date], int]:
    """Handled calls per agent and local day in `tz` (the column beside adherence)."""
    per_day: Counter = Counter()
    for agent_id, records in calls.items():
        for record in records:
            if handled(record):
                per_day[agent_id, started_at(record).astimezone(tz).date()] += 1
    return dict(per_day)


def read_calls(provider, agent_ids, start: datetime, end: datetime) -> dict[str, list[CallLogRecord]]:
    """Each agent's detailed call log records that started in [start, end) (one paged read per extension)."""
    window = {"dateFrom": start.isoformat(), "dateTo": end.isoformat()}
    return {
        agent_id: [r for r in provider.read_call_log(extension_id=agent_id, **window) if start <= started_at(r) < end]
        for agent_id in agent_ids
    }


def handled_per_day(*, first: date, last: date, tz: ZoneInfo, agent_ids, provider=None) -> dict[tuple[str, date], int]:
    """Handled calls per RingCentral agent and local day over [first, last], read from the configured provider."""
    start = datetime.combine(first, datetime.min.time(), tz)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
    return calls_per_day(read_calls(provider or default_provider(), agent_ids, start, end), tz)
