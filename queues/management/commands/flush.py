"""Django's flush, refusing up front (and saying why) while the guarded audit history holds entries."""

from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connections

from queues import audit_guard


class Command(flush.Command):
    help = f"{flush.Command.help} Refused while the append-only audit history holds entries."

    def handle(self, **options):
        connection = connections[options["database"]]
        if audit_guard.guards_entries(connection):
            raise CommandError(
                "flush would empty the audit history, which is append-only: nothing was flushed. "
                "To start over, point DATABASE_URL at a new database and run migrate."
            )
        super().handle(**options)
