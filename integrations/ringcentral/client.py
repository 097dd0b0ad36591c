"""The RingCentral client: call queues, queue presence and DnD over RingCentral's REST API.

Every request leaves through `_request`, which adds the bearer token, paces the call
by usage-plan group, retries what is worth retrying and turns failures into
ProviderError (HTTP status, RingCentral's errorCode, permanent or not).

The bearer token is the installation's one session (see shared.py): every process uses
the stored token, one refreshes it before it expires, and the JWT is traded again only
when the refresh token is gone or refused.

Build one client per process (after a worker forks): it holds a connection pool.
"""

import hashlib
import logging
import random
import time
from collections.abc import Iterator
from urllib.parse import quote

import requests
from django.conf import settings
from requests.auth import AuthBase, HTTPBasicAuth
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from integrations.base import BusinessHours, Provider, ProviderError, ProviderName, QueueInfo, Readings

from .errors import LoginRefused, RingCentralError
from .multipart import parse_batch
from .ratelimit import DEFAULT_LIMITS, LIGHT, InProcessStore, Pacer, RedisStore, group_for
from .schema import (
    DND_STATUSES,
    LEGACY_DND_STATUS,
    POST_TEXT_LIMIT,
    AgentQueuePresence,
    CallLogRecord,
    Presence,
    QueueDetails,
    QueueMemberPresence,
    ServiceStatus,
    WsTicket,
    business_hours_from_api,
)
from .shared import DatabaseHolds, DatabaseTokens, MemoryTokens, Refusal, Tokens

logger = logging.getLogger(__name__)

TOKEN_PATH = "/restapi/oauth/token"  # noqa: S105 - a path, not a secret
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_REFUSED_FOR = 60.0  # seconds a refused login is answered from the record, without asking again
# A 429 without Retry-After: RingCentral advises 30 s or more, and its penalty lasts a window (60 s).
PENALTY_WITHOUT_RETRY_AFTER = 60.0
UNREACHABLE_FOR = 20.0  # seconds a server that failed every retry is taken as down
ACCOUNT = "/restapi/v1.0/account/~"
BATCH_LIMIT = 30  # extensions per batch presence read, RingCentral's maximum
CALL_LOG_PAGE = 1000  # records per call log page, RingCentral's maximum: the call log is Heavy (10 a minute)
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


