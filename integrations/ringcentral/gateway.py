"""RingCentral's WebSocket gateway (WSG), as the emulator serves it and the official SDKs speak it.

POST /restapi/oauth/wstoken gives a one-minute ticket; the client connects with
`?access_token=<ticket>` and is greeted with `ConnectionDetails`, which carries a WSC token.
Subscriptions are created, updated and deleted with `ClientRequest` messages (answered with
`WSG-SubscriptionId`); events arrive as `ServerNotification`s, each numbered in the session.

A dropped session is kept for RECOVERY_TIMEOUT seconds: reconnecting with `&wsc=<token>` within
it says `recoveryState: Successful`, keeps the subscriptions and replays what was missed; later,
`Failed`, and the client must subscribe again and re-read what it may have missed. A
subscription over WebSocket lives as long as its session.
"""

import json
import logging
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import simple_websocket
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

logger = logging.getLogger(__name__)

WS_PATH = "/ws"
TICKET_LIFETIME = 60.0  # seconds a wstoken may be used to connect
RECOVERY_TIMEOUT = 180  # seconds a dropped session can be recovered, as RingCentral announces
IDLE_TIMEOUT = 900  # seconds without a message from the client before the gateway closes the connection
ABSOLUTE_TIMEOUT = 86_400
SUBSCRIPTION_LIFETIME = 900  # the expiresIn RingCentral answers for a WebSocket subscription
POLL = 0.05  # how often a connection's thread looks for events to send

# The event filters the emulator publishes, with {} for an id (the account may be written ~).
FILTERS = (
    "/restapi/v1.0/account/{}/call-queues/{}/presence",
    "/restapi/v1.0/account/{}/presence",
    "/restapi/v1.0/account/{}/extension/{}/presence",
    "/restapi/v1.0/account/{}/extension/{}/presence/dnd",
)


@dataclass
class Subscription:
    id: str
    filters: list[str]  # as the client wrote them
    created: datetime

    def as_json(self) -> dict:
        expires = self.created + timedelta(seconds=SUBSCRIPTION_LIFETIME)
        return {
            "uri": f"/restapi/v1.0/subscription/{self.id}",
            "id": self.id,
            "creationTime": _iso(self.created),
            "status": "Active",
            "eventFilters": self.filters,
            "expirationTime": _iso(expires),
            "expiresIn": SUBSCRIPTION_LIFETIME,
            "deliveryMode": {"transportType": "WebSocket", "encryption": False},
        }


@dataclass
class Session:
    """One client's gateway session: its subscriptions, and what waits to be sent to it."""

    wsc: str
    owner: str
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    outbox: deque[list[dict]] = field(default_factory=deque)  # messages not yet sent, oldest first
    connected: bool = False
    dropped_at: float | None = None
    sequence: int = 0  # of the messages sent in this session, as the WSC token counts them


