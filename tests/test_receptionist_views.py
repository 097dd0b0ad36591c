"""The receptionist pages through Django's test client, against a real emulator: own agent only, CSRF, lockout."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from queues.models import Agent, AuditEntry, Override
from scheduler.receptionist import selectors
from scheduler.reconcile.run import reconcile_locked
from tests.support.personas import RECEPTIONIST_PASSWORD, link_receptionist

TUESDAY_0930 = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 09:30 in New York
SUPPORT, DEMO_QUEUE = "1081167000", "61986637000"
JAMES, MARIA = "111111111", "222222222"
PASSWORD = RECEPTIONIST_PASSWORD


@pytest.fixture
def emulator(demo_emulator, point_app_at):
    point_app_at(demo_emulator)
    return demo_emulator


@pytest.fixture
def rc(emulator):
    return RingCentralClient(**emulator.client_kwargs(), store=InProcessStore())


@pytest.fixture
def tuesday_morning(emulator, rc):
    """09:30 on a Tuesday in New York, the emulator matching the schedule."""
    with time_machine.travel(TUESDAY_0930, tick=True):
        reconcile_locked(provider=rc, at=TUESDAY_0930, trigger="test")
        emulator.clear_requests()
        yield


def receptionist(provider_id: str, username: str) -> Client:
    client = Client()
    client.force_login(link_receptionist(provider_id, username))
    return client


@pytest.fixture
def james(emulator):
    return receptionist(JAMES, "james")


def puts(emulator):
    return [r["path"] for r in emulator.requests() if r["method"] == "PUT"]


def test_every_page_needs_a_login(emulator):
    client = Client()
    for method, path in [("get", "/"), ("post", "/toggle/"), ("post", "/away/"), ("post", "/cancel/")]:
        response = getattr(client, method)(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


def test_the_login_page_has_labels_and_no_admin_links(db):
    page = Client().get("/accounts/login/").content.decode()
    assert '<label for="id_username">' in page and '<label for="id_password">' in page
    assert "/admin" not in page


def test_my_queues_shows_live_state_the_schedule_and_until_when(tuesday_morning, james):
    page = james.get("/").content.decode()
    assert "James Smith" in page and "America/New_York" in page and "/admin" not in page
    for name in ("Support", "Dr. Adams", "Dr. Baker"):
        assert f">{name}</h2>" in page
    assert "Schedule: you should be taking calls until Tue 12:00 (Support mornings ends)" in page
    assert "Schedule: you should not be taking calls until Thu 09:00 (Dr. Baker front desk starts)" in page
    assert "Last known" not in page and "Stop taking Support calls" in page


def test_a_slow_provider_shows_the_last_known_state_and_its_age(tuesday_morning, james, emulator, monkeypatch):
    monkeypatch.setattr(selectors, "LIVE_TIMEOUT", 0.3)
    emulator.configure(latency=1.0)
    with time_machine.travel(TUESDAY_0930.replace(minute=33), tick=True):
        page = james.get("/").content.decode()
    emulator.configure(latency=0)
    assert "RingCentral did not answer in time: showing the last known state." in page
    assert "Last known, as of 3\xa0minutes ago." in page


def test_a_provider_error_on_the_live_read_is_put_in_words(tuesday_morning):
    from queues.models import CallQueue, QueueMembership

    ghost = Agent.objects.create(provider_id="999000999", name="Ghost")
    QueueMembership.objects.create(agent=ghost, queue=CallQueue.objects.get(provider_id=SUPPORT))
    page = receptionist("999000999", "ghost").get("/").content.decode()
    assert "RingCentral could not be read: the queue or extension does not exist at RingCentral (CMN-102" in page
    assert "Last known: never read." in page


def test_a_toggle_writes_at_once_says_so_and_is_audited(tuesday_morning, james, emulator, rc):
    response = james.post(
        "/toggle/", {"agent": JAMES, "queue": SUPPORT, "accept": "off", "confirmed": "on", "duration": ""}, follow=True
    )
    assert (
        "Done: you are not taking Support calls until 12:00, when Support mornings ends." in response.content.decode()
    )
    assert puts(emulator) == [f"/restapi/v1.0/account/~/extension/{JAMES}/call-queue-presence"]
    assert rc.read_queue_presence(SUPPORT)[JAMES] is False
    row = AuditEntry.objects.get(reason="manual override")
    assert (row.actor.username, row.agent.provider_id, row.outcome) == ("james", JAMES, "applied")


def test_a_chosen_duration_sets_the_overrides_end(tuesday_morning, james):
    james.post("/toggle/", {"agent": JAMES, "queue": SUPPORT, "accept": "off", "confirmed": "on", "duration": "30"})
    override = Override.objects.get()
    assert (override.until - override.starts_at).total_seconds() == 30 * 60


def test_another_agents_id_in_a_crafted_post_gets_403_and_an_audit_row(tuesday_morning, james, emulator):
    response = james.post("/toggle/", {"agent": MARIA, "queue": SUPPORT, "accept": "off"})
    assert response.status_code == 403 and "This attempt has been recorded" in response.content.decode()
    assert puts(emulator) == [] and not Override.objects.exists()
    row = AuditEntry.objects.get(actor__username="james")
    assert (row.agent.provider_id, row.queue.provider_id) == (MARIA, SUPPORT)
    assert (row.outcome, row.error_code, row.reason) == ("skipped", "403", "refused: not the user's own agent")
    assert james.post("/away/", {"agent": MARIA, "status": "DoNotAcceptDepartmentCalls"}).status_code == 403


def test_cancelling_another_agents_override_gets_403(tuesday_morning, james, emulator):
    maria = Agent.objects.get(provider_id=MARIA)
    theirs = Override.objects.create(agent=maria, dnd_status="DoNotAcceptAnyCalls", until=TUESDAY_0930.replace(hour=20))
    response = james.post("/cancel/", {"agent": JAMES, "override": theirs.pk})
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.cancelled_at is None and AuditEntry.objects.get(actor__isnull=False).agent == maria


def test_a_non_editable_queue_is_refused_with_the_reason(tuesday_morning, emulator):
    maria = receptionist(MARIA, "maria")
    page = maria.get("/").content.decode()
    assert 'disabled aria-describedby="why-61986637000"' in page
    assert "RingCentral does not let its members change their own status in it" in page
    response = maria.post("/toggle/", {"agent": MARIA, "queue": DEMO_QUEUE, "accept": "on"}, follow=True)
    assert "queue: Demo call queue does not let its members change their own status" in response.content.decode()
    assert puts(emulator) == [] and not Override.objects.exists() and not AuditEntry.objects.filter(actor__isnull=False)


def test_step_away_and_back(tuesday_morning, james, rc):
    away = james.post(
        "/away/", {"agent": JAMES, "status": "DoNotAcceptDepartmentCalls", "confirmed": "on"}, follow=True
    )
    assert "Done: you are away (do not accept queue calls) until 12:00" in away.content.decode()
    assert rc.read_dnd([JAMES]) == {JAMES: "DoNotAcceptDepartmentCalls"}
    assert "I'm back</button>" in away.content.decode()
    back = james.post("/away/", {"agent": JAMES, "status": "TakeAllCalls"}, follow=True)
    assert "Done: you are back, taking all calls" in back.content.decode()
    assert rc.read_dnd([JAMES]) == {JAMES: "TakeAllCalls"}


def test_stepped_away_no_queue_shows_a_green_taking_calls_badge(tuesday_morning, james, rc):
    before = james.get("/").content.decode()
    assert '<span class="badge on">Taking calls</span>' in before and "Stepped away" not in before
    away = james.post(
        "/away/", {"agent": JAMES, "status": "DoNotAcceptDepartmentCalls", "confirmed": "on"}, follow=True
    ).content.decode()
    assert rc.read_queue_presence(SUPPORT)[JAMES] is True  # the queue switch itself is still on
    assert '<span class="badge on">Taking calls</span>' not in away
    assert '<span class="badge off">Stepped away</span>' in away
    assert "Stepped away: no queue calls reach you." in away


def test_cancel_my_override(tuesday_morning, james, rc):
    james.post("/toggle/", {"agent": JAMES, "queue": SUPPORT, "accept": "off", "confirmed": "on"})
    override = Override.objects.get()
    response = james.post("/cancel/", {"agent": JAMES, "override": override.pk}, follow=True)
    assert "Cancelled: back on the schedule, you are taking Support calls." in response.content.decode()
    assert rc.read_queue_presence(SUPPORT)[JAMES] is True


def test_csrf_is_enforced(tuesday_morning, emulator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_user("x"))
    assert client.post("/toggle/", {"agent": JAMES, "queue": SUPPORT, "accept": "off"}).status_code == 403
    assert puts(emulator) == []


def test_a_user_without_an_agent_gets_a_page_saying_so(db):
    client = Client()
    client.force_login(User.objects.create_user("nobody"))
    page = client.get("/").content.decode()
    assert "Your login is not linked to a phone extension." in page
    assert client.post("/toggle/", {"agent": JAMES, "queue": SUPPORT, "accept": "off"}).status_code == 403


def test_repeated_bad_logins_lock_the_user_out(emulator, settings):
    receptionist(JAMES, "james")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/accounts/login/", {"username": "james", "password": "wrong"}).status_code == 200
    assert client.post("/accounts/login/", {"username": "james", "password": "wrong"}).status_code == 429
    locked = client.post("/accounts/login/", {"username": "james", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_supervisor_cancels_any_override_from_admin(tuesday_morning, james, rc):
    james.post("/toggle/", {"agent": JAMES, "queue": SUPPORT, "accept": "off", "confirmed": "on"})
    override = Override.objects.get()
    boss = Client()
    boss.force_login(User.objects.create_superuser("boss", password=PASSWORD))
    listing = boss.get("/admin/queues/override/").content.decode()
    assert "Cancel the selected overrides" in listing
    response = boss.post(
        "/admin/queues/override/", {"action": "cancel_overrides", "_selected_action": [override.pk]}, follow=True
    )
    assert (
        "James Smith: Cancelled: back on the schedule, James Smith is taking Support calls."
        in response.content.decode()
    )
    override.refresh_from_db()
    assert override.cancelled_by.username == "boss" and rc.read_queue_presence(SUPPORT)[JAMES] is True


def test_the_page_shows_her_zone_without_leaving_it_active(tuesday_morning, james):
    from django.utils import timezone

    james.get("/")
    assert timezone.get_current_timezone_name() == "UTC"
