"""A RingPlan emulator: the REST endpoints Callrota uses and the Socket.IO endpoint at /ws.

REST checks `Authorization: Bearer <key>` and `X-User-Id` (401 otherwise), pages contacts by
`page`/`items_per_page` and instance extensions with the X-Pagination-* headers, and keeps the
webhook URL and subscriptions. Socket.IO is a real python-socketio server (threading mode, WebSocket
through simple-websocket on Werkzeug's threaded server): a client emits `authenticate` with the key
and gets `authenticated` (or `unauthorized`), then receives `user_status_updated` events.
Control API: POST /_emulator/status (emit a user_status_updated), GET /_emulator/state,
PATCH /_emulator/config ({"malformed": true} answers contacts with a body that is not JSON).
"""

import json
import logging
import math
import threading
from datetime import UTC, datetime
from pathlib import Path

import socketio
import yaml
from werkzeug.serving import make_server as werkzeug_server
from werkzeug.wrappers import Request, Response

logger = logging.getLogger(__name__)
DEMO_SEED = Path(__file__).with_name("demo_seed.yaml")
USER_STATUS_EVENT = "user_status_updated"


class RingPlanEmulator:
    """The emulated company: key, users, contacts with extensions, instances, webhooks, Socket.IO."""

    def __init__(self, seed: dict):
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
        self.app = socketio.WSGIApp(self.sio, self.rest, socketio_path="ws")

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
        contact = next((c for c in self.contacts if c["id"] == user_id), {})
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

    def rest(self, environ, start_response):
        request = Request(environ)
        if request.path.startswith("/_emulator/"):
            response = self.control(request)
        elif request.headers.get("Authorization") != f"Bearer {self.api_key}" or not self._user(request):
            response = _problem(401, "Unauthorized", "Missing or invalid API key or X-User-Id.")
        else:
            with self.lock:
                response = self.route(request)
        return response(environ, start_response)

    def _user(self, request) -> bool:
        user = request.headers.get("X-User-Id", "")
        return user == "primary" or any(c["id"] == user for c in self.contacts)

    def route(self, request: Request) -> Response:
        method, parts = request.method, request.path.strip("/").split("/")
        if (method, parts) == ("GET", ["system", "company", "contacts"]):
            return self.list_contacts(request)
        if method == "GET" and len(parts) == 3 and parts[0] == "account" and parts[2] == "extensions":
            contact = next((c for c in self.contacts if c["id"] == parts[1]), None)
            if contact is None:
                return _problem(404, "Not Found", f"contact {parts[1]} does not exist")
            return _json([_extension(e) for e in contact.get("extensions", [])])
        if method == "GET" and len(parts) == 4 and parts[0] == "instances" and parts[2:] == ["bulks", "extensions"]:
            return self.list_instance_extensions(request, parts[1])
        if parts == ["webhooks", "callbacks", "url"]:
            if method == "PUT":
                self.webhook_url = str((request.get_json(silent=True) or {}).get("url", ""))
            return _json({"id": "6165720df936448755a444a8", "company_id": self.company_id, "url": self.webhook_url})
        if parts == ["webhooks", "callbacks"]:
            return self.webhooks(request)
        return _problem(404, "Not Found", "The requested URL was not found on the server.")

    def list_contacts(self, request: Request) -> Response:
        if self.malformed:
            return Response('[{"id": "1", "first_name": "Jane",]', content_type="application/json")
        try:
            page, size = int(request.args.get("page", 1)), int(request.args.get("items_per_page", 20))
        except ValueError:
            return _problem(400, "Bad Request", "page and items_per_page must be integers")
        chunk = self.contacts[(page - 1) * size : page * size]
        if not chunk:
            return Response(status=204)
        return _json(
            [{k: v for k, v in c.items() if k != "extensions"} | {"company_id": self.company_id} for c in chunk]
        )

    def list_instance_extensions(self, request: Request, instance: str) -> Response:
        if instance not in self.instances:
            return _problem(404, "Not Found", f"instance {instance} does not exist")
        extensions = self.instances[instance]
        page, size = int(request.args.get("page", 1)), int(request.args.get("page_size", 20))
        response = _json([_extension(e) for e in extensions[(page - 1) * size : page * size]])
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
                return _problem(400, "Bad Request", f"unknown event type {kind!r}")
            event = {"id": f"{len(self.subscriptions) + 1:024x}", "company_id": self.company_id, "type": kind}
            self.subscriptions.append(event)
            return _json(event, status=201)
        return _json(self.subscriptions)

    def control(self, request: Request) -> Response:
        if request.path == "/_emulator/status" and request.method == "POST":
            body = request.get_json(silent=True) or {}
            return _json({"delivered": self.emit_status(body["user_id"], body["status"], body.get("at"))})
        if request.path == "/_emulator/state":
            return _json(
                {
                    "authenticated_clients": len(self.authenticated),
                    "webhook_url": self.webhook_url,
                    "subscriptions": [s["type"] for s in self.subscriptions],
                }
            )
        if request.path == "/_emulator/config" and request.method == "PATCH":
            self.malformed = bool((request.get_json(silent=True) or {}).get("malformed", False))
            return _json({"malformed": self.malformed})
        return _problem(404, "Not Found", "no such control endpoint")


def _extension(e: dict) -> dict:
    return {"_id": e["_id"], "data": {"id": int(e["number"]), "extension": int(e["number"]), "name": e.get("name", "")}}


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _problem(status: int, title: str, detail: str) -> Response:
    return _json({"detail": detail, "status": status, "title": title, "type": "about:blank"}, status=status)


def read_seed(path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def make_server(emulator: RingPlanEmulator, host: str = "127.0.0.1", port: int = 0):
    """Werkzeug's threaded server for the emulator's REST and Socket.IO app."""
    return werkzeug_server(host, port, emulator.app, threaded=True)
