"""Serve the RingCentral emulator: `python manage.py run_emulator --port 8089 --seed SCHEDULE.yaml`."""

import argparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.ringcentral.emulator import Account, Config, Credentials, Emulator, make_server
from scheduler.schedule.parse import ScheduleFormatError, read_schedule_file

CONFIG_OPTIONS = ("rate_limits", "rate_window", "token_ttl", "fail_rate", "write_fail_rate", "latency")


def on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise argparse.ArgumentTypeError("expected on or off")
    return value == "on"


class Command(BaseCommand):
    help = "Serve a RingCentral emulator seeded from a schedule file, with credentials from RC_* settings."

    def add_arguments(self, parser):
        parser.add_argument("--seed", required=True, help="Schedule file: its queues, agents and memberships.")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8089, help="0 picks a free port (printed at start).")
        parser.add_argument("--owner", help="Extension id that owns the JWT (`~`); default the seed's first agent.")
        parser.add_argument("--rate-limits", type=on_off, default=True, metavar="on|off")
        parser.add_argument("--rate-window", type=float, default=60.0, metavar="SECONDS")
        parser.add_argument("--token-ttl", type=int, default=3600, metavar="SECONDS")
        parser.add_argument("--fail-rate", type=float, default=0.0, help="Share of API requests answered 503.")
        parser.add_argument("--write-fail-rate", type=float, default=0.0, help="Share of writes (PUT) answered 503.")
        parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS")

    def handle(self, *args, **options):
        """Read the seed, build the emulator, print where it listens, serve until interrupted."""
        server = self.build_server(options)
        host, port = server.server_address[:2]
        self.stdout.write(f"RingCentral emulator listening on http://{host}:{port}")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    def build_server(self, options):
        credentials = Credentials(settings.RC_CLIENT_ID, settings.RC_CLIENT_SECRET, settings.RC_JWT)
        if not all((credentials.client_id, credentials.client_secret, credentials.jwt)):
            raise CommandError("Set RC_CLIENT_ID, RC_CLIENT_SECRET and RC_JWT: the emulator accepts only those.")
        try:
            account = Account.from_schedule(read_schedule_file(options["seed"]))
        except ScheduleFormatError as error:
            raise CommandError("The seed has mistakes:\n" + "\n".join(error.errors)) from None
        owner = options["owner"] or next(iter(account.agents), None)
        try:
            config = Config().updated({name: options[name] for name in CONFIG_OPTIONS})
            emulator = Emulator(account, credentials, owner=owner, config=config)
        except ValueError as error:
            raise CommandError(str(error)) from None
        return make_server(emulator, options["host"], options["port"])
