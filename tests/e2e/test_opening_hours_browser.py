"""Opening hours in a real browser: gaps counted only while a queue is open, hours entered in admin, and a
receptionist who would leave an open queue below its min staff confirming first.

Real chromium, a live Django server, the demo schedule (whose queues have opening hours) and, for the
receptionist, the demo RingCentral emulator. Screenshots go under test-artifacts/screenshots/.
"""

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from queues.models import CallQueue, Override
from scheduler.reconcile.run import reconcile_locked
from scheduler.roles import SUPERVISOR, ensure_supervisor_group
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from tests.support.personas import RECEPTIONIST_PASSWORD, link_receptionist

pytestmark = pytest.mark.slow
NEW_YORK = ZoneInfo("America/New_York")
SUPPORT, JAMES = "1081167000", "111111111"
PASSWORD = "pw-bob-hours-123"
# Each demo queue's opening hours (scheduler/demo/schedule.yaml), New York: weekdays it opens, opens, closes.
DEMO_HOURS = {
    "Support": (range(5), time(8), time(20)),
    "Dr. Adams": (range(5), time(9), time(17)),
    "Dr. Baker": (range(5), time(9), time(17)),
}
TUESDAY_0930 = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # Support open; mornings: James and Maria, min staff 2


@pytest.fixture
def supervisor(transactional_db):
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    ensure_supervisor_group()
    user = get_user_model().objects.create_user("bob", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISOR))  # a supervisor edits a queue's hours in admin
    return user


def log_in(page, live_server, next_url):
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "bob")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def coverage_rows(page) -> list[tuple[str, datetime, datetime]]:
    rows = []
    for cells in page.locator("table#coverage tbody tr").all():
        texts = [c.inner_text() for c in cells.locator("td").all()]
        if len(texts) == 6:
            start, end = (datetime.strptime(t, "%a %Y-%m-%d %H:%M") for t in texts[1:3])
            rows.append((texts[0], start, end))
    return rows


@pytest.mark.parametrize("viewport", ["page", "phone_page"])
def test_gaps_are_counted_only_in_open_hours_so_the_demo_shows_none_at_night(
    request, viewport, live_server, supervisor, screenshot
):
    page = request.getfixturevalue(viewport)
    log_in(page, live_server, "/admin/scheduler/supervision/coverage/?tz=America/New_York&day=2026-11-30&days=7")
    assert page.locator("h1").inner_text() == "Coverage"
    gaps = coverage_rows(page)
    screenshot(page, f"coverage-{viewport}")
    assert gaps, "the demo has daytime gaps (Support evenings, the doctors on the days James is elsewhere)"
    for name, start, end in gaps:
        days, opens, closes = DEMO_HOURS[name]
        assert start.weekday() in days and start.date() == end.date(), (name, start, end)
        assert opens <= start.time() and end.time() <= closes, (name, start, end)  # none at night
    assert not any(start.weekday() >= 5 for _, start, _ in gaps)  # nor at the weekend


def test_hours_entered_in_admin_change_what_coverage_counts(page, live_server, supervisor, screenshot):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    log_in(page, live_server, f"/admin/queues/callqueue/{support.pk}/change/")
    assert page.locator("select#id_hours_timezone").input_value() == "America/New_York"
    ranges = page.locator("#opening_ranges-group")
    assert ranges.locator("tbody tr.has_original").count() == 5
    screenshot(page, "queue-hours-admin")
    for row in range(5):  # Support now closes at 12:00: its evening gaps are gone
        page.fill(f"#id_opening_ranges-{row}-closes", "12:00")
    page.click("input[name=_save]")
    assert "was changed successfully" in page.locator(".messagelist").inner_text()
    page.goto(f"{live_server.url}/admin/scheduler/supervision/coverage/?tz=America/New_York&day=2026-11-30&days=7")
    assert not [g for g in coverage_rows(page) if g[0] == "Support"]
    support.refresh_from_db()
    assert support.hours_source == CallQueue.HoursSource.ADMIN


@pytest.fixture
def james_on_tuesday_morning(demo_emulator_process, transactional_db, point_app_at):
    demo_emulator_process.reset()
    point_app_at(demo_emulator_process)
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    link_receptionist(JAMES, "james")
    rc = RingCentralClient(**demo_emulator_process.client_kwargs(), store=InProcessStore())
    with time_machine.travel(TUESDAY_0930, tick=True):
        reconcile_locked(provider=rc, at=TUESDAY_0930, trigger="test")
        yield rc


@pytest.mark.parametrize("viewport", ["page", "phone_page"])
def test_a_receptionist_confirms_before_leaving_an_open_queue_short(
    request, viewport, live_server, james_on_tuesday_morning, screenshot
):
    page = request.getfixturevalue(viewport)
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("james")
    page.get_by_label("Password").fill(RECEPTIONIST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    support = page.locator(f"section[aria-labelledby=q-{SUPPORT}]")
    support.get_by_role("button", name="Stop taking Support calls").click()

    page.get_by_role("heading", name="Are you sure?").wait_for()
    assert "Support needs 2 taking its calls now" in page.get_by_role("alert").inner_text()
    assert not Override.objects.exists()  # nothing changed yet
    screenshot(page, f"confirm-short-{viewport}")
    page.get_by_role("link", name="No, keep taking calls").click()
    page.get_by_role("heading", name="My queues").wait_for()
    assert james_on_tuesday_morning.read_queue_presence(SUPPORT)[JAMES] is True

    support.get_by_role("button", name="Stop taking Support calls").click()
    page.get_by_role("button", name=re.compile("anyway$")).click()
    assert page.locator(".messages .success").inner_text().startswith("Done: you are not taking Support calls")
    assert "below its min staff" in page.locator(".messages .warning").inner_text()
    assert james_on_tuesday_morning.read_queue_presence(SUPPORT)[JAMES] is False
