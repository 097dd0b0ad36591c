from django.core.management.base import BaseCommand

from scheduler.schedule.exporter import dump_schedule, export_document


class Command(BaseCommand):
    help = "Write the schedule in the import format (YAML) to standard output or a file."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", help="file to write instead of standard output")

    def handle(self, *args, output, **options):
        text = dump_schedule(export_document())
        if output:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            self.stdout.write(text, ending="")
