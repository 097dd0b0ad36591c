"""What Callrota keeps about the providers: explicit identity mappings, live status, the webhook
events received (stored first, processed after), and RingCentral's shared session and 429 holds."""

from django.db import models

from .base import ProviderName

# The providers beyond RingCentral, whose people Callrota maps and hears from.
EXTERNAL = ProviderName.only(ProviderName.RINGOSTAT, ProviderName.RINGPLAN)


class IdentityKind(models.TextChoices):
    EMPLOYEE = "employee", "Ringostat employee (as named in its reports)"
    CONTACT = "contact", "RingPlan contact id"
    EXTENSION = "extension", "RingPlan extension number"


class ProviderIdentity(models.Model):
    """An explicit mapping of one of our agents to an identity at another provider; never guessed."""

    agent = models.ForeignKey("queues.Agent", on_delete=models.CASCADE, related_name="identities")
    provider = models.CharField(max_length=20, choices=EXTERNAL)
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    external_id = models.CharField(
        "external id",
        max_length=200,
        help_text="Ringostat: the employee exactly as its reports name them. RingPlan: the contact id or extension.",
    )

    class Meta:
        verbose_name_plural = "provider identities"
        ordering = ["provider", "kind", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "kind", "external_id"], name="identity_unique_external"),
        ]

    def __str__(self):
        return f"{self.get_provider_display()} {self.kind} {self.external_id} -> {self.agent}"


class LiveStatus(models.Model):
    """The agent's last status reported live by a provider (RingPlan's user_status_updated)."""

    agent = models.OneToOneField("queues.Agent", on_delete=models.CASCADE, related_name="live_status")
    provider = models.CharField(max_length=20, choices=EXTERNAL)
    status = models.CharField(max_length=100)
    updated_at = models.DateTimeField(help_text="When the provider says the status was set (UTC).")

    class Meta:
        verbose_name_plural = "live statuses"

    def __str__(self):
        return f"{self.agent}: {self.status}"


class WebhookEvent(models.Model):
    """One authenticated webhook delivery, stored as received before anything is done with it; `key` makes
    a redelivery a no-op. A body we cannot read is kept too, with `problem`, for someone to look at."""

    provider = models.CharField(max_length=20, choices=EXTERNAL)
    key = models.CharField(
        max_length=64,
        help_text="The event's id; a SHA-256 of it when longer than 64 characters; a SHA-256 of the body without one.",
    )
    event_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"", help_text="The request body exactly as received.")
    payload = models.JSONField(null=True, blank=True, help_text="The body as read; empty when it could not be.")
    problem = models.CharField(
        max_length=300, blank=True, help_text="Why the body could not be read (answered 400); empty when it could."
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "key"], name="webhookevent_unique_key")]
        indexes = [models.Index(fields=["processed_at"], name="webhookevent_pending")]

    def __str__(self):
        return f"{self.event_type} {self.key}"


class CallEvent(models.Model):
    """A call event from a processed webhook: who, what, when."""

    webhook = models.OneToOneField(WebhookEvent, on_delete=models.CASCADE, related_name="call_event")
    event_type = models.CharField(max_length=100)
    call_id = models.CharField(max_length=100, blank=True)
    extension = models.CharField(max_length=50, blank=True)
    agent = models.ForeignKey("queues.Agent", null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.event_type} {self.call_id} at {self.at:%Y-%m-%d %H:%M}"


class ProviderToken(models.Model):
    """The installation's one RingCentral session, shared by every process; tokens encrypted at rest.

    Also the last login RingCentral refused for good, shown to supervisors until a login succeeds.
    """

    scope = models.CharField(max_length=64, unique=True, help_text="A digest of the server, app and JWT in use.")
    access_token = models.TextField(blank=True, help_text="Encrypted with a key derived from SECRET_KEY.")
    renew_at = models.DateTimeField(null=True, blank=True, help_text="When to refresh the access token (UTC).")
    refresh_token = models.TextField(blank=True, help_text="Encrypted with a key derived from SECRET_KEY.")
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True, help_text="When RingCentral last refused the login.")
    refused_code = models.CharField(max_length=50, blank=True)
    refused_message = models.CharField(max_length=300, blank=True)

    def __str__(self):
        return f"RingCentral session {self.scope}"


class RateLimitHold(models.Model):
    """A usage-plan group nobody may call until `held_until`: a 429's penalty, honoured by every process."""

    key = models.CharField(max_length=100, unique=True)
    held_until = models.DateTimeField()

    def __str__(self):
        return f"{self.key} held until {self.held_until:%H:%M:%S}"
