"""A RingCentral emulator: a real HTTP server speaking the slice of RingCentral's API Callrota uses.

It enforces what RingCentral enforces, so the client, the demo and RingCentral's own
samples meet the same refusals they would meet in production: the JWT bearer grant
and the refresh-token grant (refresh tokens rotate; at most 5 sessions per user and
app, a 6th login revokes the oldest) with expiring bearer tokens; usage-plan groups
(Auth 5 a minute) with `X-Rate-Limit-*` headers, 429 and a penalty interval past the
limit that every request during it restarts (Retry-After can be left out, as RingCentral
sometimes does); batch parts that fail one by one; acceptQueueCalls derived from DnD; members'
own status changes refused where the queue's editableMemberStatus is false; 404
CMN-102, 400 CMN-101 and RingCentral's error body shape; batch presence as 207
multipart. A queue's extension answers readExtension (its zone in regionalSettings.timezone)
and its business-hours (the schedule file's opening_hours as weeklyRanges; none: 24/7).
State lives in memory, seeded from a schedule file.

Tests steer it through a loopback-only control API under /_emulator/: the request log
(GET, DELETE /requests), faults and limits (GET, PATCH /config), POST /expire-tokens,
POST /reset (back to the seed), POST /call-log (add call log records),
DELETE /extensions/<id> (delete an agent's extension), and what a person does at her phone:
PUT /extensions/<id>/presence ({"dndStatus"}) and PUT /call-queues/<q>/members/<id>
({"acceptCurrentQueueCalls"}). POST /gateway/outage ({"seconds"}) cuts the WebSocket gateway's
connections and refuses new ones for that long; GET /gateway/sessions lists its sessions.

RingCentral's WebSocket gateway (gateway.py) is served at /ws after POST /restapi/oauth/wstoken
(Auth group). Every change, through the API or the control API, emits its notifications.
"""

import base64
import copy
import json
import math
import secrets
import threading
import time
import zlib
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..emulation import EmulatorApp
from .gateway import RECOVERY_TIMEOUT, WS_PATH, Gateway
from .multipart import build_batch
from .ratelimit import DEFAULT_LIMITS, DEFAULT_WINDOW, group_for
from .schema import DND_STATUSES, POST_TEXT_LIMIT

ACCOUNT_ID = "809646000"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REFRESH_TOKEN_TTL = 7 * 24 * 3600
SESSIONS_PER_USER = 5  # active sessions per user per app; a 6th login revokes the oldest
BATCH_LIMIT = 30
NO_QUEUE_CALLS = ("DoNotAcceptAnyCalls", "DoNotAcceptDepartmentCalls")  # DnD values that mean acceptQueueCalls false
USER_STATUSES = ("Available", "Busy", "Offline")
ACCOUNT_PATH = "/restapi/v1.0/account/<account>"
ACCOUNT_BASE = f"/restapi/v1.0/account/{ACCOUNT_ID}"  # as events name it
TEAM_CHAT_ID = "206018527234"  # the chat the emulator knows, as in RingCentral's posting guide
POSTS_PER_DAY = 2_500  # posts one user may make through the API in a day (Team Messaging posting guide)
ERROR_CODES = {403: "CMN-408", 500: "CMN-211"}  # for the errors the base answers (its 404 is not_found)


# ---------------------------------------------------------------------------- the account


@dataclass
class Agent:
    id: str
    name: str
    extension_number: str
    dnd_status: str = "TakeAllCalls"
    user_status: str = "Available"
    presence_sequence: int = 0  # counts presence changes: notifications carry it so clients order them


@dataclass
class Queue:
    id: str
    name: str
    extension_number: str
    editable_member_status: bool = True
    members: dict[str, bool] = field(default_factory=dict)  # agent id -> acceptCurrentQueueCalls
    weekly_ranges: dict[str, list[dict]] = field(default_factory=dict)  # WeeklyScheduleInfo; empty: 24/7
    timezone: str = "America/New_York"  # the extension's regionalSettings.timezone.name


@dataclass
class Account:
    queues: dict[str, Queue]
    agents: dict[str, Agent]
    call_log: list[dict] = field(default_factory=list)
    chats: dict[str, list[dict]] = field(default_factory=lambda: {TEAM_CHAT_ID: []})  # chat id -> its posts

    @classmethod
    def from_schedule(cls, document) -> "Account":
        """Queues, agents and memberships (every queue-agent pair a shift names together) of a schedule."""
        queues = {
            q.id: Queue(
                q.id,
                q.name,
                str(1100 + i),
                q.editable_member_status,
                weekly_ranges=_weekly_ranges(q.opening_hours or []),
                timezone=q.hours_timezone or document.timezone,
            )
            for i, q in enumerate(document.queues)
        }
        agents = {a.id: Agent(a.id, a.name, str(101 + i)) for i, a in enumerate(document.agents)}
        for shift in document.shifts:
            for queue_id in shift.queues:
                for agent_id in shift.agents:
                    if queue_id in queues and agent_id in agents:
                        queues[queue_id].members.setdefault(agent_id, True)
        return cls(queues, agents)


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str = field(repr=False)
    jwt: str = field(repr=False)


