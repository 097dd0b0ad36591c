"""Telephony-side entities: call queues, agents (extensions) and queue memberships.

A membership row is the provider's word that an agent belongs to a queue, and it
carries the last presence we observed for that pair.
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from simple_history.models import HistoricalRecords

from integrations.base import ProviderName

from .append_only import AppendOnlyError, AppendOnlyQuerySet

# The providers whose queues Callrota manages; Ringostat only reports.
MANAGED = ProviderName.only(ProviderName.RINGCENTRAL, ProviderName.RINGPLAN)


class DndStatus(models.TextChoices):
    TAKE_ALL_CALLS = "TakeAllCalls", "Take all calls"
    DO_NOT_ACCEPT_DEPARTMENT_CALLS = "DoNotAcceptDepartmentCalls", "Do not accept queue calls"
    DO_NOT_ACCEPT_ANY_CALLS = "DoNotAcceptAnyCalls", "Do not accept any calls"


# The DnD statuses that let queue calls through; TakeDepartmentCallsOnly is legacy but still seen.
LETS_QUEUE_CALLS_THROUGH = frozenset({DndStatus.TAKE_ALL_CALLS, "TakeDepartmentCallsOnly"})


def queue_calls_reach(dnd_status: str | None) -> bool | None:
    """Whether queue calls reach an agent whose DnD is this; None when her DnD is unknown."""
    return None if not dnd_status else dnd_status in LETS_QUEUE_CALLS_THROUGH


# What an agent may be set to when off shift (TakeAllCalls would be no change at all).
OFF_SHIFT_DND_CHOICES = [c for c in DndStatus.choices if c[0] != DndStatus.TAKE_ALL_CALLS]


class CallQueue(models.Model):
    class HoursSource(models.TextChoices):
        ADMIN = "admin", "entered here"
        PROVIDER = "provider", "the provider (RingCentral business hours)"

    provider = models.CharField(max_length=20, choices=MANAGED, default=ProviderName.RINGCENTRAL)
    provider_id = models.CharField(
        "provider id",
        max_length=64,
        help_text="The provider's id of the queue (RingCentral: the queue's extension id).",
    )
    name = models.CharField(max_length=200)
    min_staff = models.PositiveIntegerField(
        default=0, help_text="Agents the queue needs at any time it is open (within its opening hours, if set)."
    )
    hours_timezone = models.CharField(
        "opening hours zone",
        max_length=64,
        blank=True,
        help_text="IANA zone the opening hours are in, e.g. America/New_York.",
    )
    hours_source = models.CharField(
        "opening hours from",
        max_length=20,
        choices=HoursSource.choices,
        default=HoursSource.PROVIDER,
        help_text="Entered here: the queue sync leaves them alone. From the provider: each sync replaces them "
        "with the queue's business hours there.",
    )
    editable_member_status = models.BooleanField(
        default=True, help_text="Whether members may change their own status in this queue (from the provider)."
    )
    enforce = models.BooleanField(
        default=True, help_text="Correct agents who changed their status between shift boundaries."
    )
    target_service_level = models.FloatField(
        default=0.8,
        validators=[MinValueValidator(0.01), MaxValueValidator(0.999)],
        help_text="The share of calls to answer within the answer time (0.8 is 80%): the forecast staffs for it.",
    )
    answer_within = models.PositiveIntegerField(
        "answer within (seconds)", default=20, validators=[MaxValueValidator(3600)], help_text="Seconds."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_id"], name="callqueue_unique_provider_id"),
        ]

    def __str__(self):
        return f"{self.name} ({self.provider_id})"

    def clean(self):
        if self.hours_timezone:
            try:
                ZoneInfo(self.hours_timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValidationError(
                    {
                        "hours_timezone": f"unknown timezone {self.hours_timezone!r}: "
                        "use an IANA name such as America/New_York"
                    }
                ) from None


WEEKDAY_CHOICES = [(i, day) for i, day in enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                                      "Saturday", "Sunday"))]  # fmt: skip


class OpeningRange(models.Model):
    """One weekly range a queue is open: a weekday, an opening and a closing local time in the queue's zone."""

    queue = models.ForeignKey(CallQueue, on_delete=models.CASCADE, related_name="opening_ranges")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAY_CHOICES)
    opens = models.TimeField(help_text="Local time it opens.")
    closes = models.TimeField(help_text="Local time it closes; at or before the opening time: the next day.")

    class Meta:
        ordering = ["queue", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="openingrange_weekday_monday_to_sunday"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class ClosedDate(models.Model):
    """A local date a queue is closed all day (a holiday), whatever its weekly ranges say."""

    queue = models.ForeignKey(CallQueue, on_delete=models.CASCADE, related_name="closed_dates")
    date = models.DateField(help_text="Closed from midnight to midnight in the queue's opening hours zone.")
    name = models.CharField(max_length=200, blank=True, help_text="E.g. Christmas Day.")

    class Meta:
        ordering = ["queue", "date"]
        constraints = [models.UniqueConstraint(fields=["queue", "date"], name="closeddate_unique_queue_date")]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class Agent(models.Model):
    provider = models.CharField(max_length=20, choices=MANAGED, default=ProviderName.RINGCENTRAL)
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
    active = models.BooleanField(
        default=True,
        help_text="Untick instead of deleting an agent who has left: the schedule, the reconciler, the board "
        "and the receptionist pages leave an inactive agent out, and the audit history keeps her name.",
    )
    dnd_status = models.CharField(max_length=32, choices=DndStatus.choices, blank=True, editable=False)
    dnd_observed_at = models.DateTimeField(null=True, blank=True, editable=False)
    dnd_planned = models.CharField(max_length=32, blank=True, editable=False)  # what the last run wanted
    # When the listener last heard this DnD from a RingCentral event, and that presence event's sequence.
    dnd_heard_at = models.DateTimeField(null=True, blank=True, editable=False)
    dnd_sequence = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
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
    # What the last run wanted this pair to be. A pair that now differs from a plan that did not
    # change was changed by someone else: that is drift, not a schedule boundary.
    planned = models.BooleanField(null=True, editable=False)
    heard_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the listener last heard this value from an event."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["queue", "agent"], name="membership_unique_queue_agent"),
        ]

    def __str__(self):
        return f"{self.agent.name} in {self.queue.name}"


