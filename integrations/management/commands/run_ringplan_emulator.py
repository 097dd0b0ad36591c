"""Serve the RingPlan emulator (REST and Socket.IO at /ws) for the demo and tests."""

import sys

from django.core.management.base import BaseCommand

from integrations.ringplan.emulator import DEMO_SEED, RingPlanEmulator, make_server, read_seed


class Command(BaseCommand):
    help = "Serve the RingPlan emulator: REST and Socket.IO (/ws) on one port, loopback only."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8092, help="0 picks a free port")
        parser.add_argument("--seed", default=str(DEMO_SEED), help="YAML seed (default: the demo company)")

    def handle(self, *args, port: int, seed: str, **options):
        """Load the seed, bind, print the URL on the first line (the harness reads it), serve until stopped."""
        server = make_server(RingPlanEmulator(read_seed(seed)), port=port)
        self.stdout.write(f"RingPlan emulator listening on http://127.0.0.1:{server.server_port}")
        sys.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