@dataclass
class Config:
    """What a test may change while the emulator runs (PATCH /_emulator/config)."""

    rate_limits: bool = True
    rate_window: float = DEFAULT_WINDOW
    token_ttl: int = 3600
    fail_rate: float = 0.0  # share of API requests answered 503, spread evenly
    write_fail_rate: float = 0.0  # share of writes (PUT) answered 503, on top: reads still answer
    latency: float = 0.0  # seconds added to every API request
    retry_after: bool = True  # False: 429s come without Retry-After, as RingCentral's sometimes do
    refresh_token_ttl: int = REFRESH_TOKEN_TTL
    ws_recovery_timeout: float = RECOVERY_TIMEOUT  # seconds a dropped WebSocket session can be recovered

    def updated(self, changes) -> "Config":
        """A copy with `changes` applied; ValueError naming the first bad one."""
        if not isinstance(changes, dict):
            raise ValueError("the body must be a JSON object")
        checks = {
            "rate_limits": lambda v: isinstance(v, bool),
            "rate_window": lambda v: _number(v) and v > 0,
            "token_ttl": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
            "fail_rate": lambda v: _number(v) and 0 <= v <= 1,
            "write_fail_rate": lambda v: _number(v) and 0 <= v <= 1,
            "latency": lambda v: _number(v) and v >= 0,
            "retry_after": lambda v: isinstance(v, bool),
            "refresh_token_ttl": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
            "ws_recovery_timeout": lambda v: _number(v) and v > 0,
        }
        for key, value in changes.items():
            if key not in checks or not checks[key](value):
                raise ValueError(f"{key}: {value!r} is not a valid value (settings: {', '.join(checks)})")
        return Config(**{**asdict(self), **changes})


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ---------------------------------------------------------------------------- refusals


class Refused(Exception):
    """Raised by a handler to answer with one of RingCentral's error bodies."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def api_error(status: int, code: str, message: str, parameter: str | None = None) -> Refused:
    """RingCentral's error body: {errorCode, message, errors: [{errorCode, message, parameterName}]}."""
    detail = {"errorCode": code, "message": message} | ({"parameterName": parameter} if parameter else {})
    return Refused(status, {"errorCode": code, "message": message, "errors": [detail]})


def oauth_error(status: int, error: str, code: str, message: str) -> Refused:
    """The token endpoint's error body, OAuth-shaped as RingCentral sends it."""
    body = {"error": error, "errors": [{"errorCode": code, "message": message}], "error_description": message}
    return Refused(status, body)


def malformed(parameter: str, why: str = "value is invalid") -> Refused:
    return api_error(400, "CMN-101", f"Parameter [{parameter}] {why}", parameter)


def not_found(parameter: str) -> Refused:
    return api_error(404, "CMN-102", f"Resource for parameter [{parameter}] is not found", parameter)


# ---------------------------------------------------------------------------- limits and tokens


class RateLimiter:
    """RingCentral's usage-plan counting: a sliding window per app and group, then a penalty interval.

    Every request made during the penalty restarts it, as RingCentral does: a client that keeps
    knocking stays locked out.
    """

    def __init__(self) -> None:
        self._hits: dict[tuple, deque] = {}
        self._penalty_until: dict[tuple, float] = {}

    def admit(self, key: tuple, limit: int, window: float, now: float) -> tuple[int, float]:
        """(requests left, 0) when admitted; (0, seconds to wait) when refused."""
        if self._penalty_until.get(key, 0) > now:
            self._penalty_until[key] = now + window
            return 0, window
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            self._penalty_until[key] = now + window  # the penalty interval equals the window by default
            return 0, window
        hits.append(now)
        return limit - len(hits), 0.0


@dataclass
class Token:
    client_id: str
    expires_at: float
    session: int = 0  # the login it belongs to: refreshing keeps the session, a new login starts one


# ---------------------------------------------------------------------------- the emulator


