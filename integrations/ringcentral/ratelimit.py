"""RingCentral's usage-plan groups, and the pacing that keeps our own load under them.

RingCentral counts requests per user, per app and per group over a window
(Light 50, Medium 40, Heavy 10, Auth 5 per 60 s by default) and announces the real
numbers in `X-Rate-Limit-*` headers. The pacer keeps a log of our requests per group
in a store (in-process, or Redis so every worker process shares one budget) and holds
a request back until the log has room for it. A 429 holds its whole group in every
process (in Redis, or in the database beside an in-process log), since RingCentral
restarts its penalty on every request made during it.

A request's log entry is stamped when its answer arrives, not when it was sent: the
server counted it on arrival, which is earlier, so the entry never expires from our
log before it expires from the server's. While in flight it is stamped `pending_for`
seconds ahead, so a slow request cannot drop out of the log.
"""

import re
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis

from .errors import RingCentralError

LIGHT, MEDIUM, HEAVY, AUTH = "light", "medium", "heavy", "auth"
DEFAULT_LIMITS = {LIGHT: 50, MEDIUM: 40, HEAVY: 10, AUTH: 5}
DEFAULT_WINDOW = 60.0
UNTHROTTLED = 0  # a learned limit of 0: the group's answers come without limits, so nothing to pace

_ACCOUNT = r"/restapi/v1\.0/account/[^/]+"
_EXTENSION = rf"{_ACCOUNT}/extension/[^/]+"
_QUEUE = rf"{_ACCOUNT}/call-queues/[^/]+"

# (method, path pattern, group) as RingCentral's API reference assigns them; None is "NoThrottling".
ROUTES = [
    ("POST", r"/restapi/oauth/token", AUTH),
    ("POST", r"/restapi/oauth/wstoken", AUTH),
    ("GET", r"/restapi/v1\.0/status", None),
    ("GET", rf"{_ACCOUNT}/call-queues", MEDIUM),
    ("GET", _QUEUE, LIGHT),
    ("PUT", _QUEUE, LIGHT),
    ("GET", rf"{_QUEUE}/members", LIGHT),
    ("GET", rf"{_QUEUE}/presence", LIGHT),
    ("PUT", rf"{_QUEUE}/presence", MEDIUM),
    ("GET", rf"{_EXTENSION}/call-queue-presence", LIGHT),
    ("PUT", rf"{_EXTENSION}/call-queue-presence", MEDIUM),
    ("GET", rf"{_EXTENSION}/presence", LIGHT),
    ("GET", _EXTENSION, LIGHT),  # readExtension: the zone of a queue's business hours
    ("GET", rf"{_EXTENSION}/business-hours", LIGHT),
    ("PUT", rf"{_EXTENSION}/presence", MEDIUM),
    ("GET", rf"{_ACCOUNT}(/extension/[^/]+)?/call-log", HEAVY),
    ("GET", r"/team-messaging/v1/chats/[^/]+/posts", MEDIUM),
    ("POST", r"/team-messaging/v1/chats/[^/]+/posts", MEDIUM),
]
_COMPILED = [(method, re.compile(pattern), group) for method, pattern, group in ROUTES]


def group_for(method: str, path: str) -> str | None:
    """The usage-plan group of a request; Heavy, the strictest, for anything not in the table."""
    for route_method, pattern, group in _COMPILED:
        if route_method == method and pattern.fullmatch(path):
            return group
    return HEAVY


@dataclass(frozen=True, slots=True)
class Budget:
    """What one answer said about its group: the limit, the window and what is left of it."""

    group: str
    limit: int
    window: float
    remaining: int

    def __str__(self):
        if self.limit == UNTHROTTLED:
            return f"{self.group} unthrottled"
        return f"{self.group} {self.remaining}/{self.limit} left in {self.window:g} s"


def budget_from_headers(headers) -> Budget | None:
    """The `X-Rate-Limit-*` headers of an answer, or None when it has none (or garbled ones)."""
    try:
        return Budget(
            group=headers["X-Rate-Limit-Group"].lower(),
            limit=int(headers["X-Rate-Limit-Limit"]),
            window=float(headers["X-Rate-Limit-Window"]),
            remaining=int(headers["X-Rate-Limit-Remaining"]),
        )
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Ticket:
    """A reserved place in one group's log, settled when the answer arrives."""

    group: str
    key: str
    token: str


class Pacer:
    """Holds each request back until its group has room, in one budget per app and user."""

    def __init__(self, store, *, scope: str, margin: float = 0.05, pending_for: float = 60.0, sleep=time.sleep):
        self.store, self.scope = store, scope
        self.margin = margin  # extra life for each entry, for clocks that tick differently from the server's
        self.pending_for = pending_for
        self._sleep = sleep

    def acquire(self, group: str | None) -> Ticket | None:
        """Wait until `group` has room, then reserve a place in it (None for unthrottled calls)."""
        if group is None:
            return None
        key = f"{self.scope}:{group}"
        token = uuid.uuid4().hex
        while True:
            wait = self.store.reserve(key, token, DEFAULT_LIMITS[group], DEFAULT_WINDOW, self.pending_for)
            if wait <= 0:
                return Ticket(group, key, token)
            self._sleep(min(wait, 1.0))  # re-check at least each second: in-flight entries may settle early

    def release(self, ticket: Ticket | None, answer=None) -> Budget | None:
        """Stamp the request; learn the limits its answer (a response, or None) announced, or their absence."""
        if ticket is None:
            return None
        budget = budget_from_headers(answer.headers) if answer is not None else None
        if budget is None and answer is not None and answer.status_code < 400:
            # A success without X-Rate-Limit-* headers: this group is not throttled (until an answer says it is).
            budget = Budget(ticket.group, UNTHROTTLED, DEFAULT_WINDOW, 0)
        self.store.settle(ticket.key, ticket.token, self.margin, budget)
        return budget

    def hold(self, group: str | None, seconds: float) -> None:
        """Make every process wait `seconds` before the group's next request (a Retry-After)."""
        if group is not None:
            self.store.hold(f"{self.scope}:{group}", seconds)


