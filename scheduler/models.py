"""The schedule: shifts (who staffs which queues, when) and agents' time off.

Validation lives in `clean()` so admin forms and the schedule importer enforce the
same rules with the same messages.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Now
from simple_history.models import HistoricalRecords

from queues.models import Agent, AppendOnly, CallQueue

from . import recurrence

# Longer than any shift (an overnight one over a fall-back night is 25 hours): a typo, not a move.
MAX_MOVED_LENGTH = timedelta(hours=25)


def validate_timezone(value):
    try:
        recurrence.zone(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def validate_days(value):
    try:
        recurrence.parse_days(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None


class Shift(models.Model):
    name = models.CharField(max_length=200, unique=True)
    timezone = models.CharField(
        max_length=64, validators=[validate_timezone], help_text="IANA zone the local times are in, e.g. Europe/Kyiv."
    )
    start_time = models.TimeField("start", help_text="Local time the shift starts (HH:MM).")
    end_time = models.TimeField(
        "end", help_text="Local time the shift ends; at or before the start means the next day."
    )
    days = models.CharField(
        max_length=40,
        blank=True,
        validators=[validate_days],
        help_text="Weekdays the shift runs on, e.g. mon,tue,wed. Leave empty when using a recurrence rule.",
    )
    rrule = models.CharField(
        "recurrence rule",
        max_length=500,
        blank=True,
        help_text="RFC 5545 RRULE picking the days, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU. Instead of weekdays.",
    )
    dtstart = models.DateField(
        "rule starts", null=True, blank=True, help_text="First date the recurrence rule counts from (DTSTART)."
    )
    valid_from = models.DateField(null=True, blank=True, help_text="First local date the shift may start on.")
    valid_until = models.DateField(
        null=True, blank=True, help_text="Last local date the shift may start on (inclusive)."
    )
    queues = models.ManyToManyField(CallQueue, related_name="shifts", help_text="Queues this shift staffs.")
    agents = models.ManyToManyField(Agent, related_name="shifts", help_text="Agents rostered on this shift.")
    history = HistoricalRecords(m2m_fields=[queues, agents])

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.start_time is not None and self.start_time == self.end_time:
            errors["end_time"] = "a shift cannot end when it starts: set a different end (earlier means the next day)"
        if self.days and self.rrule:
            errors["rrule"] = "give either weekdays or a recurrence rule, not both"
        elif not self.days and not self.rrule:
            errors["days"] = "give the weekdays the shift runs on, or a recurrence rule"
        elif self.rrule:
            if self.dtstart is None:
                errors["dtstart"] = "a recurrence rule needs the date it starts from (dtstart)"
            else:
                try:
                    recurrence.validate_rrule(self.rrule, self.dtstart)
                except ValueError as error:
                    errors["rrule"] = str(error)
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = f"valid until {self.valid_until} is before valid from {self.valid_from}"
        if errors:
            raise ValidationError(errors)

    def runs_on(self, day) -> bool:
        """Whether the shift's days (or rule) and validity give an occurrence starting on local `day`."""
        if (self.valid_from and day < self.valid_from) or (self.valid_until and day > self.valid_until):
            return False
        try:
            if self.rrule:
                return self.dtstart is not None and bool(
                    recurrence.parse_rrule(self.rrule, self.dtstart).dates(day, day)
                )
            return day.weekday() in recurrence.parse_days(self.days)
        except ValueError:  # a shift that fails its own checks runs on no day
            return False


