"""Which provider the product talks to, built from settings."""

from functools import cache

from .base import Provider
from .ringcentral.client import client_from_settings


@cache
def default_provider() -> Provider:
    """The configured provider (RingCentral, from the RC_* settings), one per process.

    One client per process keeps its token and connections between runs: logging in for
    every run would spend RingCentral's Auth budget of 5 requests a minute.
    """
    return client_from_settings()
