"""The small interface every telephony provider implements for the reconciler.

Providers parse their answers into these types at the edge and raise ProviderError
for anything that went wrong, so callers branch on meaning, not on strings.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import time
from typing import ClassVar, TypeVar

from django.db import models

V = TypeVar("V")


class ProviderName(models.TextChoices):
    """Every provider Callrota speaks to, as stored in the database: the one provider enum."""

    RINGCENTRAL = "ringcentral", "RingCentral"
    RINGOSTAT = "ringostat", "Ringostat"
    RINGPLAN = "ringplan", "RingPlan"

    @classmethod
    def only(cls, *members: "ProviderName") -> list[tuple[str, str]]:
        """Choices for a column that holds some of the providers."""
        return [(member.value, member.label) for member in members]


class ProviderError(Exception):
    """A failed provider call: HTTP status, the provider's error code, and whether retrying can help.

    `outcome_unknown`: a write was sent but no answer came (a timeout, a connection dropped after
    sending), so it may have landed; read the value back before sending anything more to it.
    """

    blocks_every_call: ClassVar[bool] = False  # True: every call fails alike until the configuration is fixed

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        permanent: bool = False,
        outcome_unknown: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.permanent = permanent
        self.outcome_unknown = outcome_unknown

    def __str__(self):
        return f"{self.message} ({self._detail})" if self._detail else self.message

    @property
    def user_message(self) -> str:
        """What went wrong in words for the person who asked; each provider words its own."""
        return self.message

    def describe(self) -> str:
        """The user message with the code and status, for the supervisor who looks further."""
        return f"{self.user_message} ({self._detail})" if self._detail else self.user_message

    @property
    def _detail(self) -> str:
        return ", ".join(p for p in (self.code, f"HTTP {self.status}" if self.status else "") if p)


class Readings(dict[str, V]):
    """A batched read's values by id, with why each id that failed is missing (id -> ProviderError)."""

    def __init__(self, values: dict[str, V] | None = None, failures: dict[str, ProviderError] | None = None):
        super().__init__(values or {})
        self.failures = failures or {}


@dataclass(frozen=True, slots=True)
class WeeklyRange:
    """Open on `weekday` (Monday = 0) from `opens` to `closes`, local; `closes` at or before `opens`: the next day."""

    weekday: int
    opens: time
    closes: time


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """A queue's weekly opening hours as its provider keeps them; no ranges means open around the clock."""

    timezone: str  # IANA name, as the provider gave it
    ranges: tuple[WeeklyRange, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueInfo:
    id: str
    name: str
    editable_member_status: bool = True
    member_ids: tuple[str, ...] = field(default=())


class Provider(ABC):
    """The verbs the reconciler needs. Ids are the provider's own, as strings."""

    name: ClassVar[ProviderName]  # the stored provider value of its queues and agents
    label: ClassVar[str]  # how people call it, e.g. "RingCentral"
    # How the provider names each kind of write, for the audit: kind ("queue", "agent", "dnd")
    # -> (the call, with {} for the queue or agent id; the field it sets).
    calls: ClassVar[dict[str, tuple[str, str]]]
    # The reads the reconciler's sweep budgets for: how many a minute the provider allows in
    # their usage group, and how many agents' DnD one read carries.
    reads_per_minute: ClassVar[int]
    dnd_per_read: ClassVar[int]

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

    def read_business_hours(self, queue_id: str) -> BusinessHours | None:
        """The queue's weekly opening hours as the provider keeps them; None where it keeps none."""
        return None

    def read_agent_queues(self, agent_id: str, queue_ids: list[str]) -> dict[str, bool]:
        """queue id -> acceptCalls of one agent: a read per queue here; a provider that can do it
        in one call overrides this."""
        presence = {}
        for queue_id in queue_ids:
            accepting = self.read_queue_presence(queue_id).get(agent_id)
            if accepting is not None:
                presence[queue_id] = accepting
        return presence

    @abstractmethod
    def read_dnd(self, agent_ids: list[str]) -> dict[str, str]:
        """agent id -> dndStatus, batched where the provider allows it."""

    @abstractmethod
    def write_dnd(self, agent_id: str, status: str) -> None:
        """Set one agent's dndStatus."""