class TimeOff(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField(help_text="When the time off starts.")
    end = models.DateTimeField(help_text="When the time off ends (exclusive).")
    timezone = models.CharField(
        max_length=64, validators=[validate_timezone], help_text="IANA zone the local start and end were given in."
    )
    reason = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        indexes = [models.Index(fields=["end", "start"], name="timeoff_end_start_idx")]

    def __str__(self):
        return f"{self.agent.name}: {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "time off must end after it starts"})


class OccurrenceChange(models.Model):
    """One occurrence of a shift changed: cancelled, moved, or with agents substituted.

    RFC 5545's overridden instance: `occurrence` is the local date the rule gives (the RECURRENCE-ID); a
    cancelled occurrence is an EXDATE; `start`/`end` move it; `absent` agents sit this occurrence out and
    `covering` agents work it. One change per occurrence, so the planner never has to merge two.
    """

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="occurrence_changes")
    occurrence = models.DateField(help_text="The local date this occurrence starts on, as the shift's days give it.")
    cancelled = models.BooleanField(default=False, help_text="The occurrence does not happen.")
    start = models.DateTimeField(null=True, blank=True, help_text="Moved: when it starts instead. Empty: unchanged.")
    end = models.DateTimeField(null=True, blank=True, help_text="Moved: when it ends instead. Empty: unchanged.")
    absent = models.ManyToManyField(
        Agent, blank=True, related_name="absent_from", help_text="Rostered agents who do not work this occurrence."
    )
    covering = models.ManyToManyField(
        Agent, blank=True, related_name="covering", help_text="Agents who work this occurrence in addition."
    )
    reason = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords(m2m_fields=[absent, covering])

    class Meta:
        ordering = ["occurrence"]
        constraints = [
            models.UniqueConstraint(fields=["shift", "occurrence"], name="occurrencechange_unique_occurrence"),
        ]

    def __str__(self):
        return f"{self.shift.name} on {self.occurrence}"

    def clean(self):
        errors = {}
        try:
            shift = self.shift  # the importer checks a change on a shift it has not saved yet
        except Shift.DoesNotExist:
            shift = None
        if shift is not None and self.occurrence and not shift.runs_on(self.occurrence):
            errors["occurrence"] = (
                f"no occurrence of {shift.name} starts on {self.occurrence} ({self.occurrence:%A}): "
                "pick a date its days or recurrence rule give"
            )
        if (self.start is None) != (self.end is None):
            errors["end"] = "a moved occurrence needs both a new start and a new end, or neither"
        elif self.start and self.end and self.end <= self.start:
            errors["end"] = "a moved occurrence must end after it starts"
        elif self.start and self.end and self.end - self.start > MAX_MOVED_LENGTH:
            errors["end"] = f"a moved occurrence lasts at most {MAX_MOVED_LENGTH.total_seconds() / 3600:.0f} hours"
        if self.cancelled and self.start:
            errors["cancelled"] = "a cancelled occurrence is not also moved: clear the new start and end"
        if errors:
            raise ValidationError(errors)

    def clean_agents(self, absent_ids: set, covering_ids: set, rostered_ids: set | None = None) -> None:
        """Check the agents about to be set (the M2M is saved after clean()); ValidationError naming the field.

        Ids of any one kind (pks, or the file's provider ids); `rostered_ids` defaults to the shift's agents' pks.
        """
        rostered = rostered_ids if rostered_ids is not None else set(self.shift.agents.values_list("pk", flat=True))
        absent_ids, covering_ids = set(absent_ids), set(covering_ids)
        errors = {}
        if absent_ids - rostered:
            errors["absent"] = "only agents rostered on the shift can be absent from it"
        if absent_ids & covering_ids:
            errors["covering"] = "an agent cannot both cover and be absent from the same occurrence"
        elif covering_ids & rostered:
            errors["covering"] = "a covering agent is one not already rostered on the shift"
        if self.cancelled and (absent_ids or covering_ids):
            errors["cancelled"] = "a cancelled occurrence has no one absent or covering: clear them"
        if not (self.cancelled or self.start or absent_ids or covering_ids):
            errors["cancelled"] = "nothing changes: cancel the occurrence, move it, or name absent or covering agents"
        if errors:
            raise ValidationError(errors)


class Lease(models.Model):
    """A named lock with an expiry, so a killed holder never blocks the next run for long."""

    name = models.CharField(max_length=100, primary_key=True)
    holder = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True)

    def __str__(self):
        return f"{self.name} held by {self.holder or 'nobody'}"


class SweepCursor(models.Model):
    """Where the rolling sweep stopped: the last queue or DnD agent it read, so a restart carries on from there."""

    provider = models.CharField(max_length=20, primary_key=True)
    last = models.CharField(max_length=120, blank=True, help_text="The last item swept, e.g. queue:1081167000.")
    moved_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.provider} sweep after {self.last or 'the start'}"


class DispatchedBoundary(models.Model):
    """A boundary the dispatcher has already enqueued a run for, so it is enqueued once."""

    at = models.DateTimeField(unique=True)
    dispatched_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"boundary at {self.at:%Y-%m-%d %H:%M:%S} UTC"


class FeedToken(models.Model):
    """A secret that opens one agent's or one queue's iCalendar feed. Only its SHA-256 is stored."""

    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.CASCADE, related_name="feed_tokens")
    queue = models.ForeignKey(CallQueue, null=True, blank=True, on_delete=models.CASCADE, related_name="feed_tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # Enough of the secret to tell two links apart in admin, far too little to guess the rest.
    prefix = models.CharField(max_length=8, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the link stopped working; empty while it works."
    )

    class Meta:
        verbose_name = "calendar feed link"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(agent__isnull=False, queue__isnull=True)
                | models.Q(agent__isnull=True, queue__isnull=False),
                name="feedtoken_agent_xor_queue",
            ),
        ]

    def __str__(self):
        return f"calendar feed of {self.agent or self.queue}"


