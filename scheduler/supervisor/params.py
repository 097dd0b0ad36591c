"""GET parameters of the supervisors' pages: a bad value falls back to its default, with a message naming it."""

from datetime import date

from django.contrib import messages


def date_param(request, name: str, *, fallback: str) -> date | None:
    """?name=YYYY-MM-DD, or None (the page's default, described by `fallback`) when absent or not a date."""
    value = request.GET.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        messages.error(request, f"{name}: {value!r} is not a date; use YYYY-MM-DD. Showing {fallback}.")
        return None


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
        messages.error(request, f"{name}: {value!r} must be a whole number from {low} to {high}. Showing {default}.")
        return default
    return number
