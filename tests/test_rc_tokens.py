"""One RingCentral session for the whole installation: shared, encrypted, refreshed; a refused login said once."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from integrations.base import ProviderError
from integrations.models import ProviderToken
from integrations.providers import default_provider
from integrations.ringcentral.client import session_scope, settings_scope
from integrations.ringcentral.errors import LoginRefused
from integrations.ringcentral.shared import DatabaseTokens, token_cipher
from scheduler.reconcile.run import reconcile_locked
from tests.e2e.stack import database_url
from tests.support.emulators import BASE_DIR, TEST_CREDENTIALS, RingCentralProcess

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEMO_QUEUE = "61986637000"
MORNING = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
SCOPE = "test-installation"


def grants(emulator) -> list[tuple[str, int]]:
    """(grant type, status) of every request to the token endpoint."""
    return [(r["grant"], r["status"]) for r in emulator.requests() if r["path"] == "/restapi/oauth/token"]


@pytest.fixture
def shared(db, emulator, make_client):
    """shared(**options): a client of one installation, its session in the database (as another process's would be)."""

    def make(**options):
        return make_client(emulator, tokens=DatabaseTokens(SCOPE), **options)

    return make


# ---------------------------------------------------------------------------- one session, shared


def test_clients_of_one_installation_log_in_once_between_them(shared, emulator):
    for _ in range(3):
        shared().read_queue(DEMO_QUEUE)  # three processes, one after another

    assert grants(emulator) == [(JWT_GRANT, 200)]


def test_the_tokens_are_stored_encrypted_and_never_in_the_clear(shared):
    client = shared()
    client.read_queue(DEMO_QUEUE)

    row = ProviderToken.objects.get(scope=SCOPE)
    assert client._token.access not in row.access_token and client._token.refresh not in row.refresh_token
    assert token_cipher().decrypt(row.access_token.encode()).decode() == client._token.access


def test_tokens_stored_under_another_secret_key_are_not_used(shared, emulator):
    shared().read_queue(DEMO_QUEUE)

    with override_settings(SECRET_KEY="another-installation-key"):  # noqa: S106 - a made-up key
        assert DatabaseTokens(SCOPE).load() is None
        shared().read_queue(DEMO_QUEUE)

    assert grants(emulator) == [(JWT_GRANT, 200), (JWT_GRANT, 200)]


def test_it_refreshes_the_token_before_it_expires_with_the_refresh_token(shared, emulator):
    emulator.configure(token_ttl=1)
    shared().read_queue(DEMO_QUEUE)
    time.sleep(0.95)  # past 90% of the token's life

    shared().read_queue(DEMO_QUEUE)

    assert grants(emulator) == [(JWT_GRANT, 200), ("refresh_token", 200)]
    assert 401 not in [r["status"] for r in emulator.requests()]


def test_a_token_another_process_refreshed_is_used_not_refreshed_again(shared, emulator):
    emulator.configure(token_ttl=1)
    first, second = shared(), shared()
    first.read_queue(DEMO_QUEUE)
    second.read_queue(DEMO_QUEUE)
    time.sleep(0.95)

    first.read_queue(DEMO_QUEUE)  # refreshes: RingCentral revokes the access token `second` holds
    second.read_queue(DEMO_QUEUE)

    assert grants(emulator) == [(JWT_GRANT, 200), ("refresh_token", 200)]
    assert 401 not in [r["status"] for r in emulator.requests()]


def test_processes_renewing_at_once_refresh_once_between_them(transactional_db, emulator, make_client):
    emulator.configure(token_ttl=1)
    make_client(emulator, tokens=DatabaseTokens(SCOPE)).read_queue(DEMO_QUEUE)
    clients = [make_client(emulator, tokens=DatabaseTokens(SCOPE)) for _ in range(4)]
    time.sleep(0.95)  # all of them find the token due at once
    start, failures = threading.Barrier(len(clients)), []

    def renew(client):
        start.wait()
        try:
            client.read_queue(DEMO_QUEUE)
        except ProviderError as error:
            failures.append(error)
        finally:
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=renew, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert grants(emulator) == [(JWT_GRANT, 200), ("refresh_token", 200)]


def test_it_logs_in_with_the_jwt_when_the_refresh_token_has_expired(shared, emulator):
    emulator.configure(token_ttl=1, refresh_token_ttl=1)
    shared().read_queue(DEMO_QUEUE)
    time.sleep(1.05)

    shared().read_queue(DEMO_QUEUE)

    assert grants(emulator) == [(JWT_GRANT, 200), (JWT_GRANT, 200)]


def test_a_refused_refresh_token_falls_back_to_the_jwt(shared, emulator):
    client = shared()
    client.read_queue(DEMO_QUEUE)
    emulator.reset()  # RingCentral forgot every token: the access token gets 401, the refresh token OAU-211
    emulator.clear_requests()

    client.read_queue(DEMO_QUEUE)

    assert grants(emulator) == [("refresh_token", 400), (JWT_GRANT, 200)]


@pytest.mark.slow
def test_eight_processes_in_a_row_log_in_once_within_the_auth_limit(transactional_db, tmp_path):
    """The Auth group is on (5 a minute) and sessions are capped at 5: eight processes that each
    logged in would meet a 429 on the sixth login and revoke each other's sessions."""
    with RingCentralProcess(BASE_DIR / "tests" / "ringcentral_samples" / "seed.yaml") as emulator:
        app = {"database_url": database_url(), "secret_key": settings.SECRET_KEY, "broker_dir": tmp_path}
        for n in range(8):
            done = emulator.run_app_command("rc_status", **app)
            assert done.returncode == 0, f"process {n + 1}: {done.stderr}"
            assert "signed in as extension 111111111" in done.stdout
        log = emulator.requests()

    assert [r["grant"] for r in log if r["group"] == "auth"] == [JWT_GRANT]
    assert {r["status"] for r in log} == {200}
    scope = session_scope(emulator.url, *(TEST_CREDENTIALS[n] for n in ("RC_CLIENT_ID", "RC_JWT")))
    assert ProviderToken.objects.get(scope=scope).refresh_token  # the one session, stored


# ---------------------------------------------------------------------------- a login refused for good


def test_a_refused_login_is_recorded_with_its_time_and_code_but_no_secret(shared, emulator):
    client = shared(jwt="revoked-jwt")

    with pytest.raises(LoginRefused) as error:
        client.read_queue(DEMO_QUEUE)

    row = ProviderToken.objects.get(scope=SCOPE)
    assert (row.refused_code, error.value.code, error.value.permanent) == ("OAU-140", "OAU-140", True)
    assert abs(row.refused_at.timestamp() - time.time()) < 5
    assert "revoked-jwt" not in row.refused_message + str(error.value)
    assert "fix RC_JWT" in error.value.user_message


def test_another_process_does_not_ask_again_for_a_minute(shared, emulator):
    with pytest.raises(LoginRefused):
        shared(jwt="revoked-jwt").read_queue(DEMO_QUEUE)

    with pytest.raises(LoginRefused) as error:
        shared(jwt="revoked-jwt").read_queue(DEMO_QUEUE)

    assert error.value.code == "OAU-140"
    assert grants(emulator) == [(JWT_GRANT, 400)]  # the Auth budget is 5 a minute


def test_a_wrong_client_secret_says_which_settings_to_fix(shared):
    with pytest.raises(LoginRefused) as error:
        shared(client_secret="wrong").read_queue(DEMO_QUEUE)

    assert "OAU-153" in error.value.user_message and "RC_CLIENT_SECRET" in error.value.user_message


BOARD = "/admin/scheduler/supervision/board/"


def test_the_board_shows_a_refused_login_with_its_time_and_code_until_a_login_succeeds(
    bob, client, emulator, make_client, point_app_at
):
    point_app_at(emulator, RC_JWT="revoked-jwt")  # RingCentral refuses the installation's JWT
    with pytest.raises(ProviderError):
        default_provider().read_queue_presence(DEMO_QUEUE)
    row = ProviderToken.objects.get(scope=settings_scope())

    banner = client.get(BOARD).content.decode()
    assert "RingCentral refused the login (OAU-140)" in banner
    assert f"{row.refused_at:%Y-%m-%d %H:%M} UTC" in banner and "fix RC_JWT" in banner
    assert "revoked-jwt" not in banner

    row.refused_at -= timedelta(minutes=2)  # a minute on, it asks again; the JWT was re-enabled meanwhile
    row.save()
    make_client(emulator, tokens=DatabaseTokens(settings_scope())).read_queue(DEMO_QUEUE)
    assert "refused the login" not in client.get(BOARD).content.decode()
    assert "refused the login" not in client.get(BOARD + "panel/").content.decode()


def test_a_run_records_a_refused_login_once_not_once_a_queue(demo_emulator, make_client):
    provider = make_client(demo_emulator, jwt="revoked-jwt")

    result = reconcile_locked(provider=provider, at=MORNING, trigger="test")

    assert len(result.problems) == 1
    assert result.problems[0].startswith("RingCentral refused the login (OAU-140) at ")
    assert result.run.problems == result.problems
