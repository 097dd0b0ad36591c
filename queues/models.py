"""Telephony-side entities: call queues, agents (extensions) and queue memberships.

A membership row is the provider's word that an agent belongs to a queue, and it
carries the last presence we observed for that pair.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Provider(models.TextChoices):
    RINGCENTRAL = "ringcentral", "RingCentral"


class DndStatus(models.TextChoices):
    TAKE_ALL_CALLS = "TakeAllCalls", "Take all calls"
    DO_NOT_ACCEPT_DEPARTMENT_CALLS = "DoNotAcceptDepartmentCalls", "Do not accept queue calls"
    DO_NOT_ACCEPT_ANY_CALLS = "DoNotAcceptAnyCalls", "Do not accept any calls"


# What an agent may be set to when off shift (TakeAllCalls would be no change at all).
OFF_SHIFT_DND_CHOICES = [c for c in DndStatus.choices if c[0] != DndStatus.TAKE_ALL_CALLS]


class CallQueue(models.Model):
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.RINGCENTRAL)
    provider_id = models.CharField(
        "provider id",
        max_length=64,
        help_text="The provider's id of the queue (RingCentral: the queue's extension id).",
    )
    name = models.CharField(max_length=200)
    min_staff = models.PositiveIntegerField(default=0, help_text="Agents the queue needs at any time it is staffed.")
    editable_member_status = models.BooleanField(
        default=True, help_text="Whether members may change their own status in this queue (from the provider)."
    )
    enforce = models.BooleanField(
        default=True, help_text="Correct agents who changed their status between shift boundaries."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_id"], name="callqueue_unique_provider_id"),
        ]

    def __str__(self):
        return f"{self.name} ({self.provider_id})"


class Agent(models.Model):
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.RINGCENTRAL)
    provider_id = models.CharField("provider id", max_length=64, help_text="The provider's extension id of the agent.")
    name = models.CharField(max_length=200)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent",
        help_text="The login that acts as this agent on the receptionist pages.",
    )
    off_shift_dnd = models.CharField(  # noqa: DJ001 - null is the documented "never touch DnD"
        "off-shift Do Not Disturb",
        max_length=32,
        choices=OFF_SHIFT_DND_CHOICES,
        null=True,
        blank=True,
        help_text="DnD status to set when the agent is on no shift. Empty: never touch this agent's DnD.",
    )
    dnd_status = models.CharField(max_length=32, choices=DndStatus.choices, blank=True, editable=False)
    dnd_observed_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_id"], name="agent_unique_provider_id"),
        ]

    def __str__(self):
        return f"{self.name} ({self.provider_id})"


class QueueMembership(models.Model):
    queue = models.ForeignKey(CallQueue, on_delete=models.CASCADE, related_name="memberships")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="memberships")
    accepting = models.BooleanField(
        null=True, editable=False, help_text="Last observed acceptCurrentQueueCalls; empty if never read."
    )
    observed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["queue", "agent"], name="membership_unique_queue_agent"),
        ]

    def __str__(self):
        return f"{self.agent.name} in {self.queue.name}"
