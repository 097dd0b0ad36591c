from django.core.management.base import BaseCommand, CommandError

from integrations.base import ProviderError
from integrations.ringcentral.client import client_from_settings


class Command(BaseCommand):
    help = "Check the RingCentral connection: sign in (with the installation's shared session) and read the API status."

    def handle(self, *args, **options):
        """Read the API status and the signed-in user's presence; exit 1 with RingCentral's reason when refused."""
        client = client_from_settings()
        try:
            status = client.read_status()
            presence = client.read_presence(["~"])["~"]
        except ProviderError as error:
            raise CommandError(error.describe()) from None
        self.stdout.write(f"RingCentral API: {status.detail or 'unknown'}")
        self.stdout.write(f"signed in as extension {presence.extension_id} (DnD {presence.dnd_status or 'none'})")