class Emulator(EmulatorApp):
    """RingCentral's behaviour over an in-memory account, as a WSGI app."""

    title = "RingCentral emulator"
    json_indent = 2
    json_type = "application/json; charset=utf-8"

    def __init__(self, account: Account, credentials: Credentials, *, owner: str, config: Config | None = None):
        if owner not in account.agents:
            raise ValueError(f"the owner {owner!r} is not an agent of the seed")
        super().__init__()
        self.owner, self.credentials = owner, credentials
        self._seed, self._initial_config = copy.deepcopy(account), config or Config()
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Back to the seed and the start-up settings, with no tokens, counts or logged requests."""
        with self._lock:
            self.account = copy.deepcopy(self._seed)
            self.config = copy.copy(self._initial_config)
            self.access_tokens: dict[str, Token] = {}
            self.refresh_tokens: dict[str, Token] = {}
            self.sessions: list[tuple[str, int]] = []  # (client id, session), oldest first
            self._last_session = 0
            self.limiter = RateLimiter()
            self.request_log: list[dict] = []
            self._failure_debt = 0.0
            self.gateway = Gateway(ACCOUNT_ID, recovery_timeout=self.config.ws_recovery_timeout)

    def rules(self) -> list[Rule]:
        a = ACCOUNT_PATH
        ext, queue = a + "/extension/<ext>", a + "/call-queues/<q>"
        table = [
            ("POST", "/restapi/oauth/token", "issue_token"),
            ("POST", "/restapi/oauth/wstoken", "issue_ws_token"),
            ("GET", "/restapi/v1.0/status", "status"),
            ("GET", a + "/call-queues", "list_queues"),
            ("GET", queue, "read_queue"),
            ("PUT", queue, "update_queue"),
            ("GET", queue + "/members", "list_members"),
            ("GET", queue + "/presence", "read_queue_presence"),
            ("PUT", queue + "/presence", "update_queue_presence"),
            ("GET", ext + "/call-queue-presence", "read_agent_queues"),
            ("PUT", ext + "/call-queue-presence", "update_agent_queues"),
            ("GET", ext, "read_extension"),
            ("GET", ext + "/business-hours", "read_business_hours"),
            ("GET", ext + "/presence", "read_presence"),
            ("PUT", ext + "/presence", "update_presence"),
            ("GET", a + "/call-log", "call_log"),
            ("GET", ext + "/call-log", "call_log"),
            ("GET", "/team-messaging/v1/chats/<chat>/posts", "list_posts"),
            ("POST", "/team-messaging/v1/chats/<chat>/posts", "create_post"),
            ("GET", "/_emulator/chats/<chat>/posts", "dump_posts"),
            ("GET", "/_emulator/requests", "dump_requests"),
            ("DELETE", "/_emulator/requests", "clear_requests"),
            ("GET", "/_emulator/config", "show_config"),
            ("PATCH", "/_emulator/config", "change_config"),
            ("POST", "/_emulator/expire-tokens", "expire_tokens"),
            ("POST", "/_emulator/reset", "reset_control"),
            ("POST", "/_emulator/call-log", "add_call_log"),
            ("DELETE", "/_emulator/extensions/<ext>", "delete_extension"),
            ("PUT", "/_emulator/extensions/<ext>/presence", "person_sets_dnd"),
            ("PUT", "/_emulator/call-queues/<q>/members/<ext>", "person_sets_queue_status"),
            ("POST", "/_emulator/gateway/outage", "gateway_outage"),
            ("GET", "/_emulator/gateway/sessions", "gateway_sessions"),
        ]
        return [Rule(path, methods=[method], endpoint=endpoint) for method, path, endpoint in table]

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == WS_PATH:  # the gateway holds the whole WebSocket conversation
            return self.gateway.serve(environ)(environ, start_response)
        return super().__call__(environ, start_response)

    def api(self, request: Request) -> Response:
        """Answer an API request through faults, auth and limits, and log it."""
        if self.config.latency:
            time.sleep(self.config.latency)  # outside the lock, so concurrent requests are slow together
        with self._lock:
            group = group_for(request.method, request.path)
            response = self._answer(request, group)
            query = request.query_string.decode()
            self.request_log.append(
                {
                    "method": request.method,
                    "path": request.path + (f"?{query}" if query else ""),
                    "status": response.status_code,
                    "group": group,
                    "at": time.time(),
                }
                | ({"grant": _form(request).get("grant_type", "")} if request.path == "/restapi/oauth/token" else {})
            )
            return response

    def _answer(self, request: Request, group: str | None) -> Response:
        limits: dict[str, str] = {}
        try:
            self._maybe_fail(request)
            handler = self.handler(request)
            if handler is None:
                raise not_found("path")
            client_id = self._client_of(request)
            limits = self._count(client_id, group)
            response = handler()
        except Refused as refusal:
            response = self.refused(refusal)
        response.headers.update(limits)
        return response

    def control(self, request: Request) -> Response:
        with self._lock:
            try:
                return super().control(request)
            except Refused as refusal:
                return self.refused(refusal)

    def refused(self, refusal: Refused) -> Response:
        return self.json(refusal.body, refusal.status, refusal.headers)

    def error(self, status: int, message: str) -> Response:
        if status == 404:  # no route: RingCentral names the path as the resource not found
            return self.refused(not_found("path"))
        return self.refused(api_error(status, ERROR_CODES.get(status, "CMN-211"), message))

    def _maybe_fail(self, request: Request) -> None:
        """Answer 503 for the configured share of requests, spread evenly so tests are repeatable."""
        self._failure_debt += self.config.fail_rate + (self.config.write_fail_rate if request.method == "PUT" else 0)
        if self._failure_debt >= 1:
            self._failure_debt -= 1
            raise api_error(503, "CMN-201", "Service Temporary Unavailable")

    def _client_of(self, request: Request) -> str:
        """The app a request counts against: its Basic auth at the token endpoint, else its bearer token."""
        if request.path == "/restapi/oauth/token":
            return _basic_auth(request)[0] or "-"
        if request.path == "/restapi/v1.0/status":
            return "-"
        authorization = request.headers.get("authorization")
        if not authorization:
            raise api_error(401, "AGW-401", "Authorization header is not specified")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise api_error(401, "AGW-402", "Invalid Authorization header")
        token = self.access_tokens.get(value)
        if token is None or token.expires_at <= time.monotonic():
            refusal = api_error(401, "TokenInvalid", "Access token expired" if token else "Token not found")
            refusal.body["errors"][0]["errorCode"] = "OAU-213"
            refusal.headers["WWW-Authenticate"] = 'Bearer realm="RingCentral REST API"'
            raise refusal
        return token.client_id

    def _count(self, client_id: str, group: str | None) -> dict[str, str]:
        """Count the request in its group; the X-Rate-Limit-* headers, or 429 past the limit."""
        if group is None or not self.config.rate_limits:
            return {}
        window, limit = self.config.rate_window, DEFAULT_LIMITS[group]
        remaining, wait = self.limiter.admit((client_id, group), limit, window, time.monotonic())
        headers = {
            "X-Rate-Limit-Group": group,
            "X-Rate-Limit-Limit": str(limit),
            "X-Rate-Limit-Remaining": str(remaining),
            "X-Rate-Limit-Window": f"{window:g}",
        }
        if wait:
            refusal = api_error(429, "CMN-301", "Request rate exceeded")
            refusal.headers.update(headers)
            if self.config.retry_after:
                refusal.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            raise refusal
        return headers

    # ------------------------------------------------------------------ auth

    def issue_token(self, request: Request) -> Response:
        """POST /restapi/oauth/token: the JWT bearer grant and the refresh-token grant."""
        client_id, secret = _basic_auth(request)
        if (client_id, secret) != (self.credentials.client_id, self.credentials.client_secret):
            raise oauth_error(401, "invalid_client", "OAU-153", "Invalid client")
        form = _form(request)
        grant = form.get("grant_type")
        if grant == JWT_GRANT:
            if not secrets.compare_digest(form.get("assertion", ""), self.credentials.jwt):
                raise oauth_error(400, "invalid_grant", "OAU-140", "Invalid resource owner credentials")
            return self.json(self._new_tokens(client_id, self._new_session(client_id)))
        if grant == "refresh_token":
            token = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if token is None or token.expires_at <= time.monotonic() or token.client_id != client_id:
                raise oauth_error(400, "invalid_grant", "OAU-211", "Token is revoked or expired")
            self._revoke(token.session, refresh=False)  # the refresh token rotates; the old access token dies
            return self.json(self._new_tokens(client_id, token.session))
        raise oauth_error(400, "unsupported_grant_type", "OAU-250", "Unsupported grant type")

    def _new_session(self, client_id: str) -> int:
        """Start a session for a login; past SESSIONS_PER_USER for this app, the oldest one is revoked."""
        self._last_session += 1
        session = self._last_session
        self.sessions.append((client_id, session))
        mine = [s for c, s in self.sessions if c == client_id]
        for oldest in mine[: max(0, len(mine) - SESSIONS_PER_USER)]:
            self._revoke(oldest, refresh=True)
            self.sessions.remove((client_id, oldest))
        return session

    def _revoke(self, session: int, *, refresh: bool) -> None:
        """Forget a session's access tokens (and its refresh tokens too, when `refresh`)."""
        stores = (self.access_tokens, self.refresh_tokens) if refresh else (self.access_tokens,)
        for tokens in stores:
            for value in [v for v, t in tokens.items() if t.session == session]:
                del tokens[value]

    def _new_tokens(self, client_id: str, session: int) -> dict:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now, ttl, refresh_ttl = time.monotonic(), self.config.token_ttl, self.config.refresh_token_ttl
        self.access_tokens[access] = Token(client_id, now + ttl, session)
        self.refresh_tokens[refresh] = Token(client_id, now + refresh_ttl, session)
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ttl,
            "refresh_token": refresh,
            "refresh_token_expires_in": refresh_ttl,
            "scope": "ReadAccounts EditExtensions ReadPresence EditPresence ReadCallLog",
            "owner_id": self.owner,
            "endpoint_id": secrets.token_hex(8),
        }

    def issue_ws_token(self, request: Request) -> Response:
        """POST /restapi/oauth/wstoken: a one-minute ticket to connect to the gateway (bearer auth, Auth group)."""
        return self.json(self.gateway.ticket(self.owner, _origin(request)))

    def status(self, request: Request) -> Response:
        return self.json({"uri": f"{_origin(request)}/restapi/v1.0/status", "status": "OK"})

    # ------------------------------------------------------------------ call queues

    def list_queues(self, request: Request, account: str) -> Response:
        self._check_account(account)
        records = [self._queue_summary(request, q) for q in self.account.queues.values()]
        return self.json(_page(request, records))

    def read_queue(self, request: Request, account: str, q: str) -> Response:
        return self.json(self._queue_details(request, self._queue(account, q)))

    def update_queue(self, request: Request, account: str, q: str) -> Response:
        queue = self._queue(account, q)
        body = _json_object(request)
        editable = body.get("editableMemberStatus", queue.editable_member_status)
        if not isinstance(editable, bool):
            raise malformed("editableMemberStatus")
        queue.editable_member_status = editable
        return self.json(self._queue_details(request, queue))

    def list_members(self, request: Request, account: str, q: str) -> Response:
        queue = self._queue(account, q)
        records = [
            {"uri": self._extension_uri(request, a), "id": int(a), "extensionNumber": self._agent(a).extension_number}
            for a in queue.members
        ]
        return self.json(_page(request, records))

    def read_queue_presence(self, request: Request, account: str, q: str) -> Response:
        queue = self._queue(account, q)
        return self.json({"records": [self._member_presence(queue, a) for a in queue.members]})

    def update_queue_presence(self, request: Request, account: str, q: str) -> Response:
        queue = self._queue(account, q)
        changes = {}
        for i, record in enumerate(_records(request)):
            member = record.get("member")
            agent_id = str(member.get("id", "")) if isinstance(member, dict) else ""
            if agent_id not in queue.members:
                raise malformed(f"records[{i}].member.id", f"value is invalid: {agent_id!r} is not a member")
            changes[agent_id] = _flag(record, "acceptCurrentQueueCalls", i)
        self._set_members(queue, changes)
        return self.json({"records": [self._member_presence(queue, a) for a in changes]})

    # ------------------------------------------------------------------ one agent's queues

    def read_agent_queues(self, request: Request, account: str, ext: str) -> Response:
        agent = self._agent(self._extension_id(account, ext))
        return self.json({"records": [self._agent_queue(agent, q) for q in self._queues_of(agent)]})

    def update_agent_queues(self, request: Request, account: str, ext: str) -> Response:
        """PUT call-queue-presence: refused for a queue whose members may not change their status."""
        agent = self._agent(self._extension_id(account, ext))
        changes = {}
        for i, record in enumerate(_records(request)):
            # RingCentral's docs spell it both ways; answers always say callQueue.
            reference = record.get("callQueue", record.get("callqueue"))
            queue_id = str(reference.get("id", "")) if isinstance(reference, dict) else ""
            if queue_id not in self.account.queues:
                raise not_found(f"records[{i}].callQueue.id")
            queue = self.account.queues[queue_id]
            if agent.id not in queue.members:
                raise malformed(f"records[{i}].callQueue.id", f"value is invalid: {agent.id} is not a member")
            if not queue.editable_member_status:
                raise api_error(403, "CMN-408", f"Call queue [{queue_id}] does not let its members change their status")
            changes[queue_id] = _flag(record, "acceptCalls", i)
        for queue_id, accept in changes.items():
            self._set_members(self.account.queues[queue_id], {agent.id: accept})
        return self.json({"records": [self._agent_queue(agent, q) for q in self._queues_of(agent)]})

    # ------------------------------------------------------------------ presence and DnD

    def read_presence(self, request: Request, account: str, ext: str) -> Response:
        """GET presence of one extension, or of up to 30 (`1,2,3`) as a 207 multipart answer."""
        ids = ext.split(",")
        if len(ids) == 1:
            return self.json(self._presence(request, self._extension_id(account, ext)))
        self._check_account(account)
        if len(ids) > BATCH_LIMIT:
            message = f"Extension Presence Info multipart request is limited to {BATCH_LIMIT} extensions"
            raise api_error(400, "InvalidMultipartRequest", message)
        parts = [self._presence_part(request, account, i) for i in ids]
        content_type, body = build_batch(parts)
        return Response(body, 207, content_type=content_type)

    def _presence_part(self, request: Request, account: str, ext: str) -> tuple[str, int, dict]:
        href = f"{_origin(request)}/restapi/v1.0/account/{ACCOUNT_ID}/extension/{ext}/presence"
        try:
            return href, 200, self._presence(request, self._extension_id(account, ext))
        except Refused as refusal:
            return href, refusal.status, refusal.body

    def update_presence(self, request: Request, account: str, ext: str) -> Response:
        extension_id = self._extension_id(account, ext)
        if extension_id in self.account.queues:
            raise api_error(403, "PRS-106", "Not allowed update presence for extensions of Department type")
        agent, body = self._agent(extension_id), _json_object(request)
        dnd = body.get("dndStatus", agent.dnd_status)
        if dnd not in DND_STATUSES:  # TakeDepartmentCallsOnly included: legacy, not settable via the API
            raise malformed("dndStatus")
        user_status = body.get("userStatus", agent.user_status)
        if user_status not in USER_STATUSES:
            raise malformed("userStatus")
        self._set_presence(agent, dnd, user_status)
        return self.json(self._presence(request, extension_id))

    # ------------------------------------------------------------------ call log

    def call_log(self, request: Request, account: str, ext: str | None = None) -> Response:
        """The call log, Simple (no legs) unless view=Detailed; one extension's when the path names one.

        dateFrom and dateTo, when given, keep the records that started in [dateFrom, dateTo).
        """
        extension_id = self._extension_id(account, ext) if ext else None
        detailed = _param(request, "view") == "Detailed"
        start, end = _moment(request, "dateFrom"), _moment(request, "dateTo")
        records = [
            r if detailed else {k: v for k, v in r.items() if k != "legs"}
            for r in self.account.call_log
            if (extension_id is None or str(r.get("extension", {}).get("id")) == extension_id)
            and _started_within(r, start, end)
        ]
        return self.json(_page(request, records))

    def list_posts(self, request: Request, chat: str) -> Response:
        """A chat's posts, newest first (Team Messaging's List Posts; one page)."""
        return self.json({"records": list(reversed(self._chat(chat))), "navigation": {}})

    def create_post(self, request: Request, chat: str) -> Response:
        """Create Post: a text of at most 10,000 characters, 2,500 posts a day per user; 201 with the post."""
        posts, body = self._chat(chat), _json_body(request)
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            raise malformed("text", "a post needs its text")
        if len(text) > POST_TEXT_LIMIT:
            raise malformed("text", f"a post's text is at most {POST_TEXT_LIMIT} characters")
        now = datetime.now(UTC)
        today = [p for c in self.account.chats.values() for p in c if p["creationTime"][:10] == f"{now:%Y-%m-%d}"]
        if len(today) >= POSTS_PER_DAY:
            raise api_error(429, "CMN-301", f"Request rate exceeded: {POSTS_PER_DAY} posts a day")
        stamp = now.isoformat().replace("+00:00", "Z")
        post = {"id": str(len(posts) + 1), "groupId": chat, "type": "TextMessage", "text": text,
                "creatorId": self.owner, "creationTime": stamp, "lastModifiedTime": stamp}  # fmt: skip
        posts.append(post)
        return self.json(post, status=201)

    def _chat(self, chat: str) -> list[dict]:
        if chat not in self.account.chats:
            raise not_found("chatId")
        return self.account.chats[chat]

    # ------------------------------------------------------------------ control API

    def dump_posts(self, request: Request, chat: str) -> Response:
        """Every post in a chat, oldest first, for tests to read without a token."""
        return self.json({"records": self._chat(chat)})

    def dump_requests(self, request: Request) -> Response:
        return self.json({"requests": self.request_log})

    def clear_requests(self, request: Request) -> Response:
        self.request_log.clear()
        return Response(status=204)

    def show_config(self, request: Request) -> Response:
        return self.json(asdict(self.config))

    def change_config(self, request: Request) -> Response:
        try:
            self.config = self.config.updated(_json_body(request))
        except ValueError as error:
            raise malformed("config", str(error)) from None
        self.gateway.recovery_timeout = self.config.ws_recovery_timeout
        return self.json(asdict(self.config))

    def expire_tokens(self, request: Request) -> Response:
        """Expire every access token now, as a revoked session or an early expiry would."""
        for token in self.access_tokens.values():
            token.expires_at = 0.0
        return Response(status=204)

    def delete_extension(self, request: Request, ext: str) -> Response:
        """Delete an agent's extension, as an admin would: it leaves its queues, and reads of it answer 404."""
        if ext not in self.account.agents:
            raise not_found("extensionId")
        del self.account.agents[ext]
        for queue in self.account.queues.values():
            queue.members.pop(ext, None)
        return Response(status=204)

    def person_sets_dnd(self, request: Request, ext: str) -> Response:
        """What a person does at her phone: set her own DnD (any status, the legacy one included)."""
        agent = self._agent(ext)
        dnd = _json_object(request).get("dndStatus")
        if dnd not in (*DND_STATUSES, "TakeDepartmentCallsOnly"):
            raise malformed("dndStatus")
        self._set_presence(agent, dnd, agent.user_status)
        return Response(status=204)

    def person_sets_queue_status(self, request: Request, q: str, ext: str) -> Response:
        """What a person does at her phone: switch herself on or off in one queue, editable or not."""
        queue = self._queue("~", q)
        if ext not in queue.members:
            raise not_found("memberId")
        self._set_members(queue, {ext: _flag(_json_object(request), "acceptCurrentQueueCalls", 0)})
        return Response(status=204)

    def gateway_outage(self, request: Request) -> Response:
        seconds = _json_object(request).get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds <= 3600:
            raise malformed("seconds")
        self.gateway.outage(seconds)
        return Response(status=204)

    def gateway_sessions(self, request: Request) -> Response:
        return self.json({"sessions": self.gateway.sessions()})

    def reset_control(self, request: Request) -> Response:
        self.reset()
        return Response(status=204)

    def add_call_log(self, request: Request) -> Response:
        records = _records(request)
        if not all(isinstance(r, dict) and "id" in r for r in records):
            raise malformed("records", "value is invalid: each record needs an id")
        self.account.call_log.extend(records)
        return Response(status=204)

    # ------------------------------------------------------------------ extensions and business hours

    def read_extension(self, request: Request, account: str, ext: str) -> Response:
        """GET .../extension/{id}: GetExtensionInfoResponse, the slice Callrota reads (its zone) and a little more."""
        extension_id = self._extension_id(account, ext)
        queue = self.account.queues.get(extension_id)
        person = self.account.agents.get(extension_id)
        named = queue or person
        assert named is not None  # _extension_id refused any other id
        zone = queue.timezone if queue else "America/New_York"
        return self.json(
            {
                "id": int(extension_id),
                "uri": self._extension_uri(request, extension_id),
                "extensionNumber": named.extension_number,
                "name": named.name,
                "type": "Department" if queue else "User",  # a call queue is a Department extension
                "status": "Enabled",
                "regionalSettings": {"timezone": _timezone_info(zone), "timeFormat": "12h"},
            }
        )

    def read_business_hours(self, request: Request, account: str, ext: str) -> Response:
        """GET .../extension/{id}/business-hours: GetUserBusinessHoursResponse; an empty schedule is 24/7."""
        extension_id = self._extension_id(account, ext)
        queue = self.account.queues.get(extension_id)
        weekly = queue.weekly_ranges if queue else {}
        uri = self._extension_uri(request, extension_id) + "/business-hours"
        return self.json({"uri": uri, "schedule": {"weeklyRanges": weekly} if weekly else {}})

    # ------------------------------------------------------------------ lookups and shapes

    def _check_account(self, account: str) -> None:
        if account not in ("~", ACCOUNT_ID):
            raise not_found("accountId")

    def _extension_id(self, account: str, ext: str) -> str:
        """An extension id with `~` resolved to the extension that owns the JWT; 404 if unknown."""
        self._check_account(account)
        extension_id = self.owner if ext == "~" else ext
        if extension_id not in self.account.agents and extension_id not in self.account.queues:
            raise not_found("extensionId")
        return extension_id

    def _queue(self, account: str, queue_id: str) -> Queue:
        self._check_account(account)
        if queue_id not in self.account.queues:
            raise not_found("callQueueId")
        return self.account.queues[queue_id]

    def _agent(self, extension_id: str) -> Agent:
        if extension_id not in self.account.agents:
            raise not_found("extensionId")
        return self.account.agents[extension_id]

    def _queues_of(self, agent: Agent) -> list[Queue]:
        return [q for q in self.account.queues.values() if agent.id in q.members]

    def _extension_uri(self, request: Request, extension_id: str) -> str:
        return f"{_origin(request)}/restapi/v1.0/account/{ACCOUNT_ID}/extension/{extension_id}"

    def _queue_summary(self, request: Request, queue: Queue) -> dict:
        uri = self._extension_uri(request, queue.id)
        return {"uri": uri, "id": queue.id, "extensionNumber": queue.extension_number, "name": queue.name}

    def _queue_details(self, request: Request, queue: Queue) -> dict:
        details = self._queue_summary(request, queue)
        return details | {"status": "Enabled", "editableMemberStatus": queue.editable_member_status}

    def _member_presence(self, queue: Queue, agent_id: str) -> dict:
        agent = self.account.agents[agent_id]
        return {
            "member": {
                "id": agent.id,
                "name": agent.name,
                "extensionNumber": agent.extension_number,
                "site": {"id": "62366997000", "name": "Main Site"},
            },
            "acceptQueueCalls": agent.dnd_status not in NO_QUEUE_CALLS,
            "acceptCurrentQueueCalls": queue.members[agent_id],
        }

    def _set_members(self, queue: Queue, accept: dict[str, bool]) -> None:
        """Change members' status in a queue; the changed ones are announced to the queue's subscribers."""
        changed = {a: v for a, v in accept.items() if queue.members.get(a) != v}
        queue.members.update(changed)
        if changed:
            records = [{"member": {"id": a}, "acceptCurrentQueueCalls": v} for a, v in changed.items()]
            self.gateway.publish(f"{ACCOUNT_BASE}/call-queues/{queue.id}/presence", {"records": records})

    def _set_presence(self, agent: Agent, dnd: str, user_status: str) -> None:
        """Change an agent's DnD and status; a change is announced as account, extension and DnD events."""
        if (agent.dnd_status, agent.user_status) == (dnd, user_status):
            return
        agent.dnd_status, agent.user_status = dnd, user_status
        agent.presence_sequence += 1
        presence = {
            "extensionId": agent.id,
            "telephonyStatus": "NoCall",
            "presenceStatus": "Busy" if dnd == "DoNotAcceptAnyCalls" else user_status,
            "userStatus": user_status,
            "dndStatus": dnd,
            "allowSeeMyPresence": True,
            "ringOnMonitoredCall": False,
            "pickUpCallsOnHold": False,
            "sequence": agent.presence_sequence,
        }
        self.gateway.publish(f"{ACCOUNT_BASE}/presence", presence)
        self.gateway.publish(f"{ACCOUNT_BASE}/extension/{agent.id}/presence", presence)
        self.gateway.publish(
            f"{ACCOUNT_BASE}/extension/{agent.id}/presence/dnd", {"extensionId": agent.id, "dndStatus": dnd}
        )

    def _agent_queue(self, agent: Agent, queue: Queue) -> dict:
        return {
            "callQueue": {
                "id": queue.id,
                "name": queue.name,
                "extensionNumber": queue.extension_number,
                "editableMemberStatus": queue.editable_member_status,
            },
            "acceptCalls": queue.members[agent.id],
        }

    def _presence(self, request: Request, extension_id: str) -> dict:
        """A user's presence; a queue (a Department extension) is always Offline, with no DnD."""
        uri = self._extension_uri(request, extension_id)
        if extension_id in self.account.queues:
            number = self.account.queues[extension_id].extension_number
            extension = {"uri": uri, "id": int(extension_id), "extensionNumber": number}
            return {"uri": f"{uri}/presence", "extension": extension, "presenceStatus": "Offline"}
        agent = self.account.agents[extension_id]
        extension = {"uri": uri, "id": int(extension_id), "extensionNumber": agent.extension_number}
        return {
            "uri": f"{uri}/presence",
            "extension": extension,
            "presenceStatus": "Busy" if agent.dnd_status == "DoNotAcceptAnyCalls" else agent.user_status,
            "telephonyStatus": "NoCall",
            "userStatus": agent.user_status,
            "dndStatus": agent.dnd_status,
            "allowSeeMyPresence": True,
            "ringOnMonitoredCall": False,
            "pickUpCallsOnHold": False,
        }


