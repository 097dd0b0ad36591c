"""The small interface every telephony provider implements for the reconciler.

Providers parse their answers into these types at the edge and raise ProviderError
for anything that went wrong, so callers branch on meaning, not on strings.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


class ProviderError(Exception):
    """A failed provider call: HTTP status, the provider's error code, and whether retrying can help."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "", permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.permanent = permanent

    def __str__(self):
        parts = [p for p in (self.code, f"HTTP {self.status}" if self.status else "") if p]
        return f"{self.message} ({', '.join(parts)})" if parts else self.message


@dataclass(frozen=True, slots=True)
class QueueInfo:
    id: str
    name: str
    editable_member_status: bool = True
    member_ids: tuple[str, ...] = field(default=())


class Provider(ABC):
    """The verbs the reconciler needs. Ids are the provider's own, as strings."""

    name: str

    @abstractmethod
    def list_queues(self) -> list[QueueInfo]:
        """Every call queue with its members and editableMemberStatus."""

    @abstractmethod
    def read_queue_presence(self, queue_id: str) -> dict[str, bool]:
        """agent id -> acceptCurrentQueueCalls, for every member of the queue."""

    @abstractmethod
    def write_queue_presence(self, queue_id: str, accept: dict[str, bool]) -> None:
        """Set acceptCurrentQueueCalls for many members of one queue in one call."""

    @abstractmethod
    def write_agent_queue_presence(self, agent_id: str, accept: dict[str, bool]) -> None:
        """Set one agent's acceptCalls in many queues (queue id -> value) in one call."""

    @abstractmethod
    def read_dnd(self, agent_ids: list[str]) -> dict[str, str]:
        """agent id -> dndStatus, batched where the provider allows it."""

    @abstractmethod
    def write_dnd(self, agent_id: str, status: str) -> None:
        """Set one agent's dndStatus."""
