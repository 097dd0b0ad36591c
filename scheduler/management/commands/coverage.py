import json

from django.core.management.base import BaseCommand

from scheduler.supervisor.coverage import coverage_report
from scheduler.supervisor.need import need_report

from ._options import add_window_arguments, window


class Command(BaseCommand):
    help = (
        "List every interval in a window where a queue's scheduled staff is below its min_staff, then, for queues "
        "with call history, below the forecast's need (min staff as a floor)."
    )

    def add_arguments(self, parser):
        add_window_arguments(parser)
        parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON for programs")

    def handle(self, *args, start, end, as_json, **options):
        """Check the window, find the shortfalls of the stored schedule against min staff and need, print them.

        Need rows come after the min-staff rows (in --json, with "kind": "need"), only for queues with history.
        """
        start, end = window(start, end)
        found = coverage_report(start=start, end=end)
        short_of_need = need_report(start=start, end=end)
        if as_json:
            rows = [s.as_json() | {"name": name} for s, name in found]
            self.stdout.write(json.dumps(rows + [s.as_json() | {"name": name} for s, name in short_of_need]))
            return
        for s, name in found:
            self.stdout.write(
                f"{s.start.isoformat()} to {s.end.isoformat()}  {name} ({s.queue_id}): "
                f"{s.staffed} of {s.min_staff} scheduled, {s.missing} short"
            )
        self.stdout.write(f"{len(found)} understaffed interval(s)")
        for s, name in short_of_need:
            level = "no calls expected" if s.service_level is None else f"projected service level {s.service_level:.0%}"
            self.stdout.write(
                f"{s.start.isoformat()} to {s.end.isoformat()}  {name} ({s.queue_id}): {s.staffed} of {s.needed} "
                f"needed scheduled (forecast {s.forecast_need}, min staff {s.min_staff}), {s.missing} short, {level}"
            )
        if short_of_need:
            self.stdout.write(f"{len(short_of_need)} interval(s) short of need")
