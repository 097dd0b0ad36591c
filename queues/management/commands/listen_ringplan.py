"""Listen to RingPlan's Socket.IO events and store each agent's live status; runs until stopped."""

import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.base import ProviderError
from integrations.ringplan.listener import Listener
from queues.ringplan.live_status import live_status_store


class Command(BaseCommand):
    help = "Keep a Socket.IO session to RingPlan (/ws) and store user_status_updated as agents' live status."

    def handle(self, *args, **options):
        """Build the listener from settings and run it until Ctrl-C (reconnecting with backoff)."""
        listener = Listener(
            settings.RINGPLAN_API_URL,
            settings.RINGPLAN_API_KEY,
            user_email=settings.RINGPLAN_USER_EMAIL,
            on_status=live_status_store,
        )
        stop = threading.Event()
        self.stdout.write(f"Listening to RingPlan at {settings.RINGPLAN_API_URL}/ws (Ctrl-C stops)")
        try:
            listener.run(stop)
        except KeyboardInterrupt:
            stop.set()
        except ProviderError as error:
            raise CommandError(f"{error}. Check RINGPLAN_API_KEY.") from None
