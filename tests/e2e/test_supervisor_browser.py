"""A supervisor in a real browser: log in, open the now board and the timeline, preview the plan, hold an agent.

Real chromium, a live Django server and a real RingCentral emulator process; screenshots
of every page are saved under test-artifacts/screenshots/.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from integrations.providers import default_provider
from queues.models import Agent, AuditEntry, QueueMembership
from scheduler.roles import SUPERVISOR, ensure_supervisor_group
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file

pytestmark = pytest.mark.slow
SUPPORT, JAMES, OLENA = "1081167000", "111111111", "333333333"
PASSWORD = "pw-bob-browser-123"


@pytest.fixture
def emulator(demo_emulator_process, point_app_at):
    demo_emulator_process.reset()
    point_app_at(demo_emulator_process)
    return demo_emulator_process


@pytest.fixture
def supervisor(transactional_db):
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    ensure_supervisor_group()
    user = get_user_model().objects.create_user("bob", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    return user


def log_in(page, live_server, next_url):
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "bob")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_a_supervisor_runs_the_team_from_the_admin(page, live_server, supervisor, emulator, screenshot):
    log_in(page, live_server, "/admin/scheduler/supervision/board/")
    assert page.locator("h1").inner_text() == "Now board"

    page.click("text=Reconcile now")
    assert "Reconciled:" in page.locator(".messagelist").inner_text()
    support = page.locator(f"table[data-queue='{SUPPORT}']")
    assert support.locator("tbody tr").count() == 3  # James, Maria, Olena are Support's members
    assert page.locator("text=≠ plan").count() == 0  # just reconciled: actual matches the plan everywhere
    assert "never" not in support.inner_text()  # every member's presence was read
    screenshot(page, "board")

    page.click("nav.callrota-nav >> text=Timeline")
    page.fill("input[name=tz]", "America/New_York")
    page.click("nav.callrota-nav button")
    assert page.locator("svg#timeline rect.bar.shift").count() > 0
    assert "times in America/New_York" in page.locator("#content").inner_text()
    page.select_option("select[name=queue]", label="Support")
    page.select_option("select[name=days]", "7")
    page.click(".callrota-timeline-form button")
    assert page.locator("svg#timeline rect.bar.shift").count() >= 5  # a week of weekday shifts
    assert page.locator("svg#timeline rect.bar.gap").count() > 0  # Support (min 2) has evening gaps
    screenshot(page, "timeline-week")

    page.click("nav.callrota-nav >> text=Plan preview")
    preview = page.locator("#preview").inner_text()
    assert "Nothing changes in the next 24 hours." in preview or "shift " in preview
    screenshot(page, "preview")

    page.click("nav.callrota-nav >> text=Hold")
    page.select_option("#id_agent", label="James Smith (111111111)")
    page.select_option("#id_queue", label=f"Support ({SUPPORT})")
    page.select_option("#id_accept", "off")
    screenshot(page, "hold-form")
    page.click("input[value=Hold]")
    message = page.locator(".messagelist").inner_text()
    assert message.startswith("Done:"), message
    james_row = page.locator(f"table[data-queue='{SUPPORT}'] tr", has_text="James Smith")
    assert "held off until" in james_row.inner_text()
    assert "no" in james_row.locator("td").nth(2).inner_text()
    screenshot(page, "board-after-hold")

    # The board refreshes itself: a presence read elsewhere shows up without reloading the page.
    page.goto(f"{live_server.url}/admin/scheduler/supervision/board/?refresh=2")
    page.evaluate("window.notReloaded = true")
    olena = Agent.objects.get(provider_id=OLENA)
    QueueMembership.objects.filter(agent=olena, queue__provider_id=SUPPORT).update(accepting=None, observed_at=None)
    olena_cells = f"table[data-queue='{SUPPORT}'] tr:has-text('Olena Kovalenko') td"
    page.wait_for_selector(f"{olena_cells}:has-text('unknown')", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "board-refreshed")

    client = default_provider()
    assert client.read_queue_presence(SUPPORT)[JAMES] is False
    entry = AuditEntry.objects.filter(reason="manual override").latest("created_at")
    assert (entry.actor.username, entry.agent.provider_id, entry.new_value) == ("bob", JAMES, "false")
