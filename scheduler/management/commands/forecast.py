import json
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from queues.models import CallQueue
from scheduler.forecast.forecast import forecast, interval_start, interval_starts
from scheduler.forecast.queue_history import queue_history
from scheduler.recurrence import zone

from ._options import instant


class Command(BaseCommand):
    help = "Expected calls, handle time and agents needed per interval, from the stored call history."

    def add_arguments(self, parser):
        parser.add_argument("--queue", help="a queue's provider id (default: every queue with history)")
        parser.add_argument("--from", dest="start", type=instant, help="ISO 8601 start (default: now)")
        parser.add_argument("--days", type=int, default=1, help="how many days to forecast, 1 to 28 (default 1)")
        parser.add_argument(
            "--timezone", dest="zone_name", default="America/New_York", help="the zone weeks are counted in"
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON for programs")

    def handle(self, *args, queue, start, days, zone_name: str, as_json, **options):
        if not 1 <= days <= 28:
            raise CommandError("--days: from 1 to 28")
        try:
            tz = zone(zone_name)
        except ValueError as error:
            raise CommandError(f"--timezone: {error}") from None
        minutes = settings.CALLROTA_FORECAST_INTERVAL
        first = interval_start(start or timezone.now(), minutes)
        starts = interval_starts(first, first + timedelta(days=days), minutes)
        queues = CallQueue.objects.filter(call_volume__minutes=minutes).distinct()
        if queue:
            queues = queues.filter(provider_id=queue)
            if not queues:
                raise CommandError(f"--queue: no call history for queue {queue!r}; the nightly task reads it")
        result = {}
        for q in queues:
            history = queue_history(q, before=first, minutes=minutes, weeks=settings.CALLROTA_FORECAST_WEEKS)
            expected = forecast(history, starts=starts, zone=tz, minutes=minutes, target=q.target_service_level,
                                answer_within=q.answer_within, weeks=settings.CALLROTA_FORECAST_WEEKS,
                                known_until=first)  # weeks from `first` on are unread, not silent  # fmt: skip
            result[q] = expected
        if as_json:
            payload = {
                q.provider_id: [
                    {
                        "start": e.start.isoformat(),
                        "arrivals": round(e.arrivals, 2),
                        "aht_seconds": round(e.aht_seconds),
                        "agents": e.agents,
                        "service_level": round(e.service_level, 4),
                    }  # fmt: skip
                    for e in expected
                ]
                for q, expected in result.items()
            }
            self.stdout.write(json.dumps(payload))
            return
        for q, expected in result.items():
            target = f"{q.target_service_level:.0%} in {q.answer_within} s"
            self.stdout.write(f"{q.name} ({q.provider_id}), {target}, {minutes}-minute intervals in {tz.key}")
            for e in expected:
                if e.arrivals >= 0.05:
                    local = e.start.astimezone(tz)
                    self.stdout.write(
                        f"  {local:%a %Y-%m-%d %H:%M}  {e.arrivals:6.1f} calls  AHT {e.aht_seconds:4.0f} s  "
                        f"{e.agents:3d} agents  (service level {e.service_level:.1%})"
                    )
