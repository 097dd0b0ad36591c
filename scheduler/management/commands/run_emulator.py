"""Serve a provider emulator: `python manage.py run_emulator [--provider ringcentral] --port 8089 --seed FILE`."""

import argparse
from typing import Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from werkzeug.serving import BaseWSGIServer

from integrations.base import ProviderName
from integrations.emulation import EmulatorApp, read_seed, serve
from integrations.ringcentral.call_history import queue_calls
from integrations.ringcentral.emulator import Account, Config, Credentials, Emulator
from integrations.ringostat.emulator import DEMO_SEED as RINGOSTAT_SEED
from integrations.ringostat.emulator import RingostatEmulator
from integrations.ringplan.emulator import DEMO_SEED as RINGPLAN_SEED
from integrations.ringplan.emulator import RingPlanEmulator
from scheduler.schedule.parse import ScheduleFormatError, read_schedule_file

CONFIG_OPTIONS = ("rate_limits", "rate_window", "token_ttl", "fail_rate", "write_fail_rate", "latency")
DEMO_SEEDS = {ProviderName.RINGOSTAT: RINGOSTAT_SEED, ProviderName.RINGPLAN: RINGPLAN_SEED}


def on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise argparse.ArgumentTypeError("expected on or off")
    return value == "on"


class Command(BaseCommand):
    help = "Serve a provider's emulator. RingCentral's is seeded from a schedule file and takes the RC_* credentials."

    def add_arguments(self, parser):
        parser.add_argument("--provider", choices=ProviderName.values, default=ProviderName.RINGCENTRAL)
        parser.add_argument("--seed", help="RingCentral: a schedule file (required). Others: YAML, default the demo.")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8089, help="0 picks a free port (printed at start).")
        # RingCentral only; None means "not given", so other providers can refuse them.
        parser.add_argument("--owner", help="Extension id that owns the JWT (`~`); default the seed's first agent.")
        parser.add_argument("--rate-limits", type=on_off, metavar="on|off", help="Default on.")
        parser.add_argument("--rate-window", type=float, metavar="SECONDS", help="Default 60.")
        parser.add_argument("--token-ttl", type=int, metavar="SECONDS", help="Default 3600.")
        parser.add_argument("--fail-rate", type=float, help="Share of API requests answered 503.")
        parser.add_argument("--write-fail-rate", type=float, help="Share of writes (PUT) answered 503.")
        parser.add_argument("--latency", type=float, metavar="SECONDS")
        parser.add_argument(
            "--history-weeks", type=int, default=0, metavar="WEEKS", help="RingCentral: a call history for the queues."
        )

    def handle(self, *args, **options):
        """Build the emulator, print where it listens (the first line: tests read it), serve until stopped."""
        server = self.build_server(options)
        app = cast(EmulatorApp, server.app)
        host, port = server.server_address[:2]
        self.stdout.write(f"{app.title} listening on http://{host}:{port}{app.home}")
        self.stdout.flush()
        server.serve_forever()  # Werkzeug's: returns on Ctrl-C and closes the socket

    def build_server(self, options: dict[str, Any]) -> BaseWSGIServer:
        """The provider's emulator behind a bound server (not serving yet)."""
        provider = options["provider"]
        if provider == ProviderName.RINGCENTRAL:
            app: EmulatorApp = self.ringcentral(options)
        else:
            given = [f"--{name.replace('_', '-')}" for name in ("owner", *CONFIG_OPTIONS) if options[name] is not None]
            if given:
                raise CommandError(f"{', '.join(given)}: RingCentral's emulator only")
            seed = read_seed(options["seed"] or DEMO_SEEDS[provider])
            app = RingostatEmulator(seed) if provider == ProviderName.RINGOSTAT else RingPlanEmulator(seed)
        return serve(app, options["host"], options["port"])

    def ringcentral(self, options: dict[str, Any]) -> Emulator:
        credentials = Credentials(settings.RC_CLIENT_ID, settings.RC_CLIENT_SECRET, settings.RC_JWT)
        if not all((credentials.client_id, credentials.client_secret, credentials.jwt)):
            raise CommandError("Set RC_CLIENT_ID, RC_CLIENT_SECRET and RC_JWT: the emulator accepts only those.")
        if not options["seed"]:
            raise CommandError("--seed is required for RingCentral: a schedule file with its queues and agents.")
        try:
            account = Account.from_schedule(read_schedule_file(options["seed"]))
        except ScheduleFormatError as error:
            raise CommandError("The seed has mistakes:\n" + "\n".join(error.errors)) from None
        if not 0 <= options["history_weeks"] <= 26:
            raise CommandError("--history-weeks: from 0 to 26")
        if options["history_weeks"]:
            end = timezone.now().replace(minute=0, second=0, microsecond=0)
            account.call_log.extend(queue_calls(list(account.queues), end=end, weeks=options["history_weeks"]))
        owner: str = options["owner"] or next(iter(account.agents), "")
        changes = {name: options[name] for name in CONFIG_OPTIONS if options[name] is not None}
        try:
            return Emulator(account, credentials, owner=owner, config=Config().updated(changes))
        except ValueError as error:
            raise CommandError(str(error)) from None


class ProviderCommand(Command):
    """run_emulator for one provider on loopback, with only --port and --seed (run_ringostat_emulator, ...)."""

    provider: str
    default_port: int

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=self.default_port, help="0 picks a free port")
        parser.add_argument("--seed", default=str(DEMO_SEEDS[self.provider]), help="YAML seed (default: the demo)")

    def handle(self, *args, **options):
        rest = {name: None for name in ("owner", *CONFIG_OPTIONS)}
        super().handle(*args, **options, **rest, provider=self.provider, host="127.0.0.1")