class Gateway:
    """The WSG of one emulated account; `publish` is called for every change the emulator makes."""

    def __init__(
        self,
        account_id: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        recovery_timeout: float = RECOVERY_TIMEOUT,
    ):
        self.account_id = account_id
        self.recovery_timeout = recovery_timeout  # shorter in tests, so they need not wait three minutes
        self._clock = clock
        self._lock = threading.Lock()
        self._tickets: dict[str, tuple[str, float]] = {}  # ticket -> (owner, expires at)
        self._sessions: dict[str, Session] = {}  # by WSC token
        self._down_until = 0.0  # a network outage: connections refused until then
        self._closing: set[str] = set()  # WSC tokens whose connections must close now

    # ------------------------------------------------------------------ what the REST side calls

    def ticket(self, owner: str, origin: str) -> dict:
        """The answer of POST /restapi/oauth/wstoken for a logged-in owner."""
        value = secrets.token_urlsafe(24)
        with self._lock:
            self._tickets[value] = (owner, self._clock() + TICKET_LIFETIME)
        ws_origin = origin.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return {"uri": f"{ws_origin}{WS_PATH}", "ws_access_token": value, "expires_in": int(TICKET_LIFETIME)}

    def publish(self, event: str, body: dict) -> None:
        """Deliver an event to every subscription whose filters name it, connected or waiting for recovery."""
        wanted = self._normal(event)
        now = datetime.now(UTC)
        with self._lock:
            self._forget_expired()
            for session in self._sessions.values():
                for subscription in session.subscriptions.values():
                    if wanted in {self._normal(f) for f in subscription.filters}:
                        envelope = {
                            "uuid": str(uuid.uuid4()),
                            "event": wanted,
                            "timestamp": _iso(now),
                            "subscriptionId": subscription.id,
                            "ownerId": session.owner,
                            "body": body,
                        }
                        session.outbox.append(
                            [{"type": "ServerNotification", "messageId": str(uuid.uuid4())}, envelope]
                        )

    def outage(self, seconds: float) -> None:
        """Drop every connection now and refuse new ones for `seconds` (the network between us failed)."""
        with self._lock:
            self._down_until = self._clock() + seconds
            self._closing.update(s.wsc for s in self._sessions.values() if s.connected)

    def sessions(self) -> list[dict]:
        """What the control API shows: each session, connected or not, and its filters."""
        with self._lock:
            return [
                {
                    "connected": s.connected,
                    "owner": s.owner,
                    "subscriptions": [sub.as_json() for sub in s.subscriptions.values()],
                    "waiting": len(s.outbox),
                }
                for s in self._sessions.values()
            ]

    # ------------------------------------------------------------------ the WebSocket side

    def serve(self, environ: "WSGIEnvironment") -> Response:
        """Answer a connection to /ws: refuse it, or hold the whole conversation on this thread."""
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        with self._lock:
            if self._clock() < self._down_until:
                return _refusal(503, "WSG-503", "The gateway cannot be reached")
            owner = self._use_ticket(query.get("access_token", ""))
            if owner is None:
                return _refusal(401, "WSG-401", "Invalid or expired WebSocket access token")
            session, recovery = self._session_for(owner, query.get("wsc"))
            session.connected, session.dropped_at = True, None
        try:
            ws = simple_websocket.Server(environ, ping_interval=None)
        except Exception:  # not an upgrade request at all
            with self._lock:
                session.connected = False
            return _refusal(400, "WSG-400", "Connect with a WebSocket upgrade")
        try:
            self._converse(ws, session, recovery)
        finally:
            with self._lock:
                session.connected, session.dropped_at = False, self._clock()
                self._closing.discard(session.wsc)
        return Response(status=200)  # the socket is closed; the server writes nothing more to it

    def _converse(self, ws: simple_websocket.Server, session: Session, recovery: str | None) -> None:
        self._send(ws, session, self._connection_details(session, recovery))
        last_heard = self._clock()
        try:
            while True:
                if self._closing_now(session):
                    break
                while (message := self._next(session)) is not None:
                    self._send(ws, session, message)
                    with self._lock:
                        session.outbox.popleft()  # only once sent: a drop mid-way keeps the rest for recovery
                text = ws.receive(timeout=POLL)
                if text is not None:
                    last_heard = self._clock()
                    answer = self._answer(session, text)
                    if answer is not None:
                        self._send(ws, session, answer)
                elif self._clock() - last_heard > IDLE_TIMEOUT:
                    break
        except simple_websocket.ConnectionClosed:
            return
        ws.close()

    def _closing_now(self, session: Session) -> bool:
        with self._lock:
            return session.wsc in self._closing

    def _next(self, session: Session) -> list[dict] | None:
        with self._lock:
            return session.outbox[0] if session.outbox else None

    def _send(self, ws: simple_websocket.Server, session: Session, message: list[dict]) -> None:
        session.sequence += 1
        head = {**message[0], "wsc": {"token": session.wsc, "sequence": session.sequence}}
        ws.send(json.dumps([head, *message[1:]]))

    def _connection_details(self, session: Session, recovery: str | None) -> list[dict]:
        details: dict[str, Any] = {
            "recoveryTimeout": self.recovery_timeout,
            "idleTimeout": IDLE_TIMEOUT,
            "absoluteTimeout": ABSOLUTE_TIMEOUT,
            "maxConnectionsPerSession": 1,
        }
        if recovery:
            details["recoveryState"] = recovery
        head = {"type": "ConnectionDetails", "messageId": str(uuid.uuid4()), "status": 200, "headers": {}}
        return [head, details]

    def _answer(self, session: Session, text: str) -> list[dict] | None:
        """The answer to one client message; None for what needs none."""
        try:
            message = json.loads(text)
            head = message[0]
            kind = head["type"]
        except (ValueError, LookupError, TypeError):
            return [{"type": "Error", "messageId": "", "status": 400}, _error("WSG-400", "Malformed message")]
        if kind == "Heartbeat":
            return [{"type": "Heartbeat", "messageId": head.get("messageId", ""), "status": 200}]
        if kind != "ClientRequest":
            return [{"type": "Error", "messageId": head.get("messageId", ""), "status": 400},
                    _error("WSG-400", f"Unknown message type {kind!r}")]  # fmt: skip
        body = message[1] if len(message) > 1 and isinstance(message[1], dict) else {}
        status, headers, answer = self._subscription_request(session, head, body)
        reply = {"type": "ClientRequest", "messageId": head.get("messageId", ""), "status": status, "headers": headers}
        return [reply, answer]

    def _subscription_request(self, session: Session, head: dict, body: dict) -> tuple[int, dict, dict]:
        method, path = str(head.get("method", "")).upper(), str(head.get("path", "")).rstrip("/")
        prefix = "/restapi/v1.0/subscription"
        if method == "POST" and path == prefix:
            filters, problem = self._filters(body)
            if problem:
                return 400, {}, problem
            created = Subscription(uuid.uuid4().hex, filters, datetime.now(UTC))
            with self._lock:
                session.subscriptions[created.id] = created
            return 200, {"WSG-SubscriptionId": created.id}, created.as_json()
        subscription_id = path.removeprefix(prefix + "/") if path.startswith(prefix + "/") else ""
        with self._lock:
            subscription = session.subscriptions.get(subscription_id)
        if subscription is None:
            return 404, {}, _error("SUB-404", f"Subscription {subscription_id or path!r} not found")
        if method == "PUT":
            filters, problem = self._filters(body)
            if problem:
                return 400, {}, problem
            with self._lock:
                subscription.filters = filters
            return 200, {"WSG-SubscriptionId": subscription.id}, subscription.as_json()
        if method == "DELETE":
            with self._lock:
                del session.subscriptions[subscription.id]
            return 204, {"WSG-SubscriptionId": subscription.id}, {}
        return 405, {}, _error("CMN-405", f"{method} is not allowed here")

    def _filters(self, body: dict) -> tuple[list[str], dict | None]:
        filters = body.get("eventFilters")
        if not isinstance(filters, list) or not filters or not all(isinstance(f, str) for f in filters):
            return [], _error("SUB-520", "eventFilters: a list of event filters is required")
        unknown = [f for f in filters if not _known(self._normal(f), self.account_id)]
        if unknown:
            return [], _error("SUB-521", f"Invalid event filter: {unknown[0][:120]}")
        return filters, None

    # ------------------------------------------------------------------ bookkeeping

    def _use_ticket(self, value: str) -> str | None:
        owner, expires = self._tickets.pop(value, ("", 0.0))  # a ticket connects once
        return owner if owner and self._clock() < expires else None

    def _session_for(self, owner: str, wsc: str | None) -> tuple[Session, str | None]:
        """The session a connection belongs to: recovered, or new (and a failed recovery said so)."""
        self._forget_expired()
        if wsc is not None:
            session = self._sessions.get(wsc)
            if session is not None and session.owner == owner and not session.connected:
                return session, "Successful"
        session = Session(secrets.token_urlsafe(24), owner)
        self._sessions[session.wsc] = session
        return session, "Failed" if wsc is not None else None

    def _forget_expired(self) -> None:
        """Sessions dropped longer ago than the recovery timeout are gone, with their subscriptions."""
        now = self._clock()
        for wsc, session in list(self._sessions.items()):
            if session.dropped_at is not None and now - session.dropped_at > self.recovery_timeout:
                del self._sessions[wsc]

    def _normal(self, event: str) -> str:
        """An event or filter as the gateway compares them: the account's id for ~, no query."""
        path = event.split("?", 1)[0].rstrip("/")
        return path.replace("/account/~/", f"/account/{self.account_id}/", 1)


def _known(path: str, account_id: str) -> bool:
    parts = path.split("/")
    for pattern in FILTERS:
        expected = pattern.split("/")
        if len(expected) == len(parts) and all(e in ("{}", p) for e, p in zip(expected, parts, strict=True)):
            return parts[4] == account_id
    return False


def _error(code: str, message: str) -> dict:
    return {"errorCode": code, "message": message, "errors": [{"errorCode": code, "message": message}]}


def _refusal(status: int, code: str, message: str) -> Response:
    return Response(json.dumps(_error(code, message)), status=status, content_type="application/json")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
