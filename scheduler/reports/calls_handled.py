"""Calls handled per agent and day, stored for pages to read.

RingCentral's call log is a Heavy call (10 a minute), one per agent, so no web request reads it:
a background task (nightly, and on a supervisor's "refresh now") stores the figures with the time
they were computed, and the adherence page shows those.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from integrations.base import ProviderError
from integrations.providers import default_provider
from scheduler.models import CallsHandled

from .adherence import call_log_agents, ringostat_employees
from .call_stats import handled_per_day

log = logging.getLogger(__name__)

NIGHTLY_DAYS = 8  # today so far and the seven days before it, in the report's zone
MAX_DAYS = 31  # the most the adherence page shows


@dataclass(frozen=True, slots=True)
class StoredCalls:
    calls: int
    computed_at: datetime


@dataclass(frozen=True, slots=True)
class Refreshed:
    stored: int  # (agent, day) figures written
    failed: list[str]  # agents whose call log could not be read; their old figures stay

    def as_json(self) -> dict:
        return {"stored": self.stored, "failed": self.failed}


def report_zone() -> ZoneInfo:
    return ZoneInfo(settings.RINGOSTAT_TIMEZONE)


def nightly_window(now: datetime) -> tuple[date, date]:
    """The days the nightly refresh recomputes: the last NIGHTLY_DAYS local days, today included."""
    today = now.astimezone(report_zone()).date()
    return today - timedelta(days=NIGHTLY_DAYS - 1), today


def calls_handled_refresh(*, first: date, last: date, provider=None) -> Refreshed:
    """Read each reported agent's call log over [first, last] and store calls handled per day.

    One agent's failed read never blocks the others; the window is cut to MAX_DAYS.
    """
    last = min(last, first + timedelta(days=MAX_DAYS - 1))
    provider = provider or default_provider()
    stored, failed = 0, []
    for agent in call_log_agents(ringostat_employees()).order_by("provider_id"):
        try:
            per_day = handled_per_day(
                first=first, last=last, tz=report_zone(), agent_ids=[agent.provider_id], provider=provider
            )
        except ProviderError as error:
            log.warning("calls handled of agent %s not read: %s", agent.provider_id, error)
            failed.append(agent.provider_id)
            continue
        stored += _store(agent, per_day, first, last)
    return Refreshed(stored, failed)


def _store(agent, per_day: dict[tuple[str, date], int], first: date, last: date) -> int:
    now = timezone.now()
    rows = [
        CallsHandled(agent=agent, day=day, calls=per_day.get((agent.provider_id, day), 0), computed_at=now)
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]
    CallsHandled.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["agent", "day"], update_fields=["calls", "computed_at"]
    )
    return len(rows)


def stored_calls_handled(*, first: date, last: date) -> dict[tuple[str, date], StoredCalls]:
    """(agent provider id, day) -> the stored figure, for the days of [first, last] computed so far."""
    rows = CallsHandled.objects.filter(day__range=(first, last)).values_list(
        "agent__provider_id", "day", "calls", "computed_at"
    )
    return {(agent_id, day): StoredCalls(calls, at) for agent_id, day, calls, at in rows}
