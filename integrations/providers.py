"""Which provider the product talks to, built from settings."""

from functools import cache

from .base import Provider
from .ringcentral.client import client_from_settings, settings_scope
from .ringcentral.errors import LoginRefused
from .ringcentral.shared import stored_refusal


@cache
def default_provider() -> Provider:
    """The configured provider (RingCentral, from the RC_* settings), one per process.

    One client per process keeps its connections between runs; its token is the installation's
    one session, kept in the database and shared by every process.
    """
    return client_from_settings()


def login_refused() -> LoginRefused | None:
    """The provider's refusal of our login, while it stands (until a login succeeds); None when signed in."""
    refusal = stored_refusal(settings_scope())
    return LoginRefused(at=refusal.at, code=refusal.code, message=refusal.message) if refusal else None