# ---------------------------------------------------------------------------- request bodies and paging


WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_OF = dict(zip(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), WEEKDAY_KEYS, strict=True))


def _weekly_ranges(opening_hours) -> dict[str, list[dict]]:
    """A schedule file's opening ranges as RingCentral's WeeklyScheduleInfo ("hh:mm" strings)."""
    weekly: dict[str, list[dict]] = {}
    for entry in opening_hours:
        for day in entry.days:
            weekly.setdefault(_WEEKDAY_OF[day.lower()], []).append(
                {"from": f"{entry.opens:%H:%M}", "to": f"{entry.closes:%H:%M}"}
            )
    return {key: weekly[key] for key in WEEKDAY_KEYS if key in weekly}


def _timezone_info(name: str) -> dict[str, str]:
    """TimezoneInfo as RingCentral gives it; `name` is the zone's IANA name."""
    standard = datetime(2026, 1, 1, tzinfo=ZoneInfo(name)).utcoffset() or timedelta()
    bias = int(standard.total_seconds() // 60)  # minutes from UTC, as RingCentral gives it ("-300" in New York)
    return {"id": str(zlib.crc32(name.encode()) % 1000), "name": name, "description": name.replace("_", " "),
            "bias": str(bias)}  # fmt: skip


def _form(request: Request) -> dict[str, str]:
    """An x-www-form-urlencoded body, first value of each field."""
    return {key: values[0] for key, values in parse_qs(request.get_data().decode(errors="replace")).items()}


def _json_body(request: Request):
    try:
        return json.loads(request.get_data() or b"null")
    except ValueError:
        raise malformed("body", "value is invalid: not JSON") from None


def _json_object(request: Request) -> dict:
    body = _json_body(request)
    if not isinstance(body, dict):
        raise malformed("body", "value is invalid: expected a JSON object")
    return body


def _records(request: Request) -> list[dict]:
    records = _json_object(request).get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise malformed("records", "value is invalid: expected a list of objects")
    return records


def _flag(record: dict, name: str, index: int) -> bool:
    value = record.get(name)
    if not isinstance(value, bool):
        raise malformed(f"records[{index}].{name}", "value is invalid: expected true or false")
    return value


def _page(request: Request, records: list) -> dict:
    """One page of a list, with RingCentral's paging and navigation blocks."""
    try:
        page, per_page = int(_param(request, "page") or 1), int(_param(request, "perPage") or 100)
    except ValueError:
        raise malformed("page") from None
    if page < 1 or per_page < 1:
        raise malformed("page" if page < 1 else "perPage")
    total_pages = max(1, math.ceil(len(records) / per_page))
    start = (page - 1) * per_page
    uri = f"{_origin(request)}{request.path}"

    def link(number: int) -> dict:
        return {"uri": f"{uri}?page={number}&perPage={per_page}"}

    navigation = {"firstPage": link(1), "lastPage": link(total_pages)}
    if page < total_pages:
        navigation["nextPage"] = link(page + 1)
    if page > 1:
        navigation["previousPage"] = link(page - 1)
    chunk = records[start : start + per_page]
    paging = {"page": page, "totalPages": total_pages, "perPage": per_page, "totalElements": len(records)}
    if chunk:
        paging |= {"pageStart": start, "pageEnd": start + len(chunk) - 1}
    return {"uri": link(page)["uri"], "records": chunk, "paging": paging, "navigation": navigation}


def _moment(request: Request, name: str) -> datetime | None:
    """An ISO 8601 date-time query parameter (UTC if it names no offset); None when absent."""
    value = _param(request, name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise malformed(name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _started_within(record: dict, start: datetime | None, end: datetime | None) -> bool:
    if start is None and end is None:
        return True
    started = datetime.fromisoformat(record.get("startTime", "1970-01-01T00:00:00Z"))
    return (start is None or started >= start) and (end is None or started < end)


def _param(request: Request, name: str) -> str | None:
    """A query parameter; None when absent or blank, as RingCentral ignores blank ones."""
    return request.args.get(name) or None


def _origin(request: Request) -> str:
    """scheme://host:port as the client addressed us: the base of every uri in an answer."""
    return request.host_url.rstrip("/")


def _basic_auth(request: Request) -> tuple[str, str]:
    """(client id, secret) from a Basic Authorization header; empty strings when absent or garbled."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except ValueError:
        return "", ""
    return client_id, secret