@dataclass
class _GroupLog:
    limit: int | None = None
    window: float | None = None
    held_until: float = 0.0
    stamps: dict[str, float] = field(default_factory=dict)  # token -> when it counts as made; it counts for a window


class InProcessStore:
    """The pacing log in this process's memory: right for one worker process, or tests.

    `shared_holds` (e.g. in the database) makes a 429's penalty hold every process, not only this one.
    """

    def __init__(self, clock=time.monotonic, shared_holds=None) -> None:
        self._clock = clock
        self._shared_holds = shared_holds
        self._lock = threading.Lock()
        self._groups: dict[str, _GroupLog] = {}

    def reserve(self, key: str, token: str, limit: int, window: float, pending_for: float) -> float:
        """Seconds to wait before trying again, or 0 once `token` has its place."""
        held = self._shared_holds.held_for(key) if self._shared_holds is not None else 0.0
        if held > 0:
            return held
        with self._lock:
            log, now = self._groups.setdefault(key, _GroupLog()), self._clock()
            if log.limit is not None and log.window is not None:  # an answer taught both
                limit, window = log.limit, log.window
            if log.held_until > now:
                return log.held_until - now
            if limit == UNTHROTTLED:
                return 0.0
            log.stamps = {t: at for t, at in log.stamps.items() if at > now - window}
            if len(log.stamps) >= limit:
                return min(log.stamps.values()) + window - now
            log.stamps[token] = now + pending_for
            return 0.0

    def settle(self, key: str, token: str, margin: float, budget: Budget | None) -> None:
        """Stamp the entry with its answer's time; learn the budget and count load we did not send."""
        with self._lock:
            log, now = self._groups.setdefault(key, _GroupLog()), self._clock()
            log.stamps[token] = now + margin
            if budget is not None:
                log.limit, log.window = budget.limit, budget.window
                log.stamps = {t: at for t, at in log.stamps.items() if at > now - budget.window}
                for _ in range(budget.limit - budget.remaining - len(log.stamps)):
                    log.stamps[f"unseen:{uuid.uuid4().hex}"] = now + margin

    def hold(self, key: str, seconds: float) -> None:
        with self._lock:
            log = self._groups.setdefault(key, _GroupLog())
            log.held_until = max(log.held_until, self._clock() + seconds)
        if self._shared_holds is not None:
            self._shared_holds.hold(key, seconds)


# Same algorithm as InProcessStore, run inside Redis so it is atomic across processes and
# uses one clock (Redis's) for every host. KEYS: log (sorted set token -> stamp), limits (hash), hold.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local limit = tonumber(redis.call('HGET', KEYS[2], 'limit') or ARGV[2])
local window = tonumber(redis.call('HGET', KEYS[2], 'window') or ARGV[3])
local held = tonumber(redis.call('GET', KEYS[3]) or '0')
if held > now then return tostring(held - now) end
if limit == 0 then return '0' end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(window + tonumber(ARGV[4])) + 1)
return '0'
"""

_SETTLE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local stamp = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], stamp, ARGV[1])
if ARGV[3] ~= '' then
  local limit, window, remaining = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  redis.call('HSET', KEYS[2], 'limit', limit, 'window', window)
  redis.call('EXPIRE', KEYS[2], 86400)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  for n = redis.call('ZCARD', KEYS[1]) + 1, limit - remaining do
    redis.call('ZADD', KEYS[1], stamp, 'unseen:' .. ARGV[1] .. ':' .. n)
  end
  redis.call('EXPIRE', KEYS[1], math.ceil(window + tonumber(ARGV[2])) + 1)
end
"""

_HOLD = """
local t = redis.call('TIME')
local until_ = tonumber(t[1]) + tonumber(t[2]) / 1e6 + tonumber(ARGV[1])
if until_ > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
"""


class RedisStore:
    """The pacing log in Redis: one budget shared by every worker process that uses the same Redis."""

    def __init__(self, url: str, *, prefix: str = "callrota:rc-pacing"):
        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix
        self._reserve = self._redis.register_script(_RESERVE)
        self._settle = self._redis.register_script(_SETTLE)
        self._hold = self._redis.register_script(_HOLD)

    def _keys(self, key: str) -> list[str]:
        return [f"{self._prefix}:{key}:{part}" for part in ("log", "limits", "hold")]

    def reserve(self, key: str, token: str, limit: int, window: float, pending_for: float) -> float:
        """Seconds to wait before trying again, or 0 once `token` has its place."""
        with _redis_errors():
            return float(self._reserve(keys=self._keys(key), args=[token, limit, window, pending_for]))

    def settle(self, key: str, token: str, margin: float, budget: Budget | None) -> None:
        """Stamp the entry with its answer's time; learn the budget and count load we did not send."""
        numbers: list[float | str] = [budget.limit, budget.window, budget.remaining] if budget else ["", "", ""]
        with _redis_errors():
            self._settle(keys=self._keys(key)[:2], args=[token, margin, *numbers])

    def hold(self, key: str, seconds: float) -> None:
        with _redis_errors():
            self._hold(keys=self._keys(key)[2:], args=[seconds])


@contextmanager
def _redis_errors():
    """Turn a Redis failure into the one error type callers handle (worth retrying later)."""
    try:
        yield
    except redis.RedisError as error:
        raise RingCentralError(f"RingCentral pacing store (Redis) unavailable: {error}", permanent=False) from error
