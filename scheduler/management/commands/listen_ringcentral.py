"""Hold the installation's one RingCentral event session; runs until stopped."""

import signal
import threading
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from integrations.providers import default_provider
from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.listener import Listener
from queues.heard import session_ended
from scheduler.reconcile.listening import HeardSink
from scheduler.reconcile.locks import LeaseBusy, lease
from scheduler.tasks import correct_drift

LEASE = "listener:ringcentral"
# The lease is held for as long as the listener runs; it lapses 30 s after a killed one stops renewing it.
HOLD_FOR_EVER = timedelta(days=36_500)


class Command(BaseCommand):
    help = "Listen to RingCentral's events (WebSocket), store what is heard and put drift back in seconds."

    def handle(self, *args, **options):
        """1. wait, idle, while another listener holds the session; 2. listen until Ctrl-C or SIGTERM;
        3. end the session, so runs read again rather than trust what was heard."""
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            self.listen(stop)
        except KeyboardInterrupt:
            stop.set()

    def listen(self, stop: threading.Event) -> None:
        said_busy = False
        while not stop.is_set():
            try:
                with lease(LEASE, wait=2.0, max_hold=HOLD_FOR_EVER):
                    self.stdout.write("Listening to RingCentral's events (Ctrl-C stops)")
                    self.stdout.flush()
                    provider = default_provider()
                    if not isinstance(provider, RingCentralClient):
                        raise CommandError(f"the configured provider is {provider.label}, not RingCentral")
                    sink = HeardSink(provider, enqueue=lambda targets: correct_drift.delay(targets))
                    try:
                        Listener(provider, sink).run(stop)
                    finally:
                        session_ended(provider.name)
                return
            except LeaseBusy:
                if not said_busy:
                    self.stdout.write("Another listener holds the RingCentral session; waiting until it stops")
                    self.stdout.flush()
                    said_busy = True
