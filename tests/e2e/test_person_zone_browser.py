"""Each person's zone in a real browser: a supervisor in New York sees New York times on every page, one in Tokyo
sees Tokyo's, a receptionist in Kyiv sees Kyiv's; a supervisor sets a receptionist's zone, a person changes her own.
"""

from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from queues.models import Agent, AuditEntry, CallQueue, Override
from scheduler.models import PersonZone
from scheduler.reconcile.run import reconcile_locked
from scheduler.roles import SUPERVISOR, ensure_supervisor_group
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from tests.support.personas import RECEPTIONIST_PASSWORD, link_receptionist

pytestmark = pytest.mark.slow

JAMES = "111111111"
PASSWORD = "pw-zone-browser-123"
SUPERVISION = "/admin/scheduler/supervision"


@pytest.fixture
def team(demo_emulator_process, transactional_db, point_app_at):
    demo_emulator_process.reset()
    point_app_at(demo_emulator_process)
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    client = RingCentralClient(**demo_emulator_process.client_kwargs(), store=InProcessStore())
    reconcile_locked(provider=client, at=timezone.now(), trigger="test")
    ensure_supervisor_group()
    for name, zone in [("bob", "America/New_York"), ("ana", "Asia/Tokyo")]:
        user = get_user_model().objects.create_user(name, password=PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=SUPERVISOR))
        PersonZone.objects.create(user=user, timezone=zone)
    link_receptionist(JAMES, "james")


def pages() -> dict[str, str]:
    """Every supervisor page with the words that say its times' zone (besides the header's)."""
    james = Agent.objects.get(provider_id=JAMES)
    return {
        f"{SUPERVISION}/board/": "({zone})",
        f"{SUPERVISION}/timeline/?days=7": "times in {zone}",
        f"{SUPERVISION}/coverage/": "({zone})",
        f"{SUPERVISION}/preview/": "({zone})",
        f"{SUPERVISION}/hold/": "(in {zone})",
        f"{SUPERVISION}/roster/": "",
        "/admin/queues/auditentry/": "",
        "/admin/queues/reconcilerun/": "",
        "/admin/scheduler/shift/": "",
        "/admin/scheduler/timeoff/": "",
        f"/admin/queues/agent/{james.pk}/change/": "",
        "/admin/": "",
    }


def local(instant, zone: str) -> str:
    return timezone.localtime(instant, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


@pytest.mark.parametrize("who, zone, abbreviation", [("bob", "America/New_York", "EST"), ("ana", "Asia/Tokyo", "JST")])
def test_a_supervisor_sees_her_zones_times_on_every_page(page, live_server, team, log_in, who, zone, abbreviation):
    log_in(page, who, PASSWORD, "/admin/")
    for path, words in pages().items():
        page.goto(live_server.url + path)
        assert page.locator(".callrota-zone-link").text_content().startswith(f"Times in {zone}"), path
        if words:
            assert words.format(zone=zone) in page.locator("#content").inner_text(), path
    page.goto(f"{live_server.url}{SUPERVISION}/board/")
    assert f"{abbreviation} ({zone})" in page.locator("#content").inner_text()  # "As of 2026-… 02:32:29 EST (…)"
    page.goto(f"{live_server.url}/admin/queues/auditentry/")
    entry = AuditEntry.objects.latest("created_at")
    assert local(entry.created_at, zone) in page.locator("#result_list").inner_text()
    other = "Asia/Tokyo" if zone != "Asia/Tokyo" else "America/New_York"
    assert local(entry.created_at, other) not in page.locator("#result_list").inner_text()


def test_a_supervisor_sets_a_receptionists_zone_and_she_sees_kyiv_times(page, live_server, team, log_in, screenshot):
    log_in(page, "bob", PASSWORD, "/admin/scheduler/personzone/add/")
    page.select_option("#id_user", label="james")
    page.select_option("#id_timezone", "Europe/Kyiv")
    page.click("input[name=_save]")
    assert PersonZone.objects.get(user__username="james").timezone == "Europe/Kyiv"

    page.context.clear_cookies()
    log_in(page, "james", RECEPTIONIST_PASSWORD, "/")
    assert "times in Europe/Kyiv" in page.locator("main").inner_text()
    assert "My settings (Europe/Kyiv)" in page.locator("header").inner_text()
    CallQueue.objects.update(min_staff=0)  # stepping away is then never held for a short queue, whatever the hour
    page.select_option("#dnd-duration", index=0)
    page.locator("form[action$='/away/'] button").click()  # away, or back: a change with an end either way
    page.wait_for_url(live_server.url + "/")
    override = Override.objects.filter(agent__provider_id=JAMES, queue=None).latest("pk")
    kyiv = timezone.localtime(override.until, ZoneInfo("Europe/Kyiv")).strftime("%a %H:%M")
    assert f"until {kyiv}, then the schedule takes over" in page.locator("main").inner_text()
    screenshot(page, "receptionist-kyiv")


def test_a_person_changes_her_own_zone_from_the_admin_header(page, live_server, team, log_in):
    log_in(page, "bob", PASSWORD, f"{SUPERVISION}/coverage/")
    page.locator(".callrota-zone-link").click()
    page.get_by_label("Time zone").select_option("Pacific/Auckland")
    page.get_by_role("button", name="Save").click()
    assert page.url.endswith(f"{SUPERVISION}/coverage/")
    assert "(Pacific/Auckland)" in page.locator("#content").inner_text()
    assert "Saved: your times are shown in Pacific/Auckland." in page.locator(".messagelist").inner_text()