class CallsHandled(models.Model):
    """The calls an agent handled on one local day, stored by a background task from the provider's call log.

    The call log is a Heavy call at RingCentral (10 a minute), so no web request reads it: pages read these rows.
    """

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="calls_handled")
    day = models.DateField(help_text="The local day, in the adherence report's zone.")
    calls = models.PositiveIntegerField(help_text="Calls the agent handled that day.")
    computed_at = models.DateTimeField(help_text="When these figures were read from the call log.")

    class Meta:
        verbose_name_plural = "calls handled"
        constraints = [models.UniqueConstraint(fields=["agent", "day"], name="callshandled_unique_agent_day")]

    def __str__(self):
        return f"{self.agent.name} on {self.day}: {self.calls} calls"


class CallVolume(models.Model):
    """One queue's calls in one interval, from the provider's call log: the history the forecast reads."""

    queue = models.ForeignKey(CallQueue, on_delete=models.CASCADE, related_name="call_volume")
    start = models.DateTimeField(help_text="The interval's start (UTC).")
    minutes = models.PositiveSmallIntegerField(help_text="The interval's length: 15, 30 or 60.")
    arrivals = models.PositiveIntegerField(help_text="Calls that reached the queue.")
    handled = models.PositiveIntegerField(help_text="Calls an agent answered.")
    abandoned = models.PositiveIntegerField(help_text="Callers who hung up before an answer.")
    handle_seconds = models.PositiveIntegerField(help_text="Total handle time of the handled calls.")

    class Meta:
        verbose_name_plural = "call volume"
        constraints = [models.UniqueConstraint(fields=["queue", "minutes", "start"], name="callvolume_unique_interval")]

    def __str__(self):
        return f"{self.queue.name} {self.start:%Y-%m-%d %H:%M} ({self.minutes} min): {self.arrivals} calls"


class Supervision(models.Model):
    """No table: holds the permissions of the supervisors' pages and actions."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = verbose_name_plural = "supervisor pages"
        permissions = [
            ("view_board", "Can see the now board, timeline, coverage and plan preview"),
            ("hold_agent", "Can hold an agent's queue status or DnD against the schedule"),
            ("reconcile_now", "Can run the reconciler now"),
            ("sync_queues", "Can sync queues and memberships from the provider"),
            ("issue_feed", "Can issue calendar feed links"),
        ]

    def __str__(self):
        return "supervision"


class UnderstaffedEpisode(models.Model):
    """A stretch in which an open queue had fewer agents taking its calls than its min staff.

    Opened by the minute check (scheduler.supervisor.understaffed) when it first sees the shortfall,
    notified once it has lasted CALLROTA_UNDERSTAFFED_MINUTES, closed by a recovery or the queue
    closing. Stored, so a restarted worker neither sends the same alert again nor forgets one is due.
    """

    queue = models.ForeignKey(CallQueue, on_delete=models.CASCADE, related_name="understaffed_episodes")
    started_at = models.DateTimeField(help_text="When the check first saw too few agents taking calls.")
    min_staff = models.PositiveIntegerField(help_text="The queue's min staff at the time.")
    taking = models.PositiveIntegerField(help_text="Agents taking its calls when last checked.")
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When the Supervisor group was told.")
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Recovered (or closed) at; empty while it lasts.")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue"], condition=models.Q(ended_at__isnull=True), name="one_open_episode_per_queue"
            ),
        ]

    def __str__(self):
        since = f"{self.started_at:%Y-%m-%d %H:%M} UTC"
        return f"{self.queue.name}: {self.taking} of {self.min_staff} taking calls since {since}"


class PersonZone(models.Model):
    """The time zone a supervisor or receptionist reads every page in; none: the zone most shifts use."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person_zone", verbose_name="person"
    )
    timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="IANA zone every page shows this person's times in, e.g. America/New_York. "
        "Empty: the zone most shifts use.",
    )

    class Meta:
        verbose_name = "person's time zone"
        verbose_name_plural = "people's time zones"

    def __str__(self):
        return f"{self.user.get_username()}: {self.timezone or 'the schedule zone'}"


# ---------------------------------------------------------------- agents' requests (scheduler/requests/)


class RequestKind(models.TextChoices):
    TIME_OFF = "time_off", "Time off"
    OFFER = "offer", "Shift offered"  # the requester gives an occurrence away, to a colleague or anyone eligible
    CLAIM = "claim", "Open shift claimed"


class RequestStatus(models.TextChoices):
    AWAITING_COLLEAGUE = "awaiting_colleague", "Waiting for a colleague"
    PENDING = "pending", "Waiting for a supervisor"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATUSES = (RequestStatus.AWAITING_COLLEAGUE, RequestStatus.PENDING)


