"""The supervisors' admin: who may do what, and what the pages show (Django test client)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from integrations.providers import default_provider
from queues.models import Agent, AuditEntry, CallQueue, QueueMembership
from scheduler.models import Shift
from scheduler.roles import SUPERVISOR, ensure_supervisor_group
from scheduler.schedule.parse import DEMO_SCHEDULE
from tests.support.emulators import RingCentralProcess

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tue 10:00 New York: Support mornings running
BOARD = "/admin/scheduler/supervision/board/"


def test_the_supervisor_group_exists_after_migrate_and_is_idempotent(db):
    group = Group.objects.get(name=SUPERVISOR)
    before = set(group.permissions.values_list("codename", flat=True))
    assert ensure_supervisor_group().pk == group.pk
    assert set(group.permissions.values_list("codename", flat=True)) == before
    assert {"change_shift", "view_board", "hold_agent", "view_auditentry"} <= before
    assert not {"change_auditentry", "delete_auditentry", "add_override", "delete_callqueue"} & before


@pytest.mark.parametrize(
    "url",
    [
        BOARD,
        BOARD + "panel/",
        "/admin/scheduler/supervision/timeline/",
        "/admin/scheduler/supervision/timeline/?days=7&tz=Europe/Kyiv",
        "/admin/scheduler/supervision/coverage/",
        "/admin/scheduler/supervision/preview/",
        "/admin/scheduler/supervision/hold/",
        "/admin/queues/auditentry/",
        "/admin/scheduler/shift/",
        "/admin/scheduler/shift/add/",
    ],
)
def test_a_supervisor_opens_every_page(bob, client, url):
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "url",
    [BOARD, "/admin/scheduler/supervision/hold/", "/admin/scheduler/shift/add/", "/admin/queues/auditentry/"],
)
def test_staff_without_the_group_cannot_use_the_pages_or_edit_schedules(carol, client, url):
    assert client.get(url).status_code == 403


def test_staff_without_the_group_cannot_post_a_shift(carol, client):
    assert client.post("/admin/scheduler/shift/add/", {"name": "Sneaky"}).status_code == 403


@time_machine.travel(NOW, tick=False)
def test_the_board_marks_a_queue_below_min_staff_and_actual_differing_from_plan(bob, client):
    support = CallQueue.objects.get(provider_id="1081167000")
    james = Agent.objects.get(provider_id="111111111")
    QueueMembership.objects.create(queue=support, agent=james, accepting=False, observed_at=NOW - timedelta(minutes=3))
    page = client.get(BOARD).content.decode()
    assert "differs from plan" in page and "≠ plan" in page
    assert "3\xa0minutes ago" in page
    response = client.get(BOARD + "panel/")
    support_row = next(q for q in response.context["board"] if q.queue == support)
    assert (support_row.scheduled, support_row.accepting, support_row.below_min) == (2, 0, True)


@time_machine.travel(NOW, tick=False)
def test_the_timeline_shows_bars_and_gaps_in_the_viewers_zone(bob, client):
    support = CallQueue.objects.get(provider_id="1081167000")
    response = client.get(
        f"/admin/scheduler/supervision/timeline/?queue={support.pk}&day=2026-11-24&tz=America/New_York"
    )
    page = response.content.decode()
    assert "<svg" in page and 'class="bar shift"' in page and 'class="bar gap"' in page
    assert "James Smith, Maria Lopez (Tue 08:00–12:00)" in page  # New York wall times
    assert "1 of 2 scheduled (Tue 12:00–15:00)" in page
    assert client.session["callrota_tz"] == "America/New_York"  # remembered for the next page


def test_a_bad_timezone_is_named_and_the_schedules_zone_shown(bob, client):
    response = client.get("/admin/scheduler/supervision/timeline/?tz=Mars/Olympus", follow=True)
    page = response.content.decode()
    assert "Timezone: unknown timezone" in page and "Showing America/New_York" in page
    assert response.context["tz"].key == "America/New_York"  # most demo shifts are New York's


def test_the_pages_open_in_the_schedules_zone_and_offer_every_zone(bob, client):
    response = client.get("/admin/scheduler/supervision/coverage/")
    assert response.context["tz"].key == "America/New_York"
    zones = response.context["zones"]
    assert zones[:2] == ["America/New_York", "Europe/Kyiv"] and "Asia/Tokyo" in zones and "UTC" in zones
    assert len(zones) == len(set(zones)) > 400


@time_machine.travel(NOW, tick=False)
def test_preview_lists_what_changes_at_each_boundary(bob, client):
    page = client.get("/admin/scheduler/supervision/preview/?tz=UTC").content.decode()
    assert "Tue 2026-11-24 17:00" in page
    assert "shift end: Support mornings" in page and "shift start: Support evenings" in page


@time_machine.travel(NOW, tick=False)
def test_coverage_page_lists_the_shortfalls(bob, client):
    page = client.get("/admin/scheduler/supervision/coverage/?day=2026-11-24&days=1&tz=UTC").content.decode()
    assert "Dr. Baker" in page and "Tue 2026-11-24 17:00" in page


def test_hold_names_the_field_to_fix_and_places_nothing(bob, client):
    james = Agent.objects.get(provider_id="111111111")
    response = client.post("/admin/scheduler/supervision/hold/", {"agent": james.pk})
    assert "choose a queue to hold" in response.content.decode()
    support = CallQueue.objects.get(provider_id="1081167000")
    response = client.post("/admin/scheduler/supervision/hold/", {"agent": james.pk, "queue": support.pk})
    assert "choose whether the agent takes this queue" in response.content.decode()
    assert not james.overrides.exists()


@pytest.fixture(scope="module")
def emulator():
    with RingCentralProcess(DEMO_SCHEDULE, "--rate-limits", "off") as process:
        yield process


def test_reconcile_and_sync_show_provider_errors_as_messages(bob, client, point_app_at, emulator):
    point_app_at(emulator, RC_CLIENT_SECRET="wrong-secret", RC_JWT="wrong-jwt")
    for action, words in (("reconcile", "RingCentral refused the login (OAU-153)"), ("sync", "Sync failed")):
        response = client.post(f"/admin/scheduler/supervision/{action}/", follow=True)
        assert response.status_code == 200
        assert any(words in str(m) for m in response.context["messages"]), action


def _audit(**fields):
    return AuditEntry.objects.create(field="acceptCurrentQueueCalls", outcome="applied", **fields)


def test_the_audit_history_is_read_only_even_for_a_superuser(demo, client):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(admin)
    entry = _audit(reason="drift correction", agent=Agent.objects.first())
    assert client.get("/admin/queues/auditentry/add/").status_code == 403
    page = client.get(f"/admin/queues/auditentry/{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert client.post(f"/admin/queues/auditentry/{entry.pk}/delete/").status_code == 403


def test_the_audit_history_filters_by_reason_kind_and_agent(bob, client):
    james, maria = Agent.objects.get(provider_id="111111111"), Agent.objects.get(provider_id="222222222")
    _audit(reason="shift start: Support mornings", agent=james)
    _audit(reason="drift correction", agent=maria)
    rows = client.get("/admin/queues/auditentry/?reason=drift").context["cl"].result_list
    assert [r.agent for r in rows] == [maria]
    rows = client.get(f"/admin/queues/auditentry/?agent__id__exact={james.pk}").context["cl"].result_list
    assert [r.agent for r in rows] == [james]
    response = client.get("/admin/queues/auditentry/?created_at__year=2026")
    assert response.status_code == 200


def test_agent_and_queue_pages_link_to_their_own_history(bob, client):
    james = Agent.objects.get(provider_id="111111111")
    page = client.get(f"/admin/queues/agent/{james.pk}/change/").content.decode()
    assert f"/admin/queues/auditentry/?agent__id__exact={james.pk}" in page
    support = CallQueue.objects.get(provider_id="1081167000")
    page = client.get(f"/admin/queues/callqueue/{support.pk}/change/").content.decode()
    assert f"/admin/queues/auditentry/?queue__id__exact={support.pk}" in page


def test_issuing_a_feed_shows_the_link_once(bob, client):
    james = Agent.objects.get(provider_id="111111111")
    response = client.post(
        "/admin/queues/agent/", {"action": "issue_calendar_feed", "_selected_action": [james.pk]}, follow=True
    )
    link = next(str(m) for m in response.context["messages"] if "/feeds/agent/" in str(m)).split(": ", 1)[1]
    assert client.get(link.removeprefix("http://testserver")).status_code == 200


def test_schedule_history_shows_who_changed_a_shift_and_the_diff(bob, client):
    shift = Shift.objects.get(name="Support mornings")
    form = {
        "name": shift.name,
        "queues": [q.pk for q in shift.queues.all()],
        "agents": [a.pk for a in shift.agents.all()],
        "timezone": shift.timezone,
        "start_time": "08:00",
        "end_time": "13:00",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        **dict.fromkeys(["rrule", "dtstart", "valid_from", "valid_until"], ""),
    }
    assert client.post(f"/admin/scheduler/shift/{shift.pk}/change/", form).status_code == 302
    page = client.get(f"/admin/scheduler/shift/{shift.pk}/history/").content.decode()
    assert "<strong>End:</strong>" in page and "12:00:00" in page and "13:00:00" in page
    assert ">bob</a>" in page or "bob" in page


def test_a_supervisor_holds_an_agents_dnd_and_is_the_audited_actor(bob, client, point_app_at, emulator):
    emulator.reset()
    point_app_at(emulator)
    james = Agent.objects.get(provider_id="111111111")
    response = client.post(
        "/admin/scheduler/supervision/hold/",
        {"agent": james.pk, "dnd_status": "DoNotAcceptAnyCalls", "until": "2099-01-01 09:00"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]][0].startswith("Done:")
    assert default_provider().read_dnd(["111111111"]) == {"111111111": "DoNotAcceptAnyCalls"}
    override = james.overrides.get()
    assert (override.queue, override.created_by, override.until.year) == (None, bob, 2099)
    entry = AuditEntry.objects.get(agent=james, reason="manual override")
    assert (entry.actor, entry.new_value, entry.outcome) == (bob, "DoNotAcceptAnyCalls", "applied")


def test_the_audit_search_finds_an_agents_or_queues_rows_by_name_or_id(bob, client):
    james, maria = Agent.objects.get(provider_id="111111111"), Agent.objects.get(provider_id="222222222")
    support = CallQueue.objects.get(provider_id="1081167000")
    _audit(reason="drift correction", agent=james)
    _audit(reason="drift correction", agent=maria, queue=support)
    _audit(reason="drift correction", agent=maria, error_code="CMN-408")
    search = lambda term: {  # noqa: E731
        (r.agent.provider_id, r.queue_id)
        for r in client.get(f"/admin/queues/auditentry/?q={term}").context["cl"].result_list
    }
    assert search("james") == {("111111111", None)}
    assert search("1081167000") == {("222222222", support.pk)}
    assert len(client.get("/admin/queues/auditentry/?q=CMN-408").context["cl"].result_list) == 1


def test_the_timeline_shows_time_off_of_the_queues_agents(bob, client):
    support = CallQueue.objects.get(provider_id="1081167000")
    page = client.get(f"/admin/scheduler/supervision/timeline/?queue={support.pk}&day=2026-12-21&days=7&tz=UTC")
    text = page.content.decode()
    assert "Maria Lopez: time off" in text and 'class="bar time-off"' in text
    assert "Holiday (Thu 05:00–Sun 05:00)" in text  # 24-27 December in New York, shown in UTC
