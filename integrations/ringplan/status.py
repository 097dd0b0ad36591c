"""RingPlan's user_status_updated events -> each mapped agent's LiveStatus."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from integrations.models import External, IdentityKind, LiveStatus, ProviderIdentity
from queues.models import Agent

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    user_id: str
    status: str
    at: datetime

    @classmethod
    def from_event(cls, data) -> "StatusUpdate":
        """Parse a user_status_updated payload; ValueError naming what is missing."""
        if not isinstance(data, dict) or not data.get("user_id"):
            raise ValueError("user_status_updated without user_id")
        status = data.get("status")
        text = status.get("status") if isinstance(status, dict) else status
        if not isinstance(text, str) or not text:
            raise ValueError("user_status_updated without status.status")
        return cls(str(data["user_id"]), text[:100], _moment(data.get("updated_at") or data.get("created_at")))


def _moment(value) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    return moment if moment is not None and moment.tzinfo else timezone.now()


def live_status_store(update: StatusUpdate) -> bool:
    """Store the status on the agent mapped to the RingPlan contact; False if none is, or it is older news."""
    identity = (
        ProviderIdentity.objects.filter(
            provider=External.RINGPLAN, kind=IdentityKind.CONTACT, external_id=update.user_id
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
            defaults={"provider": External.RINGPLAN, "status": update.status, "updated_at": update.at},
        )
    return True