class RequestRule(models.Model):
    """How one queue's requests are decided; a queue without a rule needs a supervisor for everything."""

    queue = models.OneToOneField(CallQueue, on_delete=models.CASCADE, related_name="request_rule")
    auto_approve = models.BooleanField(
        default=False, help_text="Approve a request on its own when the queue stays at or above its min staff."
    )
    claims_need_approval = models.BooleanField(
        default=True, help_text="A claimed open shift waits for a supervisor; untick to give seats first come."
    )

    def __str__(self):
        return f"request rule of {self.queue.name}"


class OpenShift(models.Model):
    """One occurrence of a shift with seats for more agents, published by a supervisor."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="open_seats")
    occurrence = models.DateField(help_text="The local date the occurrence starts on.")
    seats = models.PositiveSmallIntegerField(help_text="How many more agents it needs.")
    # Counted by one conditional UPDATE per claim, so two claims can never take the same last seat.
    taken = models.PositiveSmallIntegerField(default=0, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurrence"]
        constraints = [
            models.UniqueConstraint(fields=["shift", "occurrence"], name="openshift_unique_occurrence"),
            models.CheckConstraint(condition=models.Q(taken__lte=models.F("seats")), name="openshift_taken_le_seats"),
        ]

    def __str__(self):
        return f"{self.shift.name} on {self.occurrence}: {self.seats - self.taken} of {self.seats} seats free"

    @property
    def free(self) -> int:
        return self.seats - self.taken


class ScheduleRequest(models.Model):
    """An agent's request: time off, an occurrence offered away, or an open seat claimed."""

    kind = models.CharField(max_length=20, choices=RequestKind.choices)
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requester = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="requests")
    start = models.DateTimeField(null=True, blank=True, help_text="Time off: when it starts (UTC).")
    end = models.DateTimeField(null=True, blank=True, help_text="Time off: when it ends, exclusive (UTC).")
    timezone = models.CharField(max_length=64, blank=True, help_text="The zone the requester gave times in.")
    shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.CASCADE, related_name="requests")
    occurrence = models.DateField(null=True, blank=True, help_text="Offer or claim: the occurrence's local date.")
    colleague = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="offers",
        help_text="Offer: the colleague named, or who accepted an offer made to anyone eligible.",
    )
    open_shift = models.ForeignKey(OpenShift, null=True, blank=True, on_delete=models.PROTECT, related_name="claims")
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True, help_text="The supervisor's note with the decision.")

    class Meta:
        ordering = ["created_at", "pk"]
        permissions = [("decide_request", "Can approve or deny agents' schedule requests")]
        constraints = [
            # One seat per agent per open shift, however often she presses the button.
            models.UniqueConstraint(
                fields=["open_shift", "requester"],
                condition=models.Q(status__in=["awaiting_colleague", "pending", "approved"]),
                name="request_one_claim_per_agent",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.requester.name} ({self.get_status_display()})"

    def clean(self):
        if self.kind == RequestKind.TIME_OFF and (self.start is None or self.end is None):
            raise ValidationError({"start": "time off needs a start and an end"})
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "time off must end after it starts"})


class RequestLogEntry(AppendOnly):
    """One step of a request (asked, accepted, approved, denied, withdrawn) and the coverage shown then."""

    append_only_refusal = "request log rows are append-only"

    created_at = models.DateTimeField(db_default=Now(), db_index=True)
    request = models.ForeignKey(ScheduleRequest, on_delete=models.PROTECT, related_name="log")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who acted; empty for an automatic rule.",
    )
    action = models.CharField(max_length=40)
    note = models.CharField(max_length=500, blank=True)
    coverage = models.TextField(blank=True, help_text="What approving would do to coverage, as shown at the time.")

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "request log entry"
        verbose_name_plural = "request log"

    def __str__(self):
        return f"request {self.request_id}: {self.action}"


class NotificationMute(models.Model):
    """A person who does not want messages by one channel (e.g. "email" or "team_messaging")."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="muted_channels")
    channel = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "channel"], name="notificationmute_unique")]

    def __str__(self):
        return f"{self.user} muted {self.channel}"


class ShiftReminderSent(models.Model):
    """The day-before reminder of one changed occurrence, sent to one person: its unique row is the claim to send
    it, so a task run twice (or two workers at once) tells her once."""

    change = models.ForeignKey(OccurrenceChange, on_delete=models.CASCADE, related_name="reminders_sent")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    occurrence = models.DateField(help_text="The occurrence's date when reminded (a change's date is fixed).")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["change", "user", "occurrence"], name="shiftremindersent_once"),
        ]

    def __str__(self):
        return f"reminded {self.user} of {self.change}"
