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
        session = threading.Event()  # ends the session: on stop, or when another listener took the lease

        def terminate(*_):
            stop.set()
            session.set()

        signal.signal(signal.SIGTERM, terminate)
        try:
            self.listen(stop, session)
        except KeyboardInterrupt:
            stop.set()

    def listen(self, stop: threading.Event, session: threading.Event) -> None:
        said_busy = False
        while not stop.is_set():
            try:
                # A listener that stalled (paused, swapped out) past its lease and lost it to another ends its
                # session and waits, idle, like any second listener; meanwhile the session's record is the new
                # holder's, which its updates leave alone.
                with lease(LEASE, wait=2.0, max_hold=HOLD_FOR_EVER, on_lost=session.set) as held:
                    self.stdout.write("Listening to RingCentral's events (Ctrl-C stops)")
                    self.stdout.flush()
                    provider = default_provider()
                    if not isinstance(provider, RingCentralClient):
                        raise CommandError(f"the configured provider is {provider.label}, not RingCentral")
                    sink = HeardSink(
                        provider, enqueue=lambda targets: correct_drift.delay(targets), listener=held.holder
                    )
                    try:
                        Listener(provider, sink).run(session)
                    finally:
                        session_ended(provider.name, listener=held.holder)
                if stop.is_set():
                    return
                self.stdout.write("Another listener took the RingCentral session while this one stalled; waiting")
                self.stdout.flush()
                session.clear()
                said_busy = True
            except LeaseBusy:
                if not said_busy:
                    self.stdout.write("Another listener holds the RingCentral session; waiting until it stops")
                    self.stdout.flush()
                    said_busy = True
