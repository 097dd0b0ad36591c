"""Credentials stay off the debug page and out of the logs; HTTPS by default; login spraying is throttled."""

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TypedDict, Unpack

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import path

ROOT = Path(__file__).resolve().parent.parent
JWT = "eyJhbGciOiJSUzI1NiJ9.callrota-test-jwt.c2lnbmF0dXJl"
CLIENT_SECRET = "rc-client-secret-4711"
WEBHOOK_SECRET = "hook-secret-0815"
BROKER_PASSWORD = "broker-pass-2342"


def login_to_ringcentral(request):
    """A view that fails while it holds credentials in local variables, as a real client's login can."""
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": django_settings.RC_JWT}
    secret = django_settings.RC_CLIENT_SECRET
    raise RuntimeError(f"RingCentral refused the login ({len(form)} fields, secret of {len(secret)} characters)")


urlpatterns = [path("boom/", login_to_ringcentral)]


@pytest.fixture
def credentials(settings):
    settings.RC_JWT = JWT
    settings.RC_CLIENT_SECRET = CLIENT_SECRET
    settings.RINGPLAN_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.CELERY_BROKER_URL = f"redis://callrota:{BROKER_PASSWORD}@127.0.0.1:6379/0"
    return [JWT, CLIENT_SECRET, WEBHOOK_SECRET, BROKER_PASSWORD, settings.SECRET_KEY]


@pytest.mark.urls("tests.test_security")
def test_the_debug_page_shows_no_credential_anywhere(credentials, settings):
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    # runserver copies the process environment into every request's META: so does this request.
    environ = {"RC_JWT": JWT, "RC_CLIENT_SECRET": CLIENT_SECRET, "DATABASE_URL": f"postgres://u:{BROKER_PASSWORD}@h/db"}
    response = client.get(f"/boom/?secret={WEBHOOK_SECRET}", headers={"X-Webhook-Secret": WEBHOOK_SECRET}, **environ)
    page = response.content.decode()
    assert response.status_code == 500 and "RingCentral refused the login" in page and "RC_JWT" in page
    assert [secret for secret in credentials if secret in page] == []


def test_log_lines_and_tracebacks_lose_every_credential(credentials, caplog):
    logger = logging.getLogger("callrota.test")
    with caplog.at_level(logging.INFO):
        logger.info('"POST /integrations/ringplan/webhook/?secret=%s HTTP/1.1" 403 33', "someone-elses-guess")
        logger.warning("broker at %s", django_settings.CELERY_BROKER_URL)
        try:
            raise ValueError(f"login with {JWT} failed")
        except ValueError:
            logger.exception("RingCentral login")
    text = caplog.text
    assert "someone-elses-guess" not in text and "secret=****" in text and "RingCentral login" in text
    assert [secret for secret in credentials if secret in text] == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # As deployed: without the async-safety switch the browser tests set for themselves.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {**inherited, "DATABASE_URL": "sqlite:///:memory:", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_runserver_access_log_never_prints_the_webhook_secret(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "RINGPLAN_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    migrated = manage("migrate", "--no-input", "-v0", DATABASE_URL=env["DATABASE_URL"])
    assert migrated.returncode == 0, migrated.stderr  # the webhook stores every authenticated body first
    log = (tmp_path / "server.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/integrations/ringplan/webhook/"
        deadline = time.monotonic() + 90  # a loaded machine can take many seconds to start runserver
        while True:
            try:
                refused = requests.post(f"{url}?secret={WEBHOOK_SECRET}x", data="{}", timeout=10)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "runserver did not answer within 90 s"
                time.sleep(0.1)
        unreadable = requests.post(f"{url}?secret={WEBHOOK_SECRET}", data="not json", timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=10)
    log.seek(0)
    output = log.read()
    assert (refused.status_code, unreadable.status_code) == (403, 400)
    assert "/integrations/ringplan/webhook/?secret=****" in output and " 403 " in output and " 400 " in output
    assert WEBHOOK_SECRET not in output


DEPLOY = {"DEBUG": "off", "SECRET_KEY": "k" * 20 + "-deploy-check-" + "z" * 30, "ALLOWED_HOSTS": "callrota.example.com"}
HTTPS_WARNINGS = ["security.W004", "security.W008", "security.W012", "security.W016"]
SHOW_HTTPS = (
    "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
    " s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER)"
)


def test_check_deploy_with_debug_off_is_secure_by_default():
    checked = manage("check", "--deploy", **DEPLOY)
    assert checked.returncode == 0, checked.stderr
    assert [code for code in HTTPS_WARNINGS if code in checked.stderr + checked.stdout] == []
    assert manage("shell", "--no-imports", "-c", SHOW_HTTPS, **DEPLOY).stdout.split() == [
        "True",
        "True",
        "True",
        "31536000",
        "None",
    ]


@pytest.mark.parametrize(
    ("switch", "expected"),
    [
        ({"CALLROTA_PLAIN_HTTP": "on"}, ["False", "False", "False", "0", "None"]),
        ({"BEHIND_PROXY": "on"}, ["True", "True", "True", "31536000", "('HTTP_X_FORWARDED_PROTO',", "'https')"]),
        ({"SECURE_HSTS_SECONDS": "3600"}, ["True", "True", "True", "3600", "None"]),
        ({"DEBUG": "on"}, ["False", "False", "False", "0", "None"]),
    ],
)
def test_the_https_switches_of_the_environment(switch, expected):
    assert manage("shell", "--no-imports", "-c", SHOW_HTTPS, **{**DEPLOY, **switch}).stdout.split() == expected


@pytest.fixture
def james(db):
    return get_user_model().objects.create_user("james", password="right-Password-1")


class ProxyMeta(TypedDict, total=False):
    """What a proxy in front of the site adds to a request's environ."""

    HTTP_X_FORWARDED_FOR: str


def log_in(address: str, username: str, password: str, **meta: Unpack[ProxyMeta]) -> int:
    client = Client(REMOTE_ADDR=address, **meta)
    return client.post("/accounts/login/", {"username": username, "password": password}).status_code


def test_one_password_sprayed_over_many_usernames_locks_the_address(james, settings):
    answers = [log_in("203.0.113.7", f"user{n}", "Summer2026!") for n in range(30)]
    assert answers[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert set(answers[settings.AXES_FAILURE_LIMIT :]) == {429}
    assert log_in("203.0.113.7", "james", "right-Password-1") == 429
    assert log_in("198.51.100.4", "james", "right-Password-1") == 302


def test_behind_a_proxy_each_client_address_is_throttled_alone(james, settings):
    settings.BEHIND_PROXY = True
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("10.0.0.2", f"user{n}", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert log_in("10.0.0.2", "james", "right-Password-1", HTTP_X_FORWARDED_FOR="203.0.113.7") == 429
    assert log_in("10.0.0.2", "james", "right-Password-1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.4") == 302