class ListenerSession(models.Model):
    """The event listener's session with one provider: since when it has heard every change without a gap.

    A value heard at or after `live_since`, while the session is connected and recently heard from,
    is the provider's actual state; anything older may have missed a change.
    """

    provider = models.CharField(max_length=20, choices=MANAGED, unique=True)
    live_since = models.DateTimeField(null=True, blank=True, help_text="Start of the current unbroken session.")
    connected = models.BooleanField(default=False)
    last_message_at = models.DateTimeField(null=True, blank=True, help_text="The provider's last message.")
    listener = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text="The listener whose session this is (its lease's holder). A listener that lost the lease to "
        "another while stalled changes nothing here.",
    )

    def __str__(self):
        return f"{self.provider} listener, live since {self.live_since or 'never'}"


class OverrideQuerySet(models.QuerySet):
    def active(self, at):
        return self.filter(cancelled_at__isnull=True, starts_at__lte=at, until__gt=at)


class Override(models.Model):
    """A person's decision that beats the schedule for one agent until a set time.

    With a queue it holds that queue's acceptCurrentQueueCalls; without one, the agent's DnD.
    """

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="overrides")
    queue = models.ForeignKey(
        CallQueue,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="overrides",
        help_text="The queue to hold; empty to hold the agent's Do Not Disturb instead.",
    )
    accept = models.BooleanField(null=True, blank=True, help_text="For a queue: take its calls or not.")
    dnd_status = models.CharField(
        max_length=32, choices=DndStatus.choices, blank=True, help_text="For DnD: the status."
    )
    starts_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField(help_text="When the schedule takes over again.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = OverrideQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["until", "cancelled_at"], name="override_until_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(queue__isnull=False, accept__isnull=False, dnd_status="")
                    | models.Q(queue__isnull=True, accept__isnull=True) & ~models.Q(dnd_status="")
                ),
                name="override_queue_xor_dnd",
                violation_error_message="Hold either a queue (with take calls on or off) or Do Not Disturb, not both.",
            ),
        ]

    def __str__(self):
        what = f"{self.queue.name}: {'on' if self.accept else 'off'}" if self.queue_id else f"DnD {self.dnd_status}"
        return f"{self.agent.name}, {what} until {self.until:%Y-%m-%d %H:%M} UTC"

    def clean(self):
        if self.until and self.starts_at and self.until <= self.starts_at:
            raise ValidationError({"until": "an override must end after it starts"})


class ReconcileRun(models.Model):
    """One pass of the reconciler: plan at an instant, read, diff, write."""

    at = models.DateTimeField(help_text="The instant the plan was computed for.")
    trigger = models.CharField(max_length=40, help_text="What started the run: beat, boundary, command, admin.")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    writes = models.PositiveIntegerField(default=0, help_text="API write calls made.")
    failures = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True, help_text="Reads that failed, pairs the provider lacks.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["started_at"], name="run_started_idx")]

    def __str__(self):
        return f"run {self.pk} at {self.at:%Y-%m-%d %H:%M:%S} UTC ({self.trigger})"


class AppendOnly(models.Model):
    """A model whose rows are only ever added: saving a saved row or deleting one raises AppendOnlyError."""

    append_only_refusal = "rows are append-only"

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError(self.append_only_refusal)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(self.append_only_refusal)


AuditQuerySet = AppendOnlyQuerySet  # the audit's refusal is AuditEntry.append_only_refusal


class AuditField(models.TextChoices):
    """What a change set, in Callrota's words; the provider's own call is in `api_call`."""

    QUEUE_CALLS = "queue_calls", "Takes queue calls"
    DND = "dnd", "Do Not Disturb"


