import json

from django.core.management.base import BaseCommand

from scheduler.supervisor.coverage import coverage_report

from ._options import add_window_arguments, window


class Command(BaseCommand):
    help = "List every interval in a window where a queue's scheduled staff is below its min_staff."

    def add_arguments(self, parser):
        add_window_arguments(parser)
        parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON for programs")

    def handle(self, *args, start, end, as_json, **options):
        """Check the window, find the shortfalls of the stored schedule, print them."""
        start, end = window(start, end)
        found = coverage_report(start=start, end=end)
        if as_json:
            self.stdout.write(json.dumps([s.as_json() | {"name": name} for s, name in found]))
            return
        for s, name in found:
            self.stdout.write(
                f"{s.start.isoformat()} to {s.end.isoformat()}  {name} ({s.queue_id}): "
                f"{s.staffed} of {s.min_staff} scheduled, {s.missing} short"
            )
        self.stdout.write(f"{len(found)} understaffed interval(s)")
