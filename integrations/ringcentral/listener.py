"""RingCentral's events over its WebSocket gateway (WSG), as the official SDKs speak it.

One session for the installation: a ticket from POST /restapi/oauth/wstoken, a connection,
one subscription to the member presence of each followed queue and to account presence.
Heartbeats keep it alive and tell the sink it is. A dropped connection is recovered with
`&wsc=` within the gateway's recovery timeout (nothing missed: the gateway replays it);
after a failed recovery, or past the timeout, the listener subscribes again and the sink
re-reads what it may have missed. The followed queues are checked every FOLLOW_EVERY seconds
and the subscription's filters updated when they changed.
"""

import json
import logging
import random
import re
import threading
import time
import uuid
from typing import Protocol

import websocket

from integrations.base import ProviderError

from .schema import WsTicket

logger = logging.getLogger(__name__)

SUBSCRIPTION_PATH = "/restapi/v1.0/subscription"
ACCOUNT_PRESENCE = "/restapi/v1.0/account/~/presence"
QUEUE_PRESENCE = "/restapi/v1.0/account/~/call-queues/{}/presence"
_QUEUE_EVENT = re.compile(r"/restapi/v1\.0/account/[^/]+/call-queues/([^/]+)/presence")
_ACCOUNT_EVENT = re.compile(r"/restapi/v1\.0/account/[^/]+/presence")
HEARTBEAT_EVERY = 10.0  # seconds; the answer proves the session alive (queues.heard.LIVE_WITHIN is 30 s)
FOLLOW_EVERY = 30.0  # seconds between checks of which queues to follow
POLL = 0.25  # seconds a receive waits, so the sink's tick and the timers run between messages
ANSWER_WITHIN = 10.0  # seconds to wait for the answer to a subscription request


class Sink(Protocol):
    """Where the listener puts what it hears (the product's side: storage, corrections)."""

    def queues(self) -> set[str]:
        """The queue ids to follow now."""

    def started(self) -> None:
        """A new session is subscribed: anything heard before may have missed a change."""

    def recovered(self) -> None:
        """The session came back with nothing missed."""

    def dropped(self) -> None:
        """The connection is down."""

    def alive(self) -> None:
        """The gateway said something."""

    def queue_presence(self, queue_id: str, accept: dict[str, bool]) -> None:
        """Members' acceptCurrentQueueCalls in one queue, as an event told."""

    def presence(self, extension_id: str, dnd_status: str, sequence: int | None) -> None:
        """An extension's DnD, with the presence event's sequence."""

    def tick(self) -> None:
        """Called between messages, at least every POLL seconds."""


class Ticketing(Protocol):
    def ws_ticket(self) -> WsTicket: ...


class Closed(Exception):
    """The connection dropped."""


