from django.core.management.base import BaseCommand, CommandError

from integrations.base import ProviderError
from integrations.providers import default_provider
from queues.sync import sync_queues


class Command(BaseCommand):
    help = "Import call queues, their members, editableMemberStatus and business hours from the provider."

    def handle(self, *args, **options):
        """Sync, then print what changed and what each side lacks."""
        try:
            report = sync_queues(default_provider())
        except ProviderError as error:
            raise CommandError(f"the provider refused: {error}") from None
        self.stdout.write(f"queues created: {len(report.queues_created)}, updated: {len(report.queues_updated)}")
        self.stdout.write(f"memberships added: {report.memberships_added}, removed: {report.memberships_removed}")
        for queue_id in report.unknown_queues:
            self.stderr.write(f"queue {queue_id} is in the schedule but unknown to the provider")
        for agent_id in report.unknown_agents:
            self.stderr.write(f"agent {agent_id} is in the schedule but in no queue at the provider")
        self.stdout.write(
            f"opening hours read from the provider: {len(report.hours_stored)} changed, "
            f"{len(report.hours_kept)} kept as entered in admin"
        )
        for queue_id, why in report.hours_unread.items():
            self.stderr.write(f"queue {queue_id}: business hours not read: {why}")
        for member_id in report.members_not_in_schedule:
            self.stdout.write(f"provider member {member_id} has no agent here (add it to the schedule to manage it)")
