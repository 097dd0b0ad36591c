"""Celery tasks: thin shells around the domain functions."""

import logging
import socket
from datetime import date, datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from integrations.providers import default_provider

from .forecast.history import refresh_call_volume as call_volume_refresh
from .reconcile import dispatch
from .reconcile.diff import Target
from .reconcile.locks import LeaseBusy
from .reconcile.run import LEAD, reconcile_locked
from .reconcile.sweep import sweep
from .reports.calls_handled import calls_handled_refresh, nightly_window
from .requests.notices import remind_changed_shifts
from .supervisor.understaffed import check_understaffed as understaffed_check

log = logging.getLogger(__name__)


@shared_task(soft_time_limit=10, time_limit=15)
def ping() -> dict:
    """Answer from a worker: proves the broker and the result backend carry a round trip."""
    return {"pong": True, "worker": socket.gethostname()}


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=30,
    soft_time_limit=settings.RECONCILE_SOFT_TIME_LIMIT,
    time_limit=settings.RECONCILE_TIME_LIMIT,
)
def reconcile_schedule(self, boundary: str | None = None, trigger: str = "beat") -> dict:
    """One reconcile run: everything, or what changes at one boundary (dispatcher)."""
    boundary_at = datetime.fromisoformat(boundary) if boundary else None
    try:
        result = reconcile_locked(provider=default_provider(), trigger=trigger, boundary=boundary_at)
    except LeaseBusy:
        if not boundary:
            log.info("reconcile skipped: another run holds the lease")
            return {"skipped": True}
        raise self.retry(countdown=0.5) from None  # the boundary must still be applied after the busy run
    return {
        "run": result.run.pk if result.run else None,
        "writes": result.writes,
        "failed": result.failed,
        "ok": result.ok,
    }


@shared_task(
    acks_late=True, soft_time_limit=settings.RECONCILE_SOFT_TIME_LIMIT, time_limit=settings.RECONCILE_TIME_LIMIT
)
def sweep_slice() -> dict:
    """Read and correct this minute's slice of the managed queues and agents (the rolling sweep)."""
    result = sweep(provider=default_provider())
    if result is None:
        return {"skipped": True}
    return {"run": result.run.pk if result.run else None, "writes": result.writes, "ok": result.ok}


@shared_task(soft_time_limit=settings.DISPATCH_SOFT_TIME_LIMIT, time_limit=settings.DISPATCH_TIME_LIMIT)
def dispatch_boundaries() -> list[str]:
    """Enqueue a run for each boundary in the next few minutes, to start LEAD ahead and write at its exact instant."""

    def enqueue(at: datetime):
        reconcile_schedule.apply_async(kwargs={"boundary": at.isoformat(), "trigger": "boundary"}, eta=at - LEAD)

    return [at.isoformat() for at in dispatch.dispatch(timezone.now(), enqueue)]


@shared_task
def refresh_calls_handled(first: str | None = None, last: str | None = None) -> dict:
    """Store the calls each agent handled per day over [first, last] (ISO dates; default: the nightly window)."""
    default_first, default_last = nightly_window(timezone.now())
    first_day = date.fromisoformat(first) if first else default_first
    last_day = date.fromisoformat(last) if last else default_last
    return calls_handled_refresh(first=first_day, last=last_day).as_json()


@shared_task
def refresh_call_volume() -> dict[str, str]:
    """Read each managed queue's new calls from the call log into per-interval history (for the forecast)."""
    return call_volume_refresh(default_provider(), now=timezone.now())


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=30,
    soft_time_limit=settings.RECONCILE_SOFT_TIME_LIMIT,
    time_limit=settings.RECONCILE_TIME_LIMIT,
)
def correct_drift(self, targets: list[list[str]]) -> dict:
    """Put back values the listener heard drift from the plan: a run scoped to those [agent, queue or ""]."""
    only = {Target(agent_id, queue_id) for agent_id, queue_id in targets}
    try:
        result = reconcile_locked(provider=default_provider(), trigger="drift", only=only)
    except LeaseBusy:
        raise self.retry(countdown=0.5) from None  # a correction must not be lost behind a busy run
    return {"run": result.run.pk if result.run else None, "writes": result.writes, "ok": result.ok}


@shared_task(soft_time_limit=45, time_limit=55)
def check_understaffed() -> list[int]:
    """Open, notify (once) and close understaffed episodes; the ids of the episodes notified now."""
    return [episode.pk for episode in understaffed_check(now=timezone.now())]


@shared_task
def remind_tomorrows_changes() -> int:
    """The day before a changed shift occurrence, tell its absent and covering agents."""
    return remind_changed_shifts(now=timezone.now())
