"""RingPlan's live status events -> each mapped agent's LiveStatus."""

import logging

from django.db import transaction

from integrations.base import ProviderName
from integrations.models import IdentityKind, LiveStatus, ProviderIdentity
from integrations.ringplan.status import StatusUpdate
from queues.models import Agent

logger = logging.getLogger(__name__)


def live_status_store(update: StatusUpdate) -> bool:
    """Store the status on the agent mapped to the RingPlan contact; False if none is, or it is older news."""
    identity = (
        ProviderIdentity.objects.filter(
            provider=ProviderName.RINGPLAN, kind=IdentityKind.CONTACT, external_id=update.user_id
        )
        .select_related("agent")
        .first()
    )
    if identity is None:
        logger.info("RingPlan status for contact %s, mapped to no agent: ignored", update.user_id)
        return False
    with transaction.atomic():
        # Lock the agent, not the status row: an agent's first two events arrive on two threads,
        # and a lock on a row that does not exist yet stops neither insert.
        Agent.objects.select_for_update().get(pk=identity.agent_id)
        current = LiveStatus.objects.filter(agent=identity.agent).first()
        if current is not None and current.updated_at > update.at:
            return False  # an older event arriving late must not overwrite a newer status
        LiveStatus.objects.update_or_create(
            agent=identity.agent,
            defaults={"provider": ProviderName.RINGPLAN, "status": update.status, "updated_at": update.at},
        )
    return True
