"""Each managed queue's calls per interval, read from the provider's call log into CallVolume rows.

The call log is RingCentral's Heavy group (10 requests a minute), so this runs at night in a
task, paced by the client, and reads only what is new: from the start of the last interval it
stored (that interval may have been read while it was still filling).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from integrations.base import ProviderError
from integrations.ringcentral.call_history import queue_calls
from integrations.ringcentral.schema import CallLogRecord
from queues.models import CallQueue
from scheduler.models import CallVolume

from .forecast import interval_start

log = logging.getLogger(__name__)

ANSWERED = frozenset({"Accepted", "Call connected"})
FIRST_READ = timedelta(weeks=8)  # how far back a queue's first read goes


@dataclass
class Counts:
    arrivals: int = 0
    handled: int = 0
    abandoned: int = 0
    handle_seconds: int = 0


def per_interval(records: Iterable[CallLogRecord], minutes: int) -> dict[datetime, Counts]:
    """Arrivals, answered and abandoned calls and handle time per interval, from call log records."""
    counts: dict[datetime, Counts] = defaultdict(Counts)
    for record in records:
        try:
            started = datetime.fromisoformat(record.start_time.replace("Z", "+00:00"))
        except ValueError:
            continue  # a record without a readable start cannot be placed
        interval = counts[interval_start(started, minutes)]
        interval.arrivals += 1
        if record.result in ANSWERED:
            interval.handled += 1
            interval.handle_seconds += max(0, record.duration)
        else:
            interval.abandoned += 1
    return dict(counts)


def refresh_call_volume(provider, *, now: datetime, minutes: int | None = None) -> dict[str, str]:
    """Read each managed queue's new calls and store them per interval; queue id -> what happened."""
    minutes = minutes or settings.CALLROTA_FORECAST_INTERVAL
    outcome: dict[str, str] = {}
    for queue in CallQueue.objects.filter(provider=provider.name, shifts__isnull=False).distinct():
        last = CallVolume.objects.filter(queue=queue, minutes=minutes).order_by("-start").first()
        since = last.start if last else interval_start(now - FIRST_READ, minutes)
        try:
            records = provider.read_call_log(extension_id=queue.provider_id, dateFrom=_iso(since), dateTo=_iso(now))
        except ProviderError as error:
            log.warning("call log of queue %s not read: %s", queue.provider_id, error)
            outcome[queue.provider_id] = f"not read: {error}"
            continue
        store(queue, per_interval(records, minutes), minutes)
        outcome[queue.provider_id] = f"{len(records)} calls since {since:%Y-%m-%d %H:%M} UTC"
    return outcome


@transaction.atomic
def store(queue: CallQueue, counts: dict[datetime, Counts], minutes: int) -> None:
    """Replace the stored figures of these intervals (the first may have been stored half full)."""
    CallVolume.objects.filter(queue=queue, minutes=minutes, start__in=list(counts)).delete()
    CallVolume.objects.bulk_create(
        [
            CallVolume(
                queue=queue,
                minutes=minutes,
                start=start,
                arrivals=c.arrivals,
                handled=c.handled,
                abandoned=c.abandoned,
                handle_seconds=c.handle_seconds,
            )  # fmt: skip
            for start, c in sorted(counts.items())
        ],
        batch_size=500,
    )


def seed_demo_call_volume(*, now: datetime, weeks: int, minutes: int | None = None) -> int:
    """Store the emulator's generated history of every queue with shifts, as the nightly read would; return calls.

    The demo's emulator generates the same calls from the same seed and hour (`run_emulator --history-weeks`),
    so the first view of the demo already has a forecast and the nightly read goes on from there.
    """
    minutes = minutes or settings.CALLROTA_FORECAST_INTERVAL
    end = now.replace(minute=0, second=0, microsecond=0)  # the emulator's end: the hour it starts in
    total = 0
    for queue in CallQueue.objects.filter(shifts__isnull=False).distinct():
        records = [CallLogRecord.from_api(r) for r in queue_calls([queue.provider_id], end=end, weeks=weeks)]
        store(queue, per_interval(records, minutes), minutes)
        total += len(records)
    return total


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
