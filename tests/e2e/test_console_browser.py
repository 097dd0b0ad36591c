"""The console's lists at laptop and phone widths in real chromium: every audit column on screen at 1280 px.

Screenshots of the audit list, the shift list and form, the timeline and the board with its
"can't apply" panel are saved under test-artifacts/screenshots/.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from queues.models import Agent, AuditEntry, AuditField, CallQueue, QueueMembership
from scheduler.roles import SUPERVISOR, ensure_supervisor_group
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from tests.e2e.test_supervisor_browser import PASSWORD, log_in

pytestmark = pytest.mark.slow
SUPPORT, JAMES, MARIA = "1081167000", "111111111", "222222222"


@pytest.fixture
def supervisor(transactional_db):
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    ensure_supervisor_group()
    user = get_user_model().objects.create_user("bob", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    support = CallQueue.objects.get(provider_id=SUPPORT)
    for agent_id in (JAMES, MARIA):  # Support's members as read: Olena, on its night shift, is not one
        QueueMembership.objects.create(queue=support, agent=Agent.objects.get(provider_id=agent_id))
    for n in range(30):
        AuditEntry.objects.create(
            reason="shift end: Support evenings (a long shift name that wraps)", queue=support,
            agent=Agent.objects.get(provider_id=MARIA), field=AuditField.QUEUE_CALLS, old_value="True",
            new_value="False", outcome="failed" if n % 3 else "applied", error_code="CMN-102" if n % 3 else "",
        )  # fmt: skip
    return user


def test_every_audit_column_fits_a_laptop_screen(page, live_server, supervisor, screenshot):
    log_in(page, live_server, "/admin/queues/auditentry/")
    page.wait_for_selector("#result_list")
    headers = page.locator("#result_list thead th")
    names = [h.strip().lower() for h in headers.all_inner_texts()]
    assert [n for n in names if n] == ["when", "who", "what", "outcome", "by"]
    width = page.evaluate("document.documentElement.clientWidth")
    for i in range(headers.count()):
        box = headers.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (names[i], box, width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing to scroll sideways to
    screenshot(page, "audit-list-1280")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_console_pages_render_at_desktop_and_phone_widths(request, viewport, live_server, supervisor, screenshot):
    page = request.getfixturevalue("page" if viewport == "desktop" else "phone_page")
    log_in(page, live_server, "/admin/scheduler/supervision/board/")
    page.wait_for_selector("#content")
    panel = page.locator("#cannot-apply")
    assert "Olena Kovalenko is not a member of Support at the provider" in panel.inner_text()
    screenshot(page, f"board-{viewport}")
    page.goto(f"{live_server.url}/admin/scheduler/supervision/timeline/?days=7")
    assert page.locator("svg.timeline").count() == CallQueue.objects.count()
    screenshot(page, f"timeline-week-{viewport}")
    page.goto(f"{live_server.url}/admin/queues/auditentry/")
    screenshot(page, f"audit-list-{viewport}")
    page.goto(f"{live_server.url}/admin/scheduler/shift/")
    assert "James Smith, Maria Lopez" in page.locator("#result_list").inner_text()
    screenshot(page, f"shift-list-{viewport}")
    page.goto(f"{live_server.url}/admin/scheduler/shift/add/")
    page.check("input[name=repeats][value=other_week]")
    assert page.locator("input[name=days]").count() == 7
    screenshot(page, f"shift-form-{viewport}")


def test_the_board_reads_at_phone_width_without_scrolling_sideways(phone_page, live_server, supervisor, screenshot):
    page = phone_page
    log_in(page, live_server, "/admin/scheduler/supervision/board/")
    support = page.locator(f"table[data-queue='{SUPPORT}']")
    support.wait_for()
    screenshot(page, "board-390")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 390.5)
            .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
            .slice(0, 12)"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide  # nothing to scroll sideways to
    assert page.evaluate("window.innerWidth") == 390  # the page was not zoomed out to fit
    cells = support.locator("tr", has_text="Maria Lopez").locator("td")
    labels = [cells.nth(i).evaluate("td => getComputedStyle(td, '::before').content") for i in range(1, 6)]
    assert labels == ['"Scheduled: "', '"Accepting calls: "', '"DnD: "', '"Observed: "', '"Live status: "']
    for i in range(cells.count()):  # each value on screen, one under another
        box = cells.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (i, box)
    assert (
        support.locator("thead th").first.text_content() == "Agent"
    )  # the header row is still there for screen readers
