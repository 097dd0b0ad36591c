"""Bring call queues, memberships and editableMemberStatus in from the provider."""

from dataclasses import dataclass, field

from django.db import transaction

from integrations.base import Provider

from .models import Agent, CallQueue, QueueMembership


@dataclass
class SyncReport:
    queues_created: list[str] = field(default_factory=list)
    queues_updated: list[str] = field(default_factory=list)
    memberships_added: int = 0
    memberships_removed: int = 0
    unknown_queues: list[str] = field(default_factory=list)  # in the schedule, not at the provider
    unknown_agents: list[str] = field(default_factory=list)  # in the schedule, in no provider queue
    members_not_in_schedule: list[str] = field(default_factory=list)  # provider members we have no agent for


def sync_queues(provider: Provider) -> SyncReport:
    """Match our queues and memberships to the provider's; report what each side lacks."""
    remote = provider.list_queues()
    report = SyncReport()
    with transaction.atomic():
        local = {q.provider_id: q for q in CallQueue.objects.filter(provider=provider.name)}
        agents = {a.provider_id: a for a in Agent.objects.filter(provider=provider.name)}
        for info in remote:
            queue = local.get(info.id)
            if queue is None:
                queue = CallQueue.objects.create(
                    provider=provider.name,
                    provider_id=info.id,
                    name=info.name,
                    editable_member_status=info.editable_member_status,
                )
                report.queues_created.append(info.id)
            elif queue.editable_member_status != info.editable_member_status:
                queue.editable_member_status = info.editable_member_status
                queue.save(update_fields=["editable_member_status"])
                report.queues_updated.append(info.id)
            _sync_members(queue, info.member_ids, agents, report)
    remote_ids = {q.id for q in remote}
    members = {m for q in remote for m in q.member_ids}
    report.unknown_queues = sorted(set(local) - remote_ids)
    report.unknown_agents = sorted(set(agents) - members)
    report.members_not_in_schedule = sorted(members - set(agents))
    return report


def _sync_members(queue: CallQueue, member_ids, agents: dict, report: SyncReport):
    current = set(queue.memberships.values_list("agent__provider_id", flat=True))
    wanted = {m for m in member_ids if m in agents}
    QueueMembership.objects.bulk_create(QueueMembership(queue=queue, agent=agents[m]) for m in wanted - current)
    removed, _ = queue.memberships.filter(agent__provider_id__in=current - wanted).delete()
    report.memberships_added += len(wanted - current)
    report.memberships_removed += removed