# Rows written before the audit spoke neutral words keep RingCentral's field names.
_EARLIER_FIELDS = [
    ("acceptCurrentQueueCalls", "Takes queue calls"),
    ("acceptCalls", "Takes queue calls"),
    ("dndStatus", "Do Not Disturb"),
]


class AuditEntry(AppendOnly):
    """One change (or attempted change) of one value at the provider. Append-only."""

    append_only_refusal = "audit rows are append-only"

    class Outcome(models.TextChoices):
        APPLIED = "applied"
        FAILED = "failed"
        SKIPPED = "skipped"
        UNKNOWN = "unknown"  # sent, no answer: a later read tells, in a row of its own

    # The database's clock, not the caller's: a trigger refuses any other time (queues/audit_guard.py).
    created_at = models.DateTimeField(db_default=Now(), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The supervisor or receptionist who made the change; empty for the scheduler.",
    )
    run = models.ForeignKey(ReconcileRun, null=True, blank=True, on_delete=models.PROTECT, related_name="audit")
    reason = models.CharField(max_length=200)
    provider = models.CharField(max_length=20, choices=MANAGED, default=ProviderName.RINGCENTRAL)
    queue = models.ForeignKey(CallQueue, null=True, blank=True, on_delete=models.PROTECT, related_name="audit")
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.PROTECT, related_name="audit")
    field = models.CharField(max_length=40, choices=[*AuditField.choices, *_EARLIER_FIELDS])
    old_value = models.CharField(max_length=40, blank=True)
    new_value = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    api_call = models.CharField(max_length=200, blank=True, help_text="The API call this change travelled in.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit history"
        indexes = [
            models.Index(fields=["agent", "-created_at"], name="audit_agent_time_idx"),
            models.Index(fields=["queue", "-created_at"], name="audit_queue_time_idx"),
        ]

    def __str__(self):
        return f"{self.field} {self.old_value} -> {self.new_value} ({self.outcome})"


class PendingWrite(models.Model):
    """A write on its way to the provider, recorded before it is sent.

    The audit row is appended once the provider answers. A worker killed in between
    leaves this row behind; the next run reads the value and audits what really happened.
    """

    run = models.ForeignKey(ReconcileRun, null=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    queue = models.ForeignKey(CallQueue, null=True, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=40)
    old_value = models.CharField(max_length=40, blank=True)
    new_value = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=200)
    api_call = models.CharField(max_length=200, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.api_call}: {self.field} -> {self.new_value}"


class ActualSource(models.TextChoices):
    """How Callrota learned a value: an event heard, a read, or a write the provider acknowledged."""

    HEARD = "heard"
    READ = "read"
    WRITTEN = "written"


class ActualChangeQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("the actual-value log is append-only")


class ActualChange(models.Model):
    """One change of an actual value at the provider: a member's queue switch, or an agent's DnD. Append-only.

    Written only when the value differs from the one stored before, where the membership and agent
    rows are written (queues.heard, scheduler.reconcile.memory), so a quiet pass adds nothing. The
    value holds from `at` until the next row of the same target: the time series plan compliance
    is measured against (scheduler.reports.compliance). Telephony-side state, like the rows it
    follows; deleting a queue or an agent deletes its series (it is a measurement, not the audit).
    """

    queue = models.ForeignKey(CallQueue, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=20, choices=AuditField.choices)
    value = models.CharField(max_length=40, help_text="true/false for queue calls, the DnD status for DnD.")
    at = models.DateTimeField(help_text="When Callrota learned the new value (heard, read or written).")
    source = models.CharField(max_length=10, choices=ActualSource.choices)

    objects = ActualChangeQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["queue", "at"], name="actual_queue_time_idx"),
            models.Index(fields=["agent", "field", "at"], name="actual_agent_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(field=AuditField.QUEUE_CALLS, queue__isnull=False)
                | models.Q(field=AuditField.DND, queue__isnull=True),
                name="actual_queue_calls_xor_dnd",
            ),
        ]

    def __str__(self):
        return f"{self.field} {self.value} at {self.at:%Y-%m-%d %H:%M:%S} UTC ({self.source})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("the actual-value log is append-only")
        super().save(*args, **kwargs)

    @classmethod
    def of_queue_calls(cls, membership: QueueMembership, value: bool, at, source: str) -> "ActualChange":
        return cls(queue_id=membership.queue_id, agent_id=membership.agent_id, field=AuditField.QUEUE_CALLS,
                   value="true" if value else "false", at=at, source=source)  # fmt: skip

    @classmethod
    def of_dnd(cls, agent_pk: int, status: str, at, source: str) -> "ActualChange":
        return cls(agent_id=agent_pk, field=AuditField.DND, value=status, at=at, source=source)


ACTUAL_BATCH = 500  # rows per INSERT: bookkeeping stays in bounded statements (issue 13 part 7)


def actual_changed(rows: list[ActualChange]) -> None:
    """Append these changes of actual values to the log, in bounded batches."""
    ActualChange.objects.bulk_create(rows, batch_size=ACTUAL_BATCH)
