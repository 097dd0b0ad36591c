"""The RingPlan Socket.IO listener: connect to /ws, authenticate, store user_status_updated, reconnect.

python-socketio's own reconnection does not cover a first connect that fails, nor re-authenticating
after it, so the listener runs its own loop: connect, emit `authenticate` on `connect`, wait while
connected, and after any loss wait (capped exponential backoff with jitter) and start again.
An `unauthorized` answer stops it: retrying a refused key only hammers the provider.
"""

import logging
import random
import threading
from collections.abc import Callable

import socketio
from django.db import close_old_connections

from integrations.base import ProviderError

from .status import StatusUpdate

logger = logging.getLogger(__name__)


class Listener:
    """One long-running Socket.IO session to RingPlan, kept up until `stop` is set."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        user_email: str = "",
        on_status: Callable[[StatusUpdate], object],
        backoff: tuple[float, float] = (1.5, 60.0),
        socketio_path: str = "ws",
    ):
        self.url, self._api_key, self.user_email = url, api_key, user_email
        self.on_status = on_status
        self.backoff_base, self.backoff_cap = backoff
        self.socketio_path = socketio_path
        self.authenticated = threading.Event()
        self.sessions = 0  # successful authentications, for logs and tests
        self.refused: str = ""

    def __repr__(self):
        return f"<Listener {self.url}>"

    def run(self, stop: threading.Event) -> None:
        """Listen until `stop` is set; ProviderError if RingPlan refuses the key."""
        failures = 0
        while not stop.is_set():
            connected = self._session(stop)
            if self.refused:
                raise ProviderError(
                    f"RingPlan refused the API key: {self.refused}", code="unauthorized", permanent=True
                )
            failures = 0 if connected else failures + 1
            if not stop.is_set():
                delay = random.uniform(self.backoff_base / 2, min(self.backoff_cap, self.backoff_base * 2**failures))
                logger.info("RingPlan listener: reconnecting in %.1fs", delay)
                stop.wait(delay)

    def _session(self, stop: threading.Event) -> bool:
        """One connection, until it drops or `stop` is set; whether it got authenticated."""
        client = socketio.Client(reconnection=False, logger=False, engineio_logger=False)
        self.authenticated.clear()
        client.on("connect", lambda: client.emit("authenticate", self._credentials()))
        client.on("authenticated", lambda *args: self._on_authenticated())
        client.on("unauthorized", self._on_unauthorized)
        client.on("user_status_updated", self._on_status)
        try:
            client.connect(self.url, socketio_path=self.socketio_path, transports=["websocket"], wait_timeout=5)
        except socketio.exceptions.ConnectionError as error:
            logger.warning("RingPlan listener: cannot connect to %s: %s", self.url, error)
            return False
        while client.connected and not stop.is_set() and not self.refused:
            stop.wait(0.2)
        client.disconnect()
        return self.authenticated.is_set()

    def _credentials(self) -> dict:
        credentials = {"token": self._api_key}
        if self.user_email:
            credentials["user_email"] = self.user_email
        return credentials

    def _on_authenticated(self):
        self.sessions += 1
        self.authenticated.set()
        logger.info("RingPlan listener: authenticated (session %d)", self.sessions)

    def _on_unauthorized(self, *args):
        self.refused = str(args[0] if args else "unauthorized")[:200]

    def _on_status(self, data):
        try:
            update = StatusUpdate.from_event(data)
        except ValueError as error:
            logger.warning("RingPlan listener: %s", error)
            return
        close_old_connections()
        try:
            self.on_status(update)
        finally:
            close_old_connections()