class RingCentralClient(Provider):
    """RingCentral's call-queue presence and DnD, for the reconciler and for scripts."""

    name = ProviderName.RINGCENTRAL
    label = "RingCentral"
    calls = {
        "queue": ("PUT call-queues/{}/presence", "acceptCurrentQueueCalls"),
        "agent": ("PUT extension/{}/call-queue-presence", "acceptCalls"),
        "dnd": ("PUT extension/{}/presence", "dndStatus"),
    }
    reads_per_minute = DEFAULT_LIMITS[LIGHT]  # queue presence and batch presence reads are both Light
    dnd_per_read = BATCH_LIMIT

    def __init__(
        self,
        server_url: str,
        client_id: str,
        client_secret: str,
        jwt: str,
        *,
        store=None,
        tokens=None,
        page_size: int = 100,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_attempts: int = 5,
        backoff: tuple[float, float] = (0.5, 30.0),
        sleep=time.sleep,
    ):
        self.server_url = server_url.rstrip("/")
        self._credentials = (client_id, client_secret)
        self._jwt = jwt
        self.tokens = tokens if tokens is not None else MemoryTokens()
        self._token: Tokens | None = None  # this process's copy of the stored tokens
        self._unreachable: tuple[ProviderError, float] | None = None  # connection failures, until when
        self._session = requests.Session()
        # One budget per app and user, as RingCentral counts them.
        store = store if store is not None else InProcessStore()
        self.pacer = Pacer(store, scope=session_scope(server_url, client_id, jwt), pending_for=timeout[1], sleep=sleep)
        self.page_size = page_size
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_cap = backoff
        self._sleep = sleep

    def __repr__(self):
        return f"<RingCentralClient {self.server_url}>"

    # ------------------------------------------------------------------ the Provider verbs

    def list_queues(self) -> list[QueueInfo]:
        """Every call queue with its members and editableMemberStatus (one Medium, two Light calls a queue)."""
        queues = []
        for record in self._records(f"{ACCOUNT}/call-queues"):
            details = self.read_queue(str(record["id"]))
            members = tuple(self.list_queue_members(details.id))
            queues.append(QueueInfo(details.id, details.name, details.editable_member_status, members))
        return queues

    def read_business_hours(self, queue_id: str) -> BusinessHours:
        """The queue's business hours in its extension's zone (two Light calls); no ranges: 24 hours, 7 days."""
        hours = self._request("GET", f"{ACCOUNT}/extension/{queue_id}/business-hours").json()
        extension = self._request("GET", f"{ACCOUNT}/extension/{queue_id}").json()
        try:
            return business_hours_from_api(hours, extension)
        except ValueError as error:
            raise RingCentralError(f"queue {queue_id}: {error}", permanent=True) from None

    def read_queue_presence(self, queue_id: str) -> dict[str, bool]:
        """agent id -> acceptCurrentQueueCalls, for every member of the queue."""
        return {m.agent_id: m.accept_current_queue_calls for m in self.read_queue_members_presence(queue_id)}

    def write_queue_presence(self, queue_id: str, accept: dict[str, bool]) -> None:
        """Set acceptCurrentQueueCalls for many members of one queue in one call."""
        if accept:
            records = [{"member": {"id": agent}, "acceptCurrentQueueCalls": value} for agent, value in accept.items()]
            self._request("PUT", f"{ACCOUNT}/call-queues/{queue_id}/presence", json={"records": records})

    def write_agent_queue_presence(self, agent_id: str, accept: dict[str, bool]) -> None:
        """Set one agent's acceptCalls in many queues in one call (each queue must allow it)."""
        if accept:
            # `callQueue`, the spelling RingCentral answers with; its docs also show `callqueue`, and we read both.
            records = [{"callQueue": {"id": queue}, "acceptCalls": value} for queue, value in accept.items()]
            self._request("PUT", f"{ACCOUNT}/extension/{agent_id}/call-queue-presence", json={"records": records})

    def read_dnd(self, agent_ids: list[str]) -> Readings[str]:
        """agent id -> dndStatus, 30 agents a call; an agent whose part failed is missing, with why."""
        presences = self.read_presence(agent_ids)
        return Readings({agent: p.dnd_status for agent, p in presences.items()}, presences.failures)

    def write_dnd(self, agent_id: str, status: str) -> None:
        """Set one agent's dndStatus; TakeDepartmentCallsOnly is refused here, as RingCentral would."""
        if status not in DND_STATUSES:
            reason = "is legacy and cannot be set through the API" if status == LEGACY_DND_STATUS else "is unknown"
            raise RingCentralError(f"dndStatus {status!r} {reason}", permanent=True)
        self._request("PUT", f"{ACCOUNT}/extension/{agent_id}/presence", json={"dndStatus": status})

    # ------------------------------------------------------------------ more of RingCentral

    def read_queue(self, queue_id: str) -> QueueDetails:
        """One call queue's details, including editableMemberStatus."""
        return QueueDetails.from_api(self._request("GET", f"{ACCOUNT}/call-queues/{queue_id}").json())

    def list_queue_members(self, queue_id: str) -> list[str]:
        """The extension ids of the queue's members, every page."""
        return [str(record["id"]) for record in self._records(f"{ACCOUNT}/call-queues/{queue_id}/members")]

    def read_queue_members_presence(self, queue_id: str) -> list[QueueMemberPresence]:
        """Both queue switches of every member of the queue."""
        body = self._request("GET", f"{ACCOUNT}/call-queues/{queue_id}/presence").json()
        return [QueueMemberPresence.from_api(record) for record in body.get("records", [])]

    def read_agent_queue_presence(self, agent_id: str) -> list[AgentQueuePresence]:
        """Whether the agent takes calls from each of their queues."""
        body = self._request("GET", f"{ACCOUNT}/extension/{agent_id}/call-queue-presence").json()
        return [AgentQueuePresence.from_api(record) for record in body.get("records", [])]

    def read_agent_queues(self, agent_id: str, queue_ids: list[str]) -> dict[str, bool]:
        """One call for all of the agent's queues."""
        return {p.queue_id: p.accept_calls for p in self.read_agent_queue_presence(agent_id)}

    def read_presence(self, extension_ids: list[str]) -> Readings[Presence]:
        """extension id -> presence; batches of up to 30 extensions in one call each.

        Batch parts succeed or fail one by one (a deleted extension's part is a 404): the others are
        used, and each failed one is in `failures` with its error. A single extension's 404 raises.
        """
        presences: Readings[Presence] = Readings()
        for start in range(0, len(extension_ids), BATCH_LIMIT):
            batch = self._read_presence_batch(extension_ids[start : start + BATCH_LIMIT])
            presences.update(batch)
            presences.failures.update(batch.failures)
        return presences

    def sign_in(self) -> None:
        """Make sure the installation's session is valid now: log in or refresh if due; LoginRefused if refused."""
        self._bearer()

    def read_status(self) -> ServiceStatus:
        """Whether RingCentral's API says it is up."""
        response = self._request("GET", "/restapi/v1.0/status")
        return ServiceStatus(available=response.status_code == 200, detail=_json_or_empty(response).get("status", ""))

    def ws_ticket(self) -> WsTicket:
        """A one-minute ticket to connect to RingCentral's WebSocket gateway (an Auth group call)."""
        return WsTicket.from_api(self._request("POST", "/restapi/oauth/wstoken").json())

    def read_call_log(self, *, extension_id: str | None = None, **filters) -> list[CallLogRecord]:
        """The detailed call log (legs with legType) of the account, or of one extension; filters go as query."""
        path = f"{ACCOUNT}/extension/{extension_id}/call-log" if extension_id else f"{ACCOUNT}/call-log"
        records = self._records(path, {"view": "Detailed", **filters}, per_page=CALL_LOG_PAGE)
        return [CallLogRecord.from_api(r) for r in records]

    # ------------------------------------------------------------------ reading helpers

    def post_to_chat(self, chat_id: str, text: str) -> str:
        """Post a text (cut to the post limit) to a Team Messaging chat; return the post's id."""
        path = f"/team-messaging/v1/chats/{quote(chat_id, safe='')}/posts"
        return str(self._request("POST", path, json={"text": text[:POST_TEXT_LIMIT]}).json()["id"])

    def _read_presence_batch(self, ids: list[str]) -> Readings[Presence]:
        response = self._request("GET", f"{ACCOUNT}/extension/{','.join(ids)}/presence")
        if response.status_code != 207:
            return Readings({ids[0]: Presence.from_api(response.json())})
        try:
            parts = parse_batch(response.headers.get("Content-Type", ""), response.content)
        except (ValueError, KeyError) as error:
            raise RingCentralError(f"Malformed batch presence answer: {error}", status=207) from error
        if len(parts) != len(ids):
            raise RingCentralError(f"Batch presence answered {len(parts)} parts for {len(ids)} extensions", status=207)
        presences: Readings[Presence] = Readings()
        for extension_id, part in zip(ids, parts, strict=True):
            if part.status >= 400:
                presences.failures[extension_id] = _error("GET presence", part.status, part.body)
            else:
                presences[extension_id] = Presence.from_api(part.body)
        return presences

    def _records(self, path: str, params: dict | None = None, *, per_page: int | None = None) -> Iterator[dict]:
        """Every record of a paged list, page after page until there is no next one."""
        page = 1
        while True:
            query = {**(params or {}), "page": page, "perPage": per_page or self.page_size}
            body = self._request("GET", path, params=query).json()
            yield from body.get("records", [])
            if "nextPage" not in body.get("navigation", {}):
                return
            page += 1

    # ------------------------------------------------------------------ the one way out

    def _request(self, method: str, path: str, *, params=None, json=None, data=None) -> requests.Response:
        """Send one API call with auth, pacing and retries; ProviderError unless it succeeded."""
        if self._unreachable and time.monotonic() < self._unreachable[1]:
            raise self._unreachable[0]  # the server just failed every retry: do not make each caller wait again
        group = group_for(method, path)
        renewed = path == TOKEN_PATH  # the token endpoint has no bearer token to renew
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                response = self._attempt(method, path, group, params=params, json=json, data=data)
            except (requests.ConnectionError, requests.Timeout) as error:
                if method != "GET" and path != TOKEN_PATH and _may_have_arrived(error):
                    # Sending it again blind could apply it twice: say it is unknown, and let the caller read it back.
                    raise RingCentralError(
                        f"{method} {path}: sent, but no answer came ({type(error).__name__})", outcome_unknown=True
                    ) from error
                if last:
                    down = RingCentralError(f"RingCentral unreachable: {type(error).__name__}", permanent=False)
                    self._unreachable = (down, time.monotonic() + UNREACHABLE_FOR)
                    raise down from error
                self._retry_later(method, path, type(error).__name__, self._backoff(attempt))
                continue
            self._unreachable = None
            if response.status_code == 401 and not renewed:
                self._forget_token()  # revoked or expired early: renew, once
                renewed = True
                continue
            if response.status_code in RETRYABLE_STATUSES:
                hold = group if response.status_code == 429 else None
                delay = self._retry_delay(response, attempt, penalised=hold is not None)
                if not last:
                    self._retry_later(method, path, f"HTTP {response.status_code}", delay, hold=hold)
                    continue
                self.pacer.hold(hold, delay)  # giving up, but every process still waits out the penalty
            if response.status_code >= 400:
                raise _error(f"{method} {path}", response.status_code, _json_or_empty(response))
            return response
        raise RingCentralError(f"{method} {path}: no answer after {self.max_attempts} attempts", permanent=False)

    def _attempt(self, method: str, path: str, group: str | None, **body) -> requests.Response:
        """One HTTP exchange, inside the group's budget."""
        auth = HTTPBasicAuth(*self._credentials) if path == TOKEN_PATH else self._bearer()
        ticket = self.pacer.acquire(group)
        response = None
        started = time.monotonic()
        try:
            response = self._session.request(method, self.server_url + path, auth=auth, timeout=self.timeout, **body)
        finally:
            budget = self.pacer.release(ticket, response)
        elapsed_ms = (time.monotonic() - started) * 1000
        limits = budget or "no limits announced"
        logger.debug("RingCentral %s %s -> %s in %.0f ms (%s)", method, path, response.status_code, elapsed_ms, limits)
        return response

    def _retry_later(self, method: str, path: str, reason: str, delay: float, hold: str | None = None) -> None:
        """Wait before a retry: here, or for a 429 as a hold on the group that every process honours."""
        logger.warning("RingCentral %s %s: %s; retrying in %.2fs", method, path, reason, delay)
        if hold is not None:
            self.pacer.hold(hold, delay)  # the next acquire waits, here and in every other worker
        else:
            self._sleep(delay)

    def _retry_delay(self, response: requests.Response, attempt: int, *, penalised: bool) -> float:
        """Retry-After when given; else a 429's documented penalty, or backoff for a server error."""
        retry_after = _retry_after(response)
        if retry_after is not None:
            return retry_after
        return PENALTY_WITHOUT_RETRY_AFTER if penalised else self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        """Capped exponential backoff with full jitter, so retrying workers do not stampede together."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    def _bearer(self) -> "_BearerAuth":
        """Bearer auth for the next request with the installation's token, renewed first when due."""
        if self._token is None or not self._token.fresh(time.time()):
            self._token = self._current_tokens()
        return _BearerAuth(self._token.access)

    def _current_tokens(self) -> Tokens:
        """The stored tokens while fresh; else renewed by one process at a time (whoever locks first).

        A login refused for good is recorded (for the board and each run) and raised again without
        asking for a minute: the Auth group allows 5 requests a minute, and every call would spend one.
        """
        stored = self.tokens.load()
        if stored is not None and stored.fresh(time.time()):
            return stored
        refusal = self.tokens.refusal()
        if refusal is not None and time.time() - refusal.at < LOGIN_REFUSED_FOR:
            raise LoginRefused(at=refusal.at, code=refusal.code, message=refusal.message)
        try:
            with self.tokens.renewing() as current:
                if current is not None and current.fresh(time.time()):
                    return current  # another process renewed it while this one waited
                renewed = self._renew(current)
                self.tokens.save(renewed)
                return renewed
        except LoginRefused as refused:
            self.tokens.refuse(Refusal(refused.at, refused.code, refused.reason))
            raise

    def _renew(self, current: Tokens | None) -> Tokens:
        """The refresh-token grant while the refresh token lives; the JWT grant when it is gone or refused."""
        if current is not None and current.refreshable(time.time()):
            try:
                return self._grant({"grant_type": "refresh_token", "refresh_token": current.refresh})
            except ProviderError as error:
                if not error.permanent:
                    raise
                logger.info("RingCentral refused the refresh token (%s); logging in with the JWT", error.code)
        try:
            return self._grant({"grant_type": JWT_GRANT, "assertion": self._jwt})
        except ProviderError as error:
            if not error.permanent:
                raise
            code = error.code or f"HTTP {error.status}"
            raise LoginRefused(at=time.time(), code=code, message=_oauth_message(error), status=error.status) from None

    def _grant(self, form: dict[str, str]) -> Tokens:
        """Trade a grant for tokens at the token endpoint."""
        body = self._request("POST", TOKEN_PATH, data=form).json()
        done = "refreshed its token" if form["grant_type"] == "refresh_token" else "logged in with the JWT"
        logger.info("RingCentral: %s; token valid for %ss", done, body.get("expires_in"))
        return Tokens.from_grant(body, time.time())

    def _forget_token(self) -> None:
        """RingCentral refused our access token: drop it here and in the store (unless already replaced)."""
        if self._token is not None:
            self.tokens.discard(self._token.access)
        self._token = None


