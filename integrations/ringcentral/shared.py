"""What every process of one installation shares about RingCentral: one session, its refusal, 429 holds.

RingCentral allows 5 logins a minute and 5 sessions per user and app (a 6th revokes the oldest),
so processes that each log in spend the Auth budget and revoke each other. One session is kept in
the database (tokens encrypted with a key derived from SECRET_KEY), refreshed by one process at a
time under a row lock, and used by all. A 429's penalty is kept there too, so every process waits
it out even without Redis. The in-memory variants serve tests and scripts without a database.
"""

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction

from integrations.models import ProviderToken, RateLimitHold

REFUSAL_MESSAGE_LENGTH = 300


@dataclass(frozen=True)
class Tokens:
    """An access token, when to renew it, and the refresh token that renews it; reprs hide the values."""

    access: str = field(repr=False)
    renew_at: float  # epoch seconds: shortly before the access token expires
    refresh: str = field(repr=False)
    refresh_expires_at: float  # epoch seconds

    @classmethod
    def from_grant(cls, body: dict, now: float) -> "Tokens":
        """From the token endpoint's answer; renewed 10% of its life early, at most a minute."""
        life = float(body["expires_in"])
        refresh_life = float(body.get("refresh_token_expires_in", 0))
        refresh = str(body.get("refresh_token", ""))
        return cls(body["access_token"], now + life - min(60.0, life / 10), refresh, now + refresh_life)

    def fresh(self, now: float) -> bool:
        return now < self.renew_at

    def refreshable(self, now: float) -> bool:
        return bool(self.refresh) and now < self.refresh_expires_at


@dataclass(frozen=True)
class Refusal:
    """A login RingCentral refused for good: when, its error code, its message (never a secret)."""

    at: float  # epoch seconds
    code: str
    message: str

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.at, UTC)


class MemoryTokens:
    """The session in this process's memory: for tests and scripts without a database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: Tokens | None = None
        self._refusal: Refusal | None = None

    def load(self) -> Tokens | None:
        return self._tokens

    @contextmanager
    def renewing(self) -> Iterator[Tokens | None]:
        """Hold the session while renewing it; yields the current tokens (another thread may have renewed)."""
        with self._lock:
            yield self._tokens

    def save(self, tokens: Tokens | None) -> None:
        """Keep new tokens (None: forget them); a successful login clears any refusal."""
        self._tokens = tokens
        if tokens is not None:
            self._refusal = None

    def discard(self, access: str) -> None:
        """Forget the access token RingCentral just refused, unless another renewal already replaced it."""
        with self._lock:
            if self._tokens is not None and self._tokens.access == access:
                self._tokens = Tokens("", 0.0, self._tokens.refresh, self._tokens.refresh_expires_at)

    def refuse(self, refusal: Refusal) -> None:
        self._refusal = refusal

    def refusal(self) -> Refusal | None:
        return self._refusal


class DatabaseTokens:
    """The session in the database, one row per server, app and JWT: shared by every process."""

    def __init__(self, scope: str):
        self.scope = scope
        self._cipher = token_cipher()

    def load(self) -> Tokens | None:
        return self._tokens(ProviderToken.objects.filter(scope=self.scope).first())

    @contextmanager
    def renewing(self) -> Iterator[Tokens | None]:
        """Lock the row while renewing (one process refreshes; the others wait, then use its tokens)."""
        ProviderToken.objects.get_or_create(scope=self.scope)
        with transaction.atomic():
            yield self._tokens(ProviderToken.objects.select_for_update().get(scope=self.scope))

    def save(self, tokens: Tokens | None) -> None:
        values: dict[str, object] = {
            "access_token": "",
            "renew_at": None,
            "refresh_token": "",
            "refresh_expires_at": None,
        }
        if tokens is not None:
            values = {
                "access_token": self._cipher.encrypt(tokens.access.encode()).decode(),
                "renew_at": _moment(tokens.renew_at),
                "refresh_token": self._cipher.encrypt(tokens.refresh.encode()).decode(),
                "refresh_expires_at": _moment(tokens.refresh_expires_at),
                "refused_at": None,
                "refused_code": "",
                "refused_message": "",
            }
        ProviderToken.objects.update_or_create(scope=self.scope, defaults=values)

    def discard(self, access: str) -> None:
        current = self.load()
        if current is not None and current.access == access:
            ProviderToken.objects.filter(scope=self.scope).update(renew_at=None)

    def refuse(self, refusal: Refusal) -> None:
        ProviderToken.objects.update_or_create(
            scope=self.scope,
            defaults={
                "refused_at": refusal.when,
                "refused_code": refusal.code[:50],
                "refused_message": refusal.message[:REFUSAL_MESSAGE_LENGTH],
            },
        )

    def refusal(self) -> Refusal | None:
        return stored_refusal(self.scope)

    def _tokens(self, row: ProviderToken | None) -> Tokens | None:
        """The row's tokens, decrypted; None when it has none or SECRET_KEY changed since they were stored."""
        if row is None or not row.refresh_token:
            return None
        try:
            access = self._cipher.decrypt(row.access_token.encode()).decode()
            refresh = self._cipher.decrypt(row.refresh_token.encode()).decode()
        except InvalidToken:
            return None  # encrypted under another SECRET_KEY: log in again
        renew_at = row.renew_at.timestamp() if row.renew_at else 0.0
        refresh_expires_at = row.refresh_expires_at.timestamp() if row.refresh_expires_at else 0.0
        return Tokens(access, renew_at, refresh, refresh_expires_at)


def stored_refusal(scope: str) -> Refusal | None:
    """The login refusal recorded for this session, if the last login attempt was refused."""
    row = ProviderToken.objects.filter(scope=scope, refused_at__isnull=False).first()
    if row is None or row.refused_at is None:
        return None
    return Refusal(row.refused_at.timestamp(), row.refused_code, row.refused_message)


def token_cipher() -> Fernet:
    """Fernet with a key derived from SECRET_KEY (HKDF-SHA256), so tokens are never stored in the clear."""
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"callrota ringcentral tokens")
    return Fernet(base64.urlsafe_b64encode(kdf.derive(settings.SECRET_KEY.encode())))


class DatabaseHolds:
    """429 penalties in the database, so every process honours them without Redis."""

    def hold(self, key: str, seconds: float) -> None:
        until = _moment(time.time() + seconds)
        with transaction.atomic():
            row, created = RateLimitHold.objects.select_for_update().get_or_create(
                key=key, defaults={"held_until": until}
            )
            if not created and row.held_until < until:
                row.held_until = until
                row.save(update_fields=["held_until"])

    def held_for(self, key: str) -> float:
        """Seconds left of the group's hold; 0 when none."""
        row = RateLimitHold.objects.filter(key=key).first()
        return max(0.0, row.held_until.timestamp() - time.time()) if row else 0.0


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
