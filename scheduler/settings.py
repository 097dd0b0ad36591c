"""Callrota settings: everything that varies between machines comes from the environment.

Defaults need no server (SQLite and an SQLite-backed Celery broker), so `make run`
works on a fresh machine; production points DATABASE_URL and CELERY_BROKER_URL at
PostgreSQL and Redis/RabbitMQ.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # local state of the embedded defaults (SQLite files)
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment or .env (or set DEBUG=on for development)."
        )
    SECRET_KEY = "dev-only-insecure-key"  # noqa: S105 - used only with DEBUG on
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "simple_history",
    "import_export",
    "axes",
    "queues",
    "scheduler",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "scheduler.people.middleware.PersonZoneMiddleware",  # each page in its viewer's zone
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

# django-axes throttles logins: AXES_FAILURE_LIMIT failures from one address lock that address out
# for a while, whatever usernames were tried, so one password sprayed over many accounts stops too.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_CLIENT_IP_CALLABLE = "scheduler.security.client_address"  # behind a proxy, every client has its address
AXES_VERBOSE = False  # no "AXES: BEGIN" banner on every command

ROOT_URLCONF = "scheduler.urls"
WSGI_APPLICATION = "scheduler.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "scheduler.people.middleware.zone",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'callrota.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, worker and beat share one file: wait for locks instead of failing,
    # and take the write lock at BEGIN so concurrent writers queue up cleanly.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    # Tests use a file (child processes such as a Celery worker must see it), one per test run.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-callrota-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# The largest schedule file import_schedule and the admin's schedule page accept.
SCHEDULE_FILE_MAX_BYTES = env.int("SCHEDULE_FILE_MAX_BYTES", default=2_000_000)
# The forecast's interval in minutes: calls are counted and agents planned per 15, 30 or 60 minutes.
CALLROTA_FORECAST_INTERVAL = env.int("CALLROTA_FORECAST_INTERVAL", default=30)
if CALLROTA_FORECAST_INTERVAL not in (15, 30, 60):
    raise ImproperlyConfigured("CALLROTA_FORECAST_INTERVAL must be 15, 30 or 60 (minutes).")
# How many past weeks the forecast learns from, the latest weighing most.
CALLROTA_FORECAST_WEEKS = env.int("CALLROTA_FORECAST_WEEKS", default=6)

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# Celery: the embedded default is kombu's SQLAlchemy transport on a SQLite file.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=f"db+sqlite:///{VAR_DIR / 'celery-results.sqlite3'}")
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")  # tests run private queues
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for the next one
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Time limits, in seconds: at the soft one the task is told (and records itself as stopped,
# releasing its lease); at the hard one its pool process is killed. Any task without its own.
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 660
# A reconcile run takes seconds; minutes means it is stuck. The boundary dispatcher, one beat tick.
RECONCILE_SOFT_TIME_LIMIT = 240
RECONCILE_TIME_LIMIT = 300
DISPATCH_SOFT_TIME_LIMIT = 45
DISPATCH_TIME_LIMIT = 55
# The share of each provider usage group's budget (RingCentral Light: 50 reads a minute) the rolling sweep may spend.
SWEEP_BUDGET_SHARE = env.float("CALLROTA_SWEEP_BUDGET_SHARE", default=0.4)
if not 0 < SWEEP_BUDGET_SHARE <= 1:
    raise ImproperlyConfigured(
        f"CALLROTA_SWEEP_BUDGET_SHARE={SWEEP_BUDGET_SHARE:g} is not a share: give a number above 0 and at most 1, "
        "e.g. 0.4 for 40% of each usage group's budget"
    )
# Minutes an open queue may have fewer agents taking its calls than its min staff before the Supervisor
# group is told (once per episode) and the now board says so in red.
try:
    UNDERSTAFFED_MINUTES = env.int("CALLROTA_UNDERSTAFFED_MINUTES", default=5)
except ValueError:
    UNDERSTAFFED_MINUTES = -1  # refused just below, naming the variable
if not 1 <= UNDERSTAFFED_MINUTES <= 24 * 60:
    raise ImproperlyConfigured(
        f"CALLROTA_UNDERSTAFFED_MINUTES={os.environ.get('CALLROTA_UNDERSTAFFED_MINUTES', '')[:20]!r} is not "
        "whole minutes from 1 to 1440: give e.g. 5"
    )
# Ride out a broker outage: retry the connection for ever, at start-up and after a loss, also
# through the errors a restarting Redis answers with (LOADING, READONLY, UNBLOCKED); keep trying
# to store a result until the backend is back; and cancel the tasks running when the connection
# drops (they are redelivered: acks are late), as Celery 6 will by default.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CHANNEL_ERROR_RETRY = True
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# No remote control (nothing here uses `celery inspect` or `control`), and the Procfile runs the
# worker without gossip and mingle: their auto-delete broadcast queues make kombu's Redis channel
# fail half-way through closing on a connection loss, and the close that follows crashes the
# worker ("Unrecoverable error: AttributeError ... 'hostname'"): 3 of 5 test runs with it, 0 of 4 without.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False

# RingCentral credentials, named as in RingCentral's own samples.
RC_SERVER_URL = env.str("RC_SERVER_URL", default="http://127.0.0.1:8089")
RC_CLIENT_ID = env.str("RC_CLIENT_ID", default="")
RC_CLIENT_SECRET = env.str("RC_CLIENT_SECRET", default="")
RC_JWT = env.str("RC_JWT", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# Credentials never reach a log line (the webhook secret rides in a URL query) nor the debug page.
LOGGING_CONFIG = "scheduler.security.configure_logging"
DEFAULT_EXCEPTION_REPORTER = "scheduler.security.SecretsReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "scheduler.security.SecretsFilter"

# HTTPS: secure by default whenever DEBUG is off. CALLROTA_PLAIN_HTTP=on serves a plain-HTTP LAN
# (no Secure cookies, no redirect, no HSTS); BEHIND_PROXY=on trusts one reverse proxy that terminates
# HTTPS and sets X-Forwarded-Proto and X-Forwarded-For.
PLAIN_HTTP = env.bool("CALLROTA_PLAIN_HTTP", default=DEBUG)
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = not PLAIN_HTTP
SECURE_HSTS_SECONDS = 0 if PLAIN_HTTP else env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- RingCentral pacing (integrations/ringcentral, issue 4) ---
# Redis holding the request budget every worker process shares, so together they stay under
# RingCentral's rate limits. Empty: the Celery broker when that is Redis, else each process paces alone.
RC_RATE_LIMIT_REDIS_URL = env.str("RC_RATE_LIMIT_REDIS_URL", default="")

# --- Ringostat and RingPlan (integrations/ringostat, integrations/ringplan, issue 8) ---
# Defaults point at the local emulators (`manage.py run_ringostat_emulator` / `run_ringplan_emulator`).
# Keys and the webhook secret are secrets: never logged, never shown in admin.
RINGOSTAT_API_URL = env.str("RINGOSTAT_API_URL", default="http://127.0.0.1:8091/a/v2")
RINGOSTAT_AUTH_KEY = env.str("RINGOSTAT_AUTH_KEY", default="emulator-ringostat-key")
RINGOSTAT_PROJECT_ID = env.int("RINGOSTAT_PROJECT_ID", default=68861)
# Ringostat's daily report counts days in the project's zone; adherence uses the same days.
RINGOSTAT_TIMEZONE = env.str("RINGOSTAT_TIMEZONE", default="America/New_York")
RINGPLAN_API_URL = env.str("RINGPLAN_API_URL", default="http://127.0.0.1:8092")
RINGPLAN_API_KEY = env.str("RINGPLAN_API_KEY", default="emulator-ringplan-key")
RINGPLAN_USER_ID = env.str("RINGPLAN_USER_ID", default="primary")
RINGPLAN_USER_EMAIL = env.str("RINGPLAN_USER_EMAIL", default="")
# The shared secret RingPlan's webhook posts must carry (header X-Webhook-Secret, or ?secret= in the registered URL,
# since RingPlan registers a bare URL); empty refuses every post. The webhook URL RingPlan is told to call:
RINGPLAN_WEBHOOK_URL = env.str("RINGPLAN_WEBHOOK_URL", default="http://127.0.0.1:8000/integrations/ringplan/webhook/")
RINGPLAN_WEBHOOK_SECRET = env.str("RINGPLAN_WEBHOOK_SECRET", default="")

# --- Notifications (scheduler/notify) ---
# Email goes through Django's email backend: the console by default, SMTP when EMAIL_URL is set,
# e.g. smtp+tls://user:password@smtp.example.com:587 (the password is a secret: from the environment only).
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Callrota <callrota@localhost>")

# A RingCentral Team Messaging chat that receives notifications too (the chat's id); empty: no posts.
RC_TEAM_MESSAGING_CHAT_ID = env.str("RC_TEAM_MESSAGING_CHAT_ID", default="")
