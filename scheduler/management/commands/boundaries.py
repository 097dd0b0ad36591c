import json

from django.core.management.base import BaseCommand

from scheduler.planning import boundaries
from scheduler.selectors import schedule_snapshot

from ._options import add_window_arguments, window


class Command(BaseCommand):
    help = "List every instant in a window at which the desired state changes, in UTC and local time."

    def add_arguments(self, parser):
        add_window_arguments(parser)
        parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON for programs")

    def handle(self, *args, start, end, as_json, **options):
        start, end = window(start, end)
        found = boundaries(schedule_snapshot(start=start, end=end), start, end)
        if as_json:
            self.stdout.write(json.dumps([_as_json(b) for b in found]))
            return
        for boundary in found:
            self.stdout.write(f"{boundary.at.isoformat()}  ({boundary.changes} change(s))")
            for t in boundary.transitions:
                self.stdout.write(f"    {t.kind:<15} {t.name}  at {t.local:%Y-%m-%d %H:%M %Z} ({t.local.tzinfo})")
        self.stdout.write(f"{len(found)} boundaries")


def _as_json(boundary) -> dict:
    return {
        "at": boundary.at.isoformat(),
        "changes": boundary.changes,
        "transitions": [
            {"kind": t.kind, "name": t.name, "local": t.local.isoformat(), "timezone": str(t.local.tzinfo)}
            for t in boundary.transitions
        ],
    }
