"""The RingPlan client, roster import, webhook registration and Socket.IO listener against the emulator."""

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from integrations.base import ProviderError, ProviderName
from integrations.models import IdentityKind, LiveStatus, ProviderIdentity
from integrations.ringplan.client import RingPlanClient
from integrations.ringplan.listener import Listener
from queues.models import Agent
from queues.ringplan.live_status import live_status_store
from tests.support.emulators import TEST_API_KEY, RingPlanProcess

JANE, OMAR, LI = "60190ce750fe88ed1a544a7a", "60190ce750fe88ed1a544a7b", "60190ce750fe88ed1a544a7c"
INSTANCE = "279951a6-4f51-5019-a897-0e7624828abf"


@pytest.fixture(scope="module")
def emulator_process():
    with RingPlanProcess() as process:
        yield process


@pytest.fixture
def emulator(emulator_process, settings):
    emulator_process.configure(malformed=False)
    settings.RINGPLAN_API_URL = emulator_process.url
    settings.RINGPLAN_API_KEY = TEST_API_KEY
    settings.RINGPLAN_USER_ID = "primary"
    return emulator_process


def client(emulator, **kwargs) -> RingPlanClient:
    return RingPlanClient(emulator.url, kwargs.pop("key", TEST_API_KEY), kwargs.pop("user", "primary"), **kwargs)


@pytest.mark.parametrize("page_size", [1, 2, 3, 50])
def test_it_reads_every_contact_across_pages(emulator, page_size):
    contacts = client(emulator, page_size=page_size).contacts()
    assert [(c.id, c.name, c.email) for c in contacts] == [
        (JANE, "Jane Doe", "jane@example.com"),
        (OMAR, "Omar Haddad", "omar@example.com"),
        (LI, "Li Wei", "li@example.com"),
    ]


def test_it_reads_a_contacts_extensions(emulator):
    assert [(e.number, e.name) for e in client(emulator).contact_extensions(JANE)] == [
        ("1001", "Jane desk"),
        ("1011", "Jane mobile"),
    ]


@pytest.mark.parametrize("page_size", [2, 5, 10])
def test_it_follows_the_pagination_headers_of_instance_extensions(emulator, page_size):
    numbers = [e.number for e in client(emulator, page_size=page_size).instance_extensions(INSTANCE)]
    assert numbers == ["1001", "1011", "1002", "1003", "1004"]


@pytest.mark.parametrize("key,user", [("wrong", "primary"), (TEST_API_KEY, "nobody"), ("", "primary")])
def test_a_refused_key_or_user_is_a_clear_permanent_401(emulator, key, user):
    with pytest.raises(ProviderError, match="refused the API key or X-User-Id") as caught:
        client(emulator, key=key, user=user).contacts()
    assert (caught.value.status, caught.value.code, caught.value.permanent) == (401, "auth", True)


def test_a_body_that_is_not_json_is_a_provider_error(emulator):
    emulator.configure(malformed=True)
    with pytest.raises(ProviderError, match="not valid JSON") as caught:
        client(emulator).contacts()
    assert caught.value.code == "malformed"


def test_ringplans_error_body_is_carried(emulator):
    with pytest.raises(ProviderError, match="contact nope does not exist") as caught:
        client(emulator).contact_extensions("nope")
    assert (caught.value.status, caught.value.permanent) == (404, True)


# ---------------------------------------------------------------------- roster import


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_dry_run_previews_and_writes_nothing(emulator, db):
    output = run("import_ringplan_roster", "--dry-run")
    assert "create Jane Doe (contact 60190ce750fe88ed1a544a7a); extensions +1001, +1011" in output
    assert "3 to create, 0 to update, 0 unchanged; nothing written" in output
    assert not Agent.objects.exists() and not ProviderIdentity.objects.exists()


def test_the_import_creates_agents_and_mappings_once(emulator, db):
    assert "Done: 3 created" in run("import_ringplan_roster")
    jane = Agent.objects.get(provider="ringplan", provider_id=JANE)
    assert sorted(jane.identities.values_list("kind", "external_id")) == [
        ("contact", JANE),
        ("extension", "1001"),
        ("extension", "1011"),
    ]
    assert "0 to create, 0 to update, 3 unchanged" in run("import_ringplan_roster", "--dry-run")
    assert "0 created, 0 updated, 3 unchanged" in run("import_ringplan_roster")
    assert Agent.objects.count() == 3 and ProviderIdentity.objects.count() == 6


def test_a_renamed_agent_is_updated_and_a_taken_extension_is_reported(emulator, db):
    run("import_ringplan_roster")
    Agent.objects.filter(provider_id=OMAR).update(name="Omar H.")
    ProviderIdentity.objects.filter(external_id="1011").delete()
    other = Agent.objects.create(provider_id="999", name="Someone else")
    ProviderIdentity.objects.create(
        agent=other, provider=ProviderName.RINGPLAN, kind=IdentityKind.EXTENSION, external_id="1011"
    )
    output = run("import_ringplan_roster")
    assert "update Omar Haddad (contact 60190ce750fe88ed1a544a7b); renamed from 'Omar H.'" in output
    assert "conflict: extension 1011 is mapped to another agent" in output
    assert Agent.objects.get(provider_id=OMAR).name == "Omar Haddad"
    assert ProviderIdentity.objects.get(external_id="1011").agent == other


def test_the_import_says_what_ringplan_refused(emulator, db, settings):
    settings.RINGPLAN_API_KEY = "wrong"
    with pytest.raises(CommandError, match="RingPlan: .*refused the API key"):
        run("import_ringplan_roster")
    assert not Agent.objects.exists()


