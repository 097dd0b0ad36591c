"""Serve the Ringostat emulator (JSON-RPC at /a/v2) for the demo and tests."""

import sys

from django.core.management.base import BaseCommand

from integrations.ringostat.emulator import DEMO_SEED, RPC_PATH, RingostatEmulator, make_server, read_seed


class Command(BaseCommand):
    help = "Serve the Ringostat emulator's JSON-RPC endpoint, loopback only."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8091, help="0 picks a free port")
        parser.add_argument("--seed", default=str(DEMO_SEED), help="YAML seed (default: the demo week)")

    def handle(self, *args, port: int, seed: str, **options):
        """Load the seed, bind, print the endpoint URL on the first line, serve until stopped."""
        server = make_server(RingostatEmulator(read_seed(seed)), port=port)
        self.stdout.write(f"Ringostat emulator listening on http://127.0.0.1:{server.server_address[1]}{RPC_PATH}")
        sys.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
