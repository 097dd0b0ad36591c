"""GET parameters of the supervisors' pages: a bad value falls back to its default, with a message naming it."""

from datetime import date

from django.contrib import messages

# Days the pages plan around: wide enough for any schedule, and far enough from the calendar's ends
# (years 1 and 9999) that a window, a viewer's zone offset or the previous/next links never leave it.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


def date_param(request, name: str, *, fallback: str) -> date | None:
    """?name=YYYY-MM-DD within FIRST_DAY..LAST_DAY, or None (the page's default, described by `fallback`)."""
    value = request.GET.get(name)
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        messages.error(request, f"{name}: {_shown(value)} is not a date; use YYYY-MM-DD. Showing {fallback}.")
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        messages.error(
            request,
            f"{name}: {_shown(value)} is outside the dates the pages can show ({FIRST_DAY} to {LAST_DAY}). "
            f"Showing {fallback}.",
        )
        return None
    return day


def int_param(request, name: str, *, default: int, low: int, high: int) -> int:
    """?name=N for a whole number in [low, high], else `default`."""
    value = request.GET.get(name)
    if not value:
        return default
    try:
        number = int(value)
        if not low <= number <= high:
            raise ValueError
    except ValueError:
        shown = _shown(value)
        messages.error(request, f"{name}: {shown} must be a whole number from {low} to {high}. Showing {default}.")
        return default
    return number


def _shown(value: str) -> str:
    """The value as typed, quoted and cut short: a message should not repeat a pasted page."""
    return repr(value if len(value) <= 40 else value[:40] + "…")