class _BearerAuth(AuthBase):
    """Adds the bearer token to a request; its repr never shows the value."""

    def __init__(self, token: str):
        self._value = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self._value}"
        return request

    def __repr__(self):
        return "<bearer>"


def _error(what: str, status: int, body: dict) -> ProviderError:
    """A ProviderError from RingCentral's error body (API or OAuth shape); permanent for caller-fault 4xx."""
    errors = body.get("errors") or [{}]
    code = body.get("errorCode") or errors[0].get("errorCode") or body.get("error", "")
    message = body.get("message") or body.get("error_description") or errors[0].get("message", "")
    permanent = 400 <= status < 500 and status not in (408, 429)
    return RingCentralError(f"{what}: {message or 'failed'}", status=status, code=code, permanent=permanent)


def _json_or_empty(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _may_have_arrived(error: requests.RequestException) -> bool:
    """Whether the request may have reached RingCentral: anything but a connection never made."""
    if isinstance(error, requests.ConnectTimeout):
        return False
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return not isinstance(reason, NewConnectionError | ConnectTimeoutError)


def _retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header in seconds form; None when absent or a date."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _oauth_message(error: ProviderError) -> str:
    """The refusal's own words, without the request line (it names the token endpoint, not a secret)."""
    return error.message.split(": ", 1)[-1]


def session_scope(server_url: str, client_id: str, jwt: str) -> str:
    """One key per server, app and user, as RingCentral counts sessions and budgets; a digest keeps the JWT out."""
    return hashlib.sha256(f"{server_url.rstrip('/')}|{client_id}|{jwt}".encode()).hexdigest()[:16]


def settings_scope() -> str:
    """The session scope of the configured RingCentral credentials."""
    return session_scope(settings.RC_SERVER_URL, settings.RC_CLIENT_ID, settings.RC_JWT)


def client_from_settings() -> RingCentralClient:
    """A client from Django settings: the installation's session in the database, pacing shared by every
    process (in Redis when there is one, else in-process with 429 holds in the database)."""
    redis_url = getattr(settings, "RC_RATE_LIMIT_REDIS_URL", "")
    if not redis_url and settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        redis_url = settings.CELERY_BROKER_URL
    store = RedisStore(redis_url) if redis_url else InProcessStore(shared_holds=DatabaseHolds())
    return RingCentralClient(
        settings.RC_SERVER_URL,
        settings.RC_CLIENT_ID,
        settings.RC_CLIENT_SECRET,
        settings.RC_JWT,
        store=store,
        tokens=DatabaseTokens(settings_scope()),
    )
