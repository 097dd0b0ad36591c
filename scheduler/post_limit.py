"""A login's posts per minute, counted in the append-only log those posts write (the audit, the request log).

The log's rows are stamped by the database's clock, so the minute is measured by that clock too: a web
process whose clock is off neither lifts the limit (running ahead) nor tightens it (running behind).
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.db.models import Model
from django.db.models.functions import Now
from django.shortcuts import render
from django.urls import reverse

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=1)


def posts_per_minute(log_model: type[Model], *, limit: int, page: tuple[str, str]) -> Callable:
    """A view decorator: 429 and nothing done once the login has `limit` rows in `log_model` from the last minute.

    `log_model` is a log whose rows name the login in `actor` and carry the database's time in `created_at`.
    `page` is the (URL name, title) of the page the refusal sends the person back to, to try again.
    """
    back_url, back_title = page

    def decorator(view):
        @wraps(view)
        def bounded(request, *args, **kwargs):
            rows = log_model._default_manager.filter(actor=request.user, created_at__gte=Now() - WINDOW)
            if rows.count() >= limit:
                counted_in = log_model._meta.verbose_name_plural
                log.warning(
                    "user %s refused (429): already %s posts in the last minute (%s)",
                    request.user.pk,
                    limit,
                    counted_in,
                )
                return render(
                    request,
                    "queues/slow_down.html",
                    {"limit": limit, "back_url": reverse(back_url), "back_title": back_title},
                    status=429,
                )
            return view(request, *args, **kwargs)

        return bounded

    return decorator
