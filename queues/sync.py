"""Bring call queues, memberships, editableMemberStatus and business hours in from the provider.

Opening hours entered in admin (or by a schedule file) win: the provider's business hours are
stored only on queues whose hours come from the provider. Closed dates are entered in admin only.
"""

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction

from integrations.base import BusinessHours, Provider, ProviderError

from .models import Agent, CallQueue, QueueMembership
from .opening_hours import store_provider_hours


@dataclass
class SyncReport:
    queues_created: list[str] = field(default_factory=list)
    queues_updated: list[str] = field(default_factory=list)
    memberships_added: int = 0
    memberships_removed: int = 0
    unknown_queues: list[str] = field(default_factory=list)  # in the schedule, not at the provider
    unknown_agents: list[str] = field(default_factory=list)  # in the schedule, in no provider queue
    members_not_in_schedule: list[str] = field(default_factory=list)  # provider members we have no agent for
    hours_stored: list[str] = field(default_factory=list)  # queues whose business hours changed here
    hours_kept: list[str] = field(default_factory=list)  # queues whose hours were entered in admin
    hours_unread: dict[str, str] = field(default_factory=dict)  # queue id -> why its business hours were not read


def sync_queues(provider: Provider) -> SyncReport:
    """Match our queues and memberships to the provider's; report what each side lacks."""
    remote = provider.list_queues()
    report = SyncReport()
    hours = _read_hours(provider, [q.id for q in remote], report)  # before the transaction: no HTTP inside it
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
            if info.id in hours and store_provider_hours(queue, hours[info.id]):
                report.hours_stored.append(info.id)
    remote_ids = {q.id for q in remote}
    members = {m for q in remote for m in q.member_ids}
    report.unknown_queues = sorted(set(local) - remote_ids)
    report.unknown_agents = sorted(set(agents) - members)
    report.members_not_in_schedule = sorted(members - set(agents))
    return report


def _read_hours(provider: Provider, queue_ids: list[str], report: SyncReport) -> dict[str, BusinessHours]:
    """The provider's business hours of each queue whose hours come from it (none spent on the admin's)."""
    by_hand = set(
        CallQueue.objects.filter(provider=provider.name, hours_source=CallQueue.HoursSource.ADMIN).values_list(
            "provider_id", flat=True
        )
    )
    report.hours_kept = sorted(by_hand & set(queue_ids))
    found = {}
    for queue_id in queue_ids:
        if queue_id in by_hand:
            continue
        try:
            hours = provider.read_business_hours(queue_id)
        except ProviderError as error:  # the rest of the sync still counts; the hours stay as they were
            report.hours_unread[queue_id] = error.user_message
            continue
        if hours is not None and _known_zone(hours.timezone, queue_id, report):
            found[queue_id] = hours
    return found


def _known_zone(name: str, queue_id: str, report: SyncReport) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        report.hours_unread[queue_id] = f"its zone {name!r} is not an IANA zone this system knows"
        return False
    return True


def _sync_members(queue: CallQueue, member_ids, agents: dict, report: SyncReport):
    current = set(queue.memberships.values_list("agent__provider_id", flat=True))
    wanted = {m for m in member_ids if m in agents}
    QueueMembership.objects.bulk_create(QueueMembership(queue=queue, agent=agents[m]) for m in wanted - current)
    removed, _ = queue.memberships.filter(agent__provider_id__in=current - wanted).delete()
    report.memberships_added += len(wanted - current)
    report.memberships_removed += removed
