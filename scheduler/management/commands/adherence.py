"""Print the adherence table: scheduled minutes against Ringostat's online minutes, per agent and day."""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from integrations.base import ProviderError
from scheduler.reports.adherence import adherence_report


class Command(BaseCommand):
    help = "Adherence per agent and day (Ringostat's project zone): scheduled vs online minutes."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD (inclusive)")
        parser.add_argument(
            "--calls", action="store_true", help="add calls handled per day from RingCentral's call log"
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON for programs")

    def handle(self, *args, first, last, calls: bool = False, as_json: bool = False, **options):
        """Parse the days, build the report, print it."""
        first_day, last_day = _day("--from", first), _day("--to", last)
        if last_day < first_day:
            raise CommandError(f"--to {last} is before --from {first}: give the earlier day first.")
        try:
            report = adherence_report(first=first_day, last=last_day, with_calls=calls)
        except ProviderError as error:
            raise CommandError(f"Provider: {error}") from None
        self.stdout.write(json.dumps(report.as_json(), indent=2) if as_json else render(report))


def _day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-23.") from None


def render(report) -> str:
    """The report as an aligned text table."""
    lines = [f"{'agent':<24} {'day':<10} {'scheduled':>9} {'online':>7} {'adherence':>9}"]
    for r in report.rows:
        percent = "-" if r.adherence is None else f"{r.adherence:.1f}%"
        lines.append(
            f"{r.agent:<24} {r.day.isoformat():<10} {r.scheduled_minutes:>9} {r.online_minutes:>7} {percent:>9}"
        )
    if report.unmatched_employees:
        lines.append("Ringostat employees mapped to no agent: " + ", ".join(report.unmatched_employees))
    return "\n".join(lines)
