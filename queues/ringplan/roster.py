"""RingPlan's contacts and extensions -> our agents, idempotently, with a preview first.

An agent is found by its explicit RingPlan contact mapping (ProviderIdentity), else created as
Agent(provider="ringplan", provider_id=<contact id>). Each extension number is mapped to that
agent; an extension already mapped to another agent is reported and left alone, never moved.
"""

from dataclasses import dataclass, field

from django.db import transaction

from integrations.base import ProviderName
from integrations.models import IdentityKind, ProviderIdentity
from integrations.ringplan.client import Contact
from queues.models import Agent


@dataclass(frozen=True, slots=True)
class RosterChange:
    action: str  # "create", "update", "unchanged"
    contact_id: str
    name: str
    old_name: str = ""
    new_extensions: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()  # "1001 is mapped to Jane Doe (…)"

    def describe(self) -> str:
        parts = [f"{self.action} {self.name} (contact {self.contact_id})"]
        if self.old_name and self.old_name != self.name:
            parts.append(f"renamed from {self.old_name!r}")
        if self.new_extensions:
            parts.append("extensions +" + ", +".join(self.new_extensions))
        parts += [f"conflict: {c}" for c in self.conflicts]
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class RosterPlan:
    changes: list[RosterChange] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)


def roster_plan(contacts: list[Contact]) -> RosterPlan:
    """What importing these contacts would change; reads only."""
    agents = _agents_by_contact()
    extension_owner = dict(
        ProviderIdentity.objects.filter(provider=ProviderName.RINGPLAN, kind=IdentityKind.EXTENSION).values_list(
            "external_id", "agent_id"
        )
    )
    changes = []
    for contact in contacts:
        agent = agents.get(contact.id)
        new, conflicts = [], []
        for ext in contact.extensions:
            owner = extension_owner.get(ext.number)
            if owner is None:
                new.append(ext.number)
            elif agent is None or owner != agent.pk:
                conflicts.append(f"extension {ext.number} is mapped to another agent (id {owner})")
        if agent is None:
            action = "create"
        else:
            action = "update" if new or agent.name != contact.name else "unchanged"
        changes.append(
            RosterChange(action, contact.id, contact.name, agent.name if agent else "", tuple(new), tuple(conflicts))
        )
    return RosterPlan(changes)


@transaction.atomic
def roster_apply(plan: RosterPlan) -> None:
    """Write a plan made by roster_plan, in one transaction."""
    agents = _agents_by_contact()
    for change in plan.changes:
        if change.action == "unchanged":
            continue
        agent = agents.get(change.contact_id)
        if agent is None:
            agent, _ = Agent.objects.get_or_create(
                provider=ProviderName.RINGPLAN, provider_id=change.contact_id, defaults={"name": change.name}
            )
            ProviderIdentity.objects.get_or_create(
                provider=ProviderName.RINGPLAN,
                kind=IdentityKind.CONTACT,
                external_id=change.contact_id,
                defaults={"agent": agent},
            )
        if agent.name != change.name:
            agent.name = change.name
            agent.save(update_fields=["name"])
        for number in change.new_extensions:
            ProviderIdentity.objects.create(
                agent=agent, provider=ProviderName.RINGPLAN, kind=IdentityKind.EXTENSION, external_id=number
            )


def _agents_by_contact() -> dict[str, Agent]:
    identities = ProviderIdentity.objects.filter(
        provider=ProviderName.RINGPLAN, kind=IdentityKind.CONTACT
    ).select_related("agent")
    return {i.external_id: i.agent for i in identities}
