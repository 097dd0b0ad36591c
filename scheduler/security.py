"""Keep credentials off the debug page and out of every log line.

Django hides settings whose names match its pattern; Callrota's `RC_JWT`, the passwords inside
database and broker URLs, and the RingPlan webhook secret (which travels in a URL query, so the
access log prints it) slipped past. Two layers close that: by name (settings, the environment,
request headers) and by value (every secret Callrota reads, wherever it shows up: a URL, a
frame's local variable, an exception's message, a log line).
"""

import html
import logging
import logging.config
import os
import re
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

SUBSTITUTE = SafeExceptionReporterFilter.cleansed_substitute
# Names shown starred on the debug page: Django's own pattern, plus RC_JWT's kind.
HIDDEN_NAME = re.compile(r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|JWT|CREDENTIAL", re.IGNORECASE)
# Settings whose values are credentials, scrubbed wherever they appear (narrower than HIDDEN_NAME,
# whose matches include harmless values such as AXES_PASSWORD_FORM_FIELD's "password").
CREDENTIAL_NAME = re.compile(r"SECRET|TOKEN|JWT|CREDENTIAL|SIGNATURE|_KEY$|PASSWORD$")
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@", re.IGNORECASE)
# A query parameter named like a secret, also as it appears HTML-escaped (`&amp;secret=`).
QUERY_SECRET = re.compile(r"([?&;](?:secret|token|key|api_key|password|jwt|signature)=)[^&#\s\"'<]+", re.IGNORECASE)
SHORTEST_SECRET = 6  # shorter values ("on", "1") would blank out ordinary words


@cache
def secret_values() -> tuple[str, ...]:
    """Every credential in the settings and every password in a URL (setting or environment), longest first."""
    named = {name: getattr(settings, name) for name in dir(settings) if name.isupper()}
    found = {str(value) for name, values in named.items() if CREDENTIAL_NAME.search(name) for value in _listed(values)}
    found |= {database.get("PASSWORD") or "" for database in settings.DATABASES.values()}
    found |= {_url_password(value) for value in [*named.values(), *os.environ.values()] if isinstance(value, str)}
    found |= {html.escape(value) for value in found}
    return tuple(sorted((value for value in found if len(value) >= SHORTEST_SECRET), key=len, reverse=True))


def _listed(value) -> list:
    return list(value) if isinstance(value, list | tuple) else [value] if isinstance(value, str) else []


def _url_password(value: str) -> str:
    try:
        return urlsplit(value).password or ""
    except ValueError:
        return ""


def _forget_secret_values(**kwargs) -> None:
    secret_values.cache_clear()


setting_changed.connect(_forget_secret_values)


def scrub(text: str) -> str:
    """The text with every known secret, URL password and secret-named query parameter starred out."""
    for value in secret_values():
        text = text.replace(value, SUBSTITUTE)
    text = URL_PASSWORD.sub(rf"\g<1>{SUBSTITUTE}@", text)
    return QUERY_SECRET.sub(rf"\g<1>{SUBSTITUTE}", text)


class SecretsFilter(SafeExceptionReporterFilter):
    """Django's filter, hiding Callrota's credential names too and scrubbing secret values from the rest."""

    hidden_settings = HIDDEN_NAME

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        return scrub(cleansed) if isinstance(cleansed, str) else cleansed


class SecretsReporter(ExceptionReporter):
    """The debug page and error e-mails, with secret values scrubbed wherever they appear (URL, locals)."""

    def get_traceback_html(self):
        return scrub(super().get_traceback_html())

    def get_traceback_text(self):
        return scrub(super().get_traceback_text())


def _scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed call; logging reports it when the record is emitted
        return record
    if (clean := scrub(message)) != message:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    return record


def configure_logging(logging_settings: dict) -> None:
    """Django's LOGGING_CONFIG: apply LOGGING, and scrub every record any logger creates from now on.

    At record creation rather than on handlers, because Celery and runserver bring their own handlers.
    """
    logging.config.dictConfig(logging_settings)
    create_record = logging.getLogRecordFactory()
    if not getattr(create_record, "scrubs_secrets", False):

        def scrubbed_record(*args, **kwargs):
            return _scrub_record(create_record(*args, **kwargs))

        scrubbed_record.scrubs_secrets = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(scrubbed_record)


def client_address(request) -> str:
    """The client's address for login throttling: the last hop a trusted proxy added, else REMOTE_ADDR."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if settings.BEHIND_PROXY else ""
    return forwarded.rsplit(",", 1)[-1].strip() or request.META.get("REMOTE_ADDR", "")
