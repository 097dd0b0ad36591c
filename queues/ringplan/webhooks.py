"""RingPlan's call-event webhooks: store every authenticated delivery first, process it after.

A delivery is stored as received (its raw body) in its own transaction before the endpoint answers,
keyed by the event's id (a SHA-256 of it when longer than the column, of the body when it has none),
so a redelivery or a concurrent duplicate is stored once. Reading a body never raises: one we cannot
use (not JSON, NaN, too deep, characters no database keeps, no or an over-long event type) is stored
with its problem, unprocessed, and answered 400. Processing never loses an event: a failure is kept in `error`.
"""

import hashlib
import hmac
import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.base import ProviderName
from integrations.models import CallEvent, IdentityKind, ProviderIdentity, WebhookEvent

logger = logging.getLogger(__name__)
CALL_EVENTS = ("dial.action.started", "dial.action.completed", "call.action.hangup")
MAX_DEPTH = 20  # RingPlan's events are three levels deep
KEY_LENGTH = WebhookEvent._meta.get_field("key").max_length or 64
TYPE_LENGTH = WebhookEvent._meta.get_field("event_type").max_length or 100
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # PostgreSQL keeps no NUL; no database keeps half a surrogate pair


class BadDelivery(ValueError):
    """A webhook body we cannot use: why, in a few words (it never quotes the body)."""


@dataclass(frozen=True)
class Delivery:
    key: str
    event_type: str
    payload: dict[str, Any] | None
    problem: str


def secret_matches(given: str, expected: str) -> bool:
    """Constant-time comparison; an unset secret matches nothing."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def delivery_read(body: bytes) -> Delivery:
    """What a webhook body says; never raises: a body we cannot use comes back with its problem."""
    try:
        payload = _json_object(body)
        return Delivery(key=_key(payload, body), event_type=_event_type(payload), payload=payload, problem="")
    except BadDelivery as error:
        return Delivery(key=_digest(body), event_type="", payload=None, problem=str(error))


def _event_type(payload: dict[str, Any]) -> str:
    """The event type of a delivery (`type`, or `event`), BadDelivery when absent or too long."""
    kind = payload.get("type") or payload.get("event")
    if not isinstance(kind, str) or not kind:
        raise BadDelivery("the body has no event type: expected a 'type' field such as 'dial.action.started'")
    if len(kind) > TYPE_LENGTH:
        raise BadDelivery(f"the event type is {len(kind):,} characters long; the limit is {TYPE_LENGTH}")
    return kind


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except BadDelivery:
        raise
    except UnicodeDecodeError:
        raise BadDelivery("the body is not UTF-8 text") from None
    except RecursionError:
        raise BadDelivery(f"the body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError names the line and column, never the text
        raise BadDelivery(f"the body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise BadDelivery("the body must be a JSON object")
    _check_storable(payload)
    return payload


def _no_constant(name: str) -> Any:
    raise BadDelivery(f"the body holds {name}, which JSON has no number for")


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):
        raise BadDelivery("the body holds a number too large for a float")
    return value


def _check_storable(payload: dict[str, Any]) -> None:
    """Refuse what a database would refuse later, and nesting beyond MAX_DEPTH."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str) and UNSTORABLE.search(value):
            raise BadDelivery("the body holds a NUL character or half a surrogate pair, which cannot be stored")
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise BadDelivery(f"the body is nested deeper than {MAX_DEPTH} levels")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)


def _key(payload: dict[str, Any], body: bytes) -> str:
    """The event's id as it is, a digest of it when longer than the column, a digest of the body without one."""
    event_id = payload.get("id")
    if event_id is None or event_id == "":
        return _digest(body)
    if isinstance(event_id, bool) or not isinstance(event_id, str | int):
        raise BadDelivery("the event id must be text or a whole number")
    text = str(event_id)
    return text if len(text) <= KEY_LENGTH else _digest(text.encode())


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def webhook_store(*, body: bytes) -> tuple[WebhookEvent, bool]:
    """Store one authenticated delivery as received (committed on return); (event, created).

    A duplicate returns the stored one; a body we cannot use is stored with its `problem`.
    """
    delivery = delivery_read(body)
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=ProviderName.RINGPLAN,
                key=delivery.key,
                event_type=delivery.event_type,
                body=body,
                payload=delivery.payload,
                problem=delivery.problem,
            )
        return event, True
    except IntegrityError:
        stored = WebhookEvent.objects.filter(provider=ProviderName.RINGPLAN, key=delivery.key).first()
        if stored is None:  # not a duplicate after all
            raise
        return stored, False


def webhook_process(event: WebhookEvent) -> None:
    """Turn a stored call event into a CallEvent row; failures are recorded on the event, never raised."""
    if event.problem:
        WebhookEvent.objects.filter(pk=event.pk).update(error=f"not processed: {event.problem}")
        return
    try:
        with transaction.atomic():
            if event.event_type in CALL_EVENTS and not CallEvent.objects.filter(webhook=event).exists():
                CallEvent.objects.create(webhook=event, **_call_fields(event))
            WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), error="")
    except Exception as error:  # noqa: BLE001 - the event is kept; the error is shown in admin
        logger.warning("RingPlan webhook %s not processed: %s", event.pk, error)
        WebhookEvent.objects.filter(pk=event.pk).update(error=f"{type(error).__name__}: {error}"[:1000])


def _call_fields(event: WebhookEvent) -> dict:
    payload = event.payload or {}
    nested = payload.get("data")
    data = nested if isinstance(nested, dict) else payload
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