# ---------------------------------------------------------------------- webhook registration


def test_it_registers_the_url_and_subscriptions_idempotently(emulator, settings):
    settings.RINGPLAN_WEBHOOK_SECRET = "s3cret-value"
    settings.RINGPLAN_WEBHOOK_URL = "https://callrota.example.com/integrations/ringplan/webhook/"
    output = run("register_ringplan_webhooks") + run("register_ringplan_webhooks")
    state = emulator.state()
    assert state["webhook_url"] == "https://callrota.example.com/integrations/ringplan/webhook/?secret=s3cret-value"
    assert state["subscriptions"] == ["dial.action.started", "dial.action.completed", "call.action.hangup"]
    assert "s3cret-value" not in output and "Subscribed: nothing new" in output


def test_it_refuses_to_register_without_a_secret(emulator, settings):
    settings.RINGPLAN_WEBHOOK_SECRET = ""
    with pytest.raises(CommandError, match="RINGPLAN_WEBHOOK_SECRET is empty"):
        run("register_ringplan_webhooks")


# ---------------------------------------------------------------------- the Socket.IO listener


def wait_for(condition, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def roster(emulator, transactional_db):
    run("import_ringplan_roster")


class Running:
    """A listener in a thread, stopped on exit."""

    def __init__(self, url, key=TEST_API_KEY, backoff=(0.2, 1.0)):
        self.listener = Listener(url, key, on_status=live_status_store, backoff=backoff)
        self.stop = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.listener.run(self.stop)
        except Exception as error:  # noqa: BLE001 - the test reads it
            self.error = error

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)


def status_of(contact_id):
    row = LiveStatus.objects.filter(agent__provider_id=contact_id).first()
    return row.status if row else None


def test_the_listener_stores_status_events_as_live_status(emulator, roster):
    with Running(emulator.url) as running:
        wait_for(running.listener.authenticated.is_set, what="authentication")
        assert emulator.send_status(JANE, "Available") == 1
        emulator.send_status(OMAR, "On a break")
        emulator.send_status("unknown-contact", "Available")
        wait_for(lambda: status_of(JANE) == "Available" and status_of(OMAR) == "On a break", what="statuses")
    jane = Agent.objects.get(provider_id=JANE)
    assert jane.live_status.provider == "ringplan" and LiveStatus.objects.count() == 2


def test_an_older_status_does_not_overwrite_a_newer_one(emulator, roster):
    with Running(emulator.url) as running:
        wait_for(running.listener.authenticated.is_set, what="authentication")
        emulator.send_status(JANE, "Busy", at="2026-11-24T13:00:00+00:00")
        wait_for(lambda: status_of(JANE) == "Busy", what="first status")
        emulator.send_status(JANE, "Available", at="2026-11-24T12:00:00+00:00")
        emulator.send_status(OMAR, "Available")
        wait_for(lambda: status_of(OMAR) == "Available", what="marker status")
    assert status_of(JANE) == "Busy"


def test_an_agents_first_statuses_arriving_together_keep_the_newest(roster):
    """Socket.IO runs each event's handler on its own thread: two first events race to insert."""
    from datetime import UTC, datetime, timedelta

    from integrations.ringplan.status import StatusUpdate

    base = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    updates = [StatusUpdate(OMAR, f"Status {n}", base + timedelta(seconds=n)) for n in range(8)]
    barrier, errors = threading.Barrier(len(updates)), []

    def store(update):
        barrier.wait()
        try:
            live_status_store(update)
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=store, args=(u,)) for u in updates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and status_of(OMAR) == "Status 7"


def test_a_refused_key_stops_the_listener_with_a_clear_error(emulator):
    with Running(emulator.url, key="wrong") as running:
        running.thread.join(timeout=15)
    assert isinstance(running.error, ProviderError) and "refused the API key" in str(running.error)


def test_the_listen_command_stops_with_a_clear_error_on_a_refused_key(emulator, settings):
    settings.RINGPLAN_API_KEY = "wrong"
    with pytest.raises(CommandError, match="refused the API key.*Check RINGPLAN_API_KEY"):
        run("listen_ringplan")


@pytest.mark.slow
def test_the_listener_reconnects_after_the_emulator_restarts_and_loses_nothing_sent_after(roster, settings):
    with RingPlanProcess() as emulator, Running(emulator.url) as running:
        wait_for(running.listener.authenticated.is_set, what="authentication")
        emulator.send_status(JANE, "Before restart")
        wait_for(lambda: status_of(JANE) == "Before restart", what="first status")
        emulator.stop()
        wait_for(lambda: not running.listener.authenticated.is_set(), what="the listener to notice")
        time.sleep(1.0)  # a failed attempt or two while the emulator is down: the backoff path
        emulator.start()
        wait_for(lambda: emulator.state()["authenticated_clients"] == 1, timeout=20, what="reconnect")
        statuses = [f"After restart {n}" for n in range(5)]
        for n, status in enumerate(statuses):
            emulator.send_status([JANE, OMAR, LI][n % 3], status)
        wait_for(
            lambda: (
                (status_of(JANE), status_of(OMAR), status_of(LI))
                == ("After restart 3", "After restart 4", "After restart 2")
            ),
            timeout=30,  # the listener's reconnect backoff plus a loaded CI machine
            what="every status sent after the reconnect",
        )
        assert running.listener.sessions == 2 and running.error is None
