"""Import RingPlan's contacts and their extensions as agents; --dry-run previews."""

from django.core.management.base import BaseCommand, CommandError

from integrations.base import ProviderError
from integrations.ringplan.client import client_from_settings
from queues.ringplan.roster import roster_apply, roster_plan


class Command(BaseCommand):
    help = "Create or update agents from RingPlan's contacts and extensions (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")

    def handle(self, *args, dry_run: bool = False, **options):
        """Read contacts with extensions, plan, print the plan, apply it unless --dry-run."""
        try:
            contacts = client_from_settings().contacts_with_extensions()
        except ProviderError as error:
            raise CommandError(f"RingPlan: {error}") from None
        plan = roster_plan(contacts)
        for change in plan.changes:
            self.stdout.write(change.describe())
        summary = (
            f"{plan.count('create')} to create, {plan.count('update')} to update, {plan.count('unchanged')} unchanged"
        )
        if dry_run:
            self.stdout.write(f"Dry run: {summary}; nothing written.")
            return
        roster_apply(plan)
        self.stdout.write(f"Done: {summary.replace('to create', 'created').replace('to update', 'updated')}.")
