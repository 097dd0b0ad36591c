"""RingPlan's user_status_updated events, parsed at the edge."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone


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
