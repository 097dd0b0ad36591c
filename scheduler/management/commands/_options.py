"""Argument types shared by the schedule commands."""

from argparse import ArgumentParser, ArgumentTypeError
from datetime import UTC, datetime, timedelta

from django.core.management.base import CommandError
from django.utils import timezone

DEFAULT_WINDOW = timedelta(days=7)


def instant(value: str) -> datetime:
    """An ISO 8601 instant; a value without an offset is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not an ISO 8601 time, e.g. 2026-11-24T13:00:00Z") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def add_window_arguments(parser: ArgumentParser) -> None:
    """--from (default: now) and --to (default: a week after --from)."""
    parser.add_argument("--from", dest="start", type=instant, help="ISO 8601 start, inclusive (default: now)")
    parser.add_argument("--to", dest="end", type=instant, help="ISO 8601 end, exclusive (default: --from + 7 days)")


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The window the options name, with the defaults filled in; CommandError for an empty one."""
    start = start or timezone.now()
    if end is None:
        try:
            end = start + DEFAULT_WINDOW
        except OverflowError:
            raise CommandError("--from is too close to the end of time for the default week: give --to") from None
    if end <= start:
        raise CommandError("--to must be after --from")
    return start, end
