"""Argument types shared by the schedule commands."""

from argparse import ArgumentTypeError
from datetime import UTC, datetime


def instant(value: str) -> datetime:
    """An ISO 8601 instant; a value without an offset is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not an ISO 8601 time, e.g. 2026-11-24T13:00:00Z") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
