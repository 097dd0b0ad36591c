"""A RingPlan emulator: the REST endpoints Callrota uses and the Socket.IO endpoint at /ws.

REST checks `Authorization: Bearer <key>` and `X-User-Id` (401 otherwise), pages contacts by
`page`/`items_per_page` and instance extensions with the X-Pagination-* headers, and keeps the
webhook URL and subscriptions. Socket.IO is a real python-socketio server (threading mode, WebSocket
through simple-websocket on Werkzeug's threaded server): a client emits `authenticate` with the key
and gets `authenticated` (or `unauthorized`), then receives `user_status_updated` events.
Control API: POST /_emulator/status (emit a user_status_updated), GET /_emulator/state,
PATCH /_emulator/config ({"malformed": true} answers contacts with a body that is not JSON),
loopback clients only.
"""

import math
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING

import socketio
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..emulation import EmulatorApp

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

DEMO_SEED = Path(__file__).with_name("demo_seed.yaml")
USER_STATUS_EVENT = "user_status_updated"


class RingPlanEmulator(EmulatorApp):
    """The emulated company: key, users, contacts with extensions, instances, webhooks, Socket.IO."""

    title = "RingPlan emulator"

    def __init__(self, seed: dict):
        super().__init__()
        self.api_key = seed["api_key"]
        self.company_id = seed.get("company_id", "611ced1255c44a89f8df7cc0")
        self.contacts = seed.get("contacts", [])
        self.instances = seed.get("instances", {})
        self.webhook_url = ""
        self.subscriptions: list[dict] = []
        self.malformed = False
        self.authenticated: set[str] = set()
        self.lock = threading.Lock()
        self.sio = socketio.Server(async_mode="threading", logger=False, engineio_logger=False)
        self.sio.on("authenticate", self.on_authenticate)
        self.sio.on("disconnect", self.on_disconnect)
        self._with_socketio = socketio.WSGIApp(self.sio, super().__call__, socketio_path="ws")

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        """Socket.IO at /ws, REST and control everywhere else."""
        return self._with_socketio(environ, start_response)

    # ------------------------------------------------------------------ Socket.IO

    def on_authenticate(self, sid, data):
        if isinstance(data, dict) and data.get("token") == self.api_key:
            self.authenticated.add(sid)
            self.sio.emit("authenticated", {}, to=sid)
        else:
            self.sio.emit("unauthorized", {"message": "invalid token"}, to=sid)
            self.sio.disconnect(sid)

    def on_disconnect(self, sid, *reason):
        self.authenticated.discard(sid)

    def emit_status(self, user_id: str, status: str, at: str | None = None) -> int:
        """Send a user_status_updated to every authenticated client; how many got it."""
        contact: dict = next((c for c in self.contacts if c["id"] == user_id), {})
        at = at or datetime.now(UTC).isoformat()
        payload = {
            "company_id": self.company_id,
            "user_id": user_id,
            "user_email": contact.get("email", ""),
            "status": {"status": status, "action_type": "manual"},
            "id": f"status-{user_id}-{at}",
            "created_at": at,
            "updated_at": at,
        }
        sids = list(self.authenticated)
        for sid in sids:
            self.sio.emit(USER_STATUS_EVENT, payload, to=sid)
        return len(sids)

    # ------------------------------------------------------------------ REST

    def rules(self) -> list[Rule]:
        return [
            Rule("/system/company/contacts", methods=["GET"], endpoint="list_contacts"),
            Rule("/account/<contact_id>/extensions", methods=["GET"], endpoint="contact_extensions"),
            Rule("/instances/<instance>/bulks/extensions", methods=["GET"], endpoint="list_instance_extensions"),
            Rule("/webhooks/callbacks/url", endpoint="callback_url"),
            Rule("/webhooks/callbacks", endpoint="webhooks"),
            Rule("/_emulator/status", methods=["POST"], endpoint="send_status"),
            Rule("/_emulator/state", endpoint="state"),
            Rule("/_emulator/config", methods=["PATCH"], endpoint="change_config"),
        ]

    def api(self, request: Request) -> Response:
        """Refuse a wrong key or user before anything else, as RingPlan does."""
        if request.headers.get("Authorization") != f"Bearer {self.api_key}" or not self._user(request):
            return self.error(401, "Missing or invalid API key or X-User-Id.")
        with self.lock:
            return self.dispatch(request)

    def error(self, status: int, message: str) -> Response:
        """RingPlan's problem body (RFC 7807)."""
        body = {"detail": message, "status": status, "title": HTTPStatus(status).phrase, "type": "about:blank"}
        return self.json(body, status)

    def _user(self, request: Request) -> bool:
        user = request.headers.get("X-User-Id", "")
        return user == "primary" or any(c["id"] == user for c in self.contacts)

    def contact_extensions(self, request: Request, contact_id: str) -> Response:
        contact = next((c for c in self.contacts if c["id"] == contact_id), None)
        if contact is None:
            return self.error(404, f"contact {contact_id} does not exist")
        return self.json([_extension(e) for e in contact.get("extensions", [])])

    def callback_url(self, request: Request) -> Response:
        if request.method == "PUT":
            self.webhook_url = str((request.get_json(silent=True) or {}).get("url", ""))
        return self.json({"id": "6165720df936448755a444a8", "company_id": self.company_id, "url": self.webhook_url})

    def list_contacts(self, request: Request) -> Response:
        if self.malformed:
            return Response('[{"id": "1", "first_name": "Jane",]', content_type=self.json_type)
        try:
            page, size = int(request.args.get("page", 1)), int(request.args.get("items_per_page", 20))
        except ValueError:
            return self.error(400, "page and items_per_page must be integers")
        chunk = self.contacts[(page - 1) * size : page * size]
        if not chunk:
            return Response(status=204)
        return self.json(
            [{k: v for k, v in c.items() if k != "extensions"} | {"company_id": self.company_id} for c in chunk]
        )

    def list_instance_extensions(self, request: Request, instance: str) -> Response:
        if instance not in self.instances:
            return self.error(404, f"instance {instance} does not exist")
        extensions = self.instances[instance]
        page, size = int(request.args.get("page", 1)), int(request.args.get("page_size", 20))
        response = self.json([_extension(e) for e in extensions[(page - 1) * size : page * size]])
        response.headers.update(
            {
                "X-Pagination-Total-Count": str(len(extensions)),
                "X-Pagination-Page-Count": str(max(1, math.ceil(len(extensions) / size))),
                "X-Pagination-Current-Page": str(page),
                "X-Pagination-Per-Page": str(size),
            }
        )
        return response

    def webhooks(self, request: Request) -> Response:
        if request.method == "POST":
            kind = (request.get_json(silent=True) or {}).get("type")
            if kind not in (
                "dial.action.started",
                "dial.action.completed",
                "call.action.hangup",
                "texting.message.inbound",
            ):
                return self.error(400, f"unknown event type {kind!r}")
            event = {"id": f"{len(self.subscriptions) + 1:024x}", "company_id": self.company_id, "type": kind}
            self.subscriptions.append(event)
            return self.json(event, status=201)
        return self.json(self.subscriptions)

    # ------------------------------------------------------------------ control API

    def send_status(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        return self.json({"delivered": self.emit_status(body["user_id"], body["status"], body.get("at"))})

    def state(self, request: Request) -> Response:
        return self.json(
            {
                "authenticated_clients": len(self.authenticated),
                "webhook_url": self.webhook_url,
                "subscriptions": [s["type"] for s in self.subscriptions],
            }
        )

    def change_config(self, request: Request) -> Response:
        self.malformed = bool((request.get_json(silent=True) or {}).get("malformed", False))
        return self.json({"malformed": self.malformed})


def _extension(e: dict) -> dict:
    return {"_id": e["_id"], "data": {"id": int(e["number"]), "extension": int(e["number"]), "name": e.get("name", "")}}
