"""Print plan compliance per queue and local day: the share of scheduled minutes the provider matched the plan."""

import json
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from scheduler import recurrence
from scheduler.reports.compliance import compliance_report
from scheduler.selectors import schedule_zones

DEFAULT_DAYS = 7


class Command(BaseCommand):
    help = (
        "Plan compliance per queue and local day (the schedule's zone): scheduled minutes, matched minutes, "
        "and each interval where the provider differed from the plan."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (default: 6 days before --to)")
        parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD, inclusive (default: today)")
        parser.add_argument("--queue", action="append", help="a queue's provider id (repeat for more; default: all)")
        parser.add_argument("--tz", help="IANA zone of the days (default: the zone most shifts are written in)")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON for programs")

    def handle(self, *args, first=None, last=None, queue=None, tz=None, as_json=False, **options):
        """Resolve the zone and days, build the report, print it as a table or JSON."""
        zone = _zone(tz or schedule_zones()[0])
        last_day = _day("--to", last) if last else timezone.now().astimezone(zone).date()
        first_day = _day("--from", first) if first else last_day - timedelta(days=DEFAULT_DAYS - 1)
        if last_day < first_day:
            raise CommandError(f"--to {last_day} is before --from {first_day}: give the earlier day first.")
        if (last_day - first_day).days > 366:
            raise CommandError("--from and --to span more than a year: give a shorter window.")
        rows = compliance_report(first=first_day, last=last_day, tz=zone, queue_ids=queue)
        if queue and not rows:
            raise CommandError(f"--queue: no queue has the provider id {', '.join(queue)}; see the queues in admin.")
        if as_json:
            payload = {"zone": zone.key, "from": first_day.isoformat(), "to": last_day.isoformat(),
                       "rows": [r.as_json() for r in rows]}  # fmt: skip
            self.stdout.write(json.dumps(payload, indent=2))
            return
        self.stdout.write(render(rows, zone.key))


def _zone(name: str):
    try:
        return recurrence.zone(name)
    except ValueError as error:
        raise CommandError(f"--tz: {error}") from None


def _day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-23.") from None


def render(rows, zone: str) -> str:
    """The report as an aligned table, one line per queue and day, deviations counted."""
    lines = [
        f"Days in {zone}.",
        f"{'queue':<24} {'day':<10} {'scheduled':>9} {'matched':>8} {'compliance':>10} deviations",
    ]
    for r in rows:
        t = r.tally
        percent = "-" if t.percent is None else f"{t.percent:.1f}%"
        lines.append(f"{r.queue.name[:24]:<24} {r.day.isoformat():<10} {t.scheduled / 60:>9.0f} {t.matched / 60:>8.0f} "
                     f"{percent:>10} {len(t.deviations)}")  # fmt: skip
    return "\n".join(lines)