class Listener:
    """Keeps one WSG session to RingCentral until `stop` is set."""

    def __init__(
        self,
        client: Ticketing,
        sink: Sink,
        *,
        heartbeat_every: float = HEARTBEAT_EVERY,
        follow_every: float = FOLLOW_EVERY,
        backoff: tuple[float, float] = (4.0, 30.0),
    ):
        self.client, self.sink = client, sink
        self.heartbeat_every, self.follow_every = heartbeat_every, follow_every
        self.backoff_base, self.backoff_cap = backoff
        self.wsc: str | None = None  # the session's recovery token, as the last message carried it
        self.recover_until = 0.0  # monotonic time after which the gateway has forgotten the session
        self.recovery_timeout = 180.0  # as the gateway announces it in ConnectionDetails
        self.subscription_id = ""
        self.filters: list[str] = []
        self.sessions = 0  # new sessions subscribed, for logs and tests
        self.recoveries = 0

    def __repr__(self):
        return f"<RingCentral Listener {self.client!r}>"

    def run(self, stop: threading.Event) -> None:
        """Listen until `stop` is set, reconnecting (and recovering) after every drop."""
        failures = 0
        while not stop.is_set():
            try:
                ws = self._connect()
            except (Closed, ProviderError, websocket.WebSocketException, OSError, ValueError, LookupError) as error:
                failures += 1
                # Equal jitter, growing: each attempt spends a ticket from the Auth group's 5 a minute.
                ceiling = min(self.backoff_cap, self.backoff_base * 2**failures)
                delay = random.uniform(ceiling / 2, ceiling)
                logger.warning("RingCentral listener: cannot connect (%.200s); again in %.1fs", error, delay)
                self._wait(stop, delay)
                continue
            failures = 0
            try:
                self._converse(ws, stop)
            except (Closed, websocket.WebSocketException, OSError) as error:
                logger.warning("RingCentral listener: connection lost (%s)", error)
            finally:
                ws.close()
            self.sink.dropped()  # stopped or lost, what is heard no longer counts until the session is back

    def _wait(self, stop: threading.Event, seconds: float) -> None:
        """Wait, still ticking the sink (its debounced corrections must not wait for the network)."""
        until = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < until:
            self.sink.tick()
            stop.wait(min(POLL, max(0.0, until - time.monotonic())))

    def _connect(self) -> websocket.WebSocket:
        """Connect, recovering the session when it can still be; a new session gets its subscription."""
        ticket = self.client.ws_ticket()
        recovering = self.wsc if self.wsc and time.monotonic() < self.recover_until else None
        url = f"{ticket.uri}?access_token={ticket.token}" + (f"&wsc={recovering}" if recovering else "")
        ws = websocket.create_connection(url, timeout=5)
        try:
            greeting = self._receive(ws, wait=ANSWER_WITHIN)
            if greeting is None or greeting[0].get("type") != "ConnectionDetails":
                raise Closed("the gateway did not open with ConnectionDetails")
            details = greeting[1]
            self.recovery_timeout = float(details.get("recoveryTimeout", 180))
            if recovering and details.get("recoveryState") == "Successful":
                self.recoveries += 1
                logger.info("RingCentral listener: session recovered, nothing missed")
                self.sink.recovered()
            else:
                if recovering:
                    logger.warning("RingCentral listener: recovery %s; subscribing again", details.get("recoveryState"))
                self._subscribe(ws)
        except BaseException:
            ws.close()
            raise
        return ws

    def _subscribe(self, ws: websocket.WebSocket) -> None:
        self.filters = self._wanted_filters()
        body = {"eventFilters": self.filters, "deliveryMode": {"transportType": "WebSocket"}}
        answer = self._request(ws, "POST", SUBSCRIPTION_PATH, body)
        self.subscription_id = str(answer["id"])
        self.sessions += 1
        logger.info("RingCentral listener: subscribed to %d filters (session %d)", len(self.filters), self.sessions)
        self.sink.started()

    def _follow(self, ws: websocket.WebSocket) -> None:
        """Update the subscription's filters when the queues to follow changed."""
        wanted = self._wanted_filters()
        if wanted == self.filters:
            return
        path = f"{SUBSCRIPTION_PATH}/{self.subscription_id}"
        self._request(ws, "PUT", path, {"eventFilters": wanted, "deliveryMode": {"transportType": "WebSocket"}})
        logger.info("RingCentral listener: now following %d queues", len(wanted) - 1)
        self.filters = wanted

    def _wanted_filters(self) -> list[str]:
        return [*(QUEUE_PRESENCE.format(q) for q in sorted(self.sink.queues())), ACCOUNT_PRESENCE]

    def _converse(self, ws: websocket.WebSocket, stop: threading.Event) -> None:
        next_heartbeat = next_follow = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_heartbeat:
                self._send(ws, [{"type": "Heartbeat", "messageId": str(uuid.uuid4())}])
                next_heartbeat = now + self.heartbeat_every
            if now >= next_follow:
                self._follow(ws)
                next_follow = now + self.follow_every
            message = self._receive(ws, wait=POLL)
            if message is not None:
                self._dispatch(*message)
            self.sink.tick()

    def _request(self, ws: websocket.WebSocket, method: str, path: str, body: dict) -> dict:
        """A ClientRequest and its answer; notifications that arrive meanwhile are handled as usual."""
        message_id = str(uuid.uuid4())
        self._send(ws, [{"type": "ClientRequest", "messageId": message_id, "method": method, "path": path}, body])
        deadline = time.monotonic() + ANSWER_WITHIN
        while time.monotonic() < deadline:
            message = self._receive(ws, wait=POLL)
            if message is None:
                continue
            head, answer = message
            if head.get("type") == "ClientRequest" and head.get("messageId") == message_id:
                if head.get("status") != 200:
                    raise Closed(f"{method} {path} answered {head.get('status')}: {answer.get('message', '')}")
                return answer
            self._dispatch(head, answer)
        raise Closed(f"{method} {path}: no answer within {ANSWER_WITHIN:g}s")

    def _send(self, ws: websocket.WebSocket, message: list[dict]) -> None:
        ws.send(json.dumps(message))

    def _receive(self, ws: websocket.WebSocket, *, wait: float) -> tuple[dict, dict] | None:
        """The next message as (head, body); None when none came within `wait`; Closed when the socket closed."""
        ws.settimeout(wait)
        try:
            text = ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        except websocket.WebSocketConnectionClosedException as error:
            raise Closed("closed by the gateway") from error
        if not text:
            raise Closed("closed by the gateway")
        try:
            message = json.loads(text)
            head = message[0]
            body = message[1] if len(message) > 1 and isinstance(message[1], dict) else {}
        except (ValueError, LookupError, TypeError):
            logger.warning("RingCentral listener: a message that is not WSG's: %.200s", text)
            return None
        if isinstance(head.get("wsc"), dict) and head["wsc"].get("token"):
            self.wsc = head["wsc"]["token"]
        self.recover_until = time.monotonic() + self.recovery_timeout  # counted from a drop, which is later
        self.sink.alive()
        return head, body

    def _dispatch(self, head: dict, envelope: dict) -> None:
        """Hand a notification's values to the sink; anything else needs nothing."""
        if head.get("type") != "ServerNotification":
            return
        event, body = str(envelope.get("event", "")), envelope.get("body") or {}
        try:
            if queue := _QUEUE_EVENT.fullmatch(event):
                accept = {str(r["member"]["id"]): bool(r["acceptCurrentQueueCalls"]) for r in body.get("records", [])}
                self.sink.queue_presence(queue.group(1), accept)
            elif _ACCOUNT_EVENT.fullmatch(event) and body.get("dndStatus"):
                sequence = body.get("sequence")
                self.sink.presence(str(body["extensionId"]), str(body["dndStatus"]), _int_or_none(sequence))
        except (LookupError, TypeError) as error:
            logger.warning("RingCentral listener: a notification it cannot read (%r): %.200s", error, envelope)


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
