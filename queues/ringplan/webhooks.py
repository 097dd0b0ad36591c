"""RingPlan's call-event webhooks: store every accepted delivery first, process it after.

A delivery is stored in its own transaction before the endpoint answers, keyed by the event's
id (or a hash of its body when it has none), so a redelivery or a concurrent duplicate is
stored once. Processing reads a stored event and never loses it: a failure is kept in `error`.
"""

import hashlib
import hmac
import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.base import ProviderName
from integrations.models import CallEvent, IdentityKind, ProviderIdentity, WebhookEvent

logger = logging.getLogger(__name__)
CALL_EVENTS = ("dial.action.started", "dial.action.completed", "call.action.hangup")


class BadDelivery(ValueError):
    """A webhook body we cannot store: not a JSON object, or no event type."""


def secret_matches(given: str, expected: str) -> bool:
    """Constant-time comparison; an unset secret matches nothing."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def event_type(payload) -> str:
    """The event type of a delivery (`type`, or `event`), BadDelivery when absent."""
    if not isinstance(payload, dict):
        raise BadDelivery("the body must be a JSON object")
    kind = payload.get("type") or payload.get("event")
    if not isinstance(kind, str) or not kind:
        raise BadDelivery("the body has no event type: expected a 'type' field such as 'dial.action.started'")
    return kind


def webhook_store(*, payload: dict, body: bytes) -> tuple[WebhookEvent, bool]:
    """Store one delivery (committed on return); (event, created). A duplicate returns the stored one."""
    kind = event_type(payload)
    key = str(payload.get("id") or hashlib.sha256(body).hexdigest())[:64]
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=ProviderName.RINGPLAN, key=key, event_type=kind, payload=payload
            )
        return event, True
    except IntegrityError:
        return WebhookEvent.objects.get(provider=ProviderName.RINGPLAN, key=key), False


def webhook_process(event: WebhookEvent) -> None:
    """Turn a stored call event into a CallEvent row; failures are recorded on the event, never raised."""
    try:
        with transaction.atomic():
            if event.event_type in CALL_EVENTS and not CallEvent.objects.filter(webhook=event).exists():
                CallEvent.objects.create(webhook=event, **_call_fields(event))
            WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), error="")
    except Exception as error:  # noqa: BLE001 - the event is kept; the error is shown in admin
        logger.warning("RingPlan webhook %s not processed: %s", event.pk, error)
        WebhookEvent.objects.filter(pk=event.pk).update(error=f"{type(error).__name__}: {error}"[:1000])


def _call_fields(event: WebhookEvent) -> dict:
    data = event.payload.get("data") if isinstance(event.payload.get("data"), dict) else event.payload
    extension = str(data.get("extension") or data.get("src") or "")
    identity = (
        ProviderIdentity.objects.filter(
            provider=ProviderName.RINGPLAN, kind=IdentityKind.EXTENSION, external_id=extension
        )
        .select_related("agent")
        .first()
    )
    return {
        "event_type": event.event_type,
        "call_id": str(data.get("call_id") or data.get("uniqueid") or "")[:100],
        "extension": extension[:50],
        "agent": identity.agent if identity else None,
        "at": _timestamp(data.get("timestamp")) or event.received_at,
    }


def _timestamp(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None
