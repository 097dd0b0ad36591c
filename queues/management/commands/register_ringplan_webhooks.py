"""Point RingPlan's webhooks at Callrota and subscribe to the call events (idempotent)."""

from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.base import ProviderError
from integrations.ringplan.client import client_from_settings
from queues.ringplan.webhooks import CALL_EVENTS


class Command(BaseCommand):
    help = "Set RingPlan's webhook callback URL (PUT /webhooks/callbacks/url) and subscribe to call events."

    def handle(self, *args, **options):
        """Check the secret, set the URL (with the secret in its query), subscribe to the call events missing."""
        if not settings.RINGPLAN_WEBHOOK_SECRET:
            raise CommandError("RINGPLAN_WEBHOOK_SECRET is empty: set it first, or the endpoint refuses every post.")
        url = f"{settings.RINGPLAN_WEBHOOK_URL}?{urlencode({'secret': settings.RINGPLAN_WEBHOOK_SECRET})}"
        client = client_from_settings()
        try:
            client.set_webhook_url(url)
            existing = set(client.webhook_subscriptions())
            missing = [kind for kind in CALL_EVENTS if kind not in existing]
            for kind in missing:
                client.subscribe(kind)
        except ProviderError as error:
            raise CommandError(f"RingPlan: {error}") from None
        self.stdout.write(f"Webhook URL set to {settings.RINGPLAN_WEBHOOK_URL} (secret in its query, not shown).")
        self.stdout.write(
            f"Subscribed: {', '.join(missing) or 'nothing new'}; already: {', '.join(sorted(existing)) or '-'}"
        )
