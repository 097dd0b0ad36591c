from django.core.management.base import BaseCommand, CommandError

from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import ScheduleFormatError, read_schedule_file


class Command(BaseCommand):
    help = "Load a schedule file (YAML or JSON): queues, agents, shifts and time off. All or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the schedule file")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")

    def handle(self, *args, file, dry_run, **options):
        """Read and check the whole file, write it in one transaction, print counts and warnings."""
        try:
            report = import_schedule(read_schedule_file(file, lenient=True), dry_run=dry_run)
        except ScheduleFormatError as error:
            for message in error.errors:
                self.stderr.write(message)
            raise CommandError(f"{len(error.errors)} error(s) in {file}; nothing was written.", returncode=1) from None
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(report.summary())
        if dry_run:
            self.stdout.write("dry run: nothing was written")
