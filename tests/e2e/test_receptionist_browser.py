"""A receptionist in a real browser against the live server and a real emulator process.

Log in, toggle a queue and see the emulator change and the audit row appear, step away
and back, meet the non-editable queue, and have a crafted POST for another agent refused.
"""

import re

import pytest
from django.utils import timezone

from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from queues.models import AuditEntry, Override
from scheduler.reconcile.run import reconcile_locked
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from tests.support.personas import RECEPTIONIST_PASSWORD, link_receptionist

pytestmark = pytest.mark.slow

SUPPORT, DEMO_QUEUE = "1081167000", "61986637000"
JAMES, MARIA = "111111111", "222222222"
PASSWORD = RECEPTIONIST_PASSWORD


@pytest.fixture
def rc(demo_emulator_process, transactional_db, point_app_at):
    """The emulator back at its seed, the app pointed at it, and the schedule applied as of now."""
    demo_emulator_process.reset()
    point_app_at(demo_emulator_process)
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    client = RingCentralClient(**demo_emulator_process.client_kwargs(), store=InProcessStore())
    reconcile_locked(provider=client, at=timezone.now(), trigger="test")
    return client


def log_in(page, live_server, username: str):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My queues").wait_for()


def post_crafted(page, path: str, fields: dict):
    """Submit a form the page never offered, carrying the page's own CSRF token."""
    with page.expect_navigation():
        page.evaluate(
            """([path, fields]) => {
            const form = document.createElement("form");
            form.method = "post"; form.action = path;
            const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
            for (const [name, value] of Object.entries({...fields, csrfmiddlewaretoken: token})) {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value; form.appendChild(input);
            }
            document.body.appendChild(form); form.submit();
        }""",
            [path, fields],
        )


def confirm_if_asked(page):
    """Go through the confirm step when the page asks (a queue open now would fall below its min staff)."""
    page.wait_for_load_state()
    if page.get_by_role("heading", name="Are you sure?").count():
        page.get_by_role("button", name=re.compile(" anyway$")).click()


def test_a_receptionist_toggles_her_queue_steps_away_and_comes_back(page, live_server, rc, screenshot):
    link_receptionist(JAMES, "james")
    rc.write_dnd(JAMES, "TakeAllCalls")
    page.goto(f"{live_server.url}/")
    screenshot(page, "login-desktop")
    log_in(page, live_server, "james")
    assert page.get_by_role("link", name="admin").count() == 0 and "/admin" not in page.content()
    screenshot(page, "my-queues-desktop")

    before = rc.read_queue_presence(SUPPORT)[JAMES]
    support = page.locator(f"section[aria-labelledby=q-{SUPPORT}]")
    support.get_by_role("button", name="Stop taking Support calls" if before else "Take Support calls").click()
    confirm_if_asked(page)  # while Support is open and would go below min staff, she confirms first
    done = page.locator(".messages .success")
    assert done.inner_text().startswith(f"Done: you are {'not taking' if before else 'taking'} Support calls until")
    assert rc.read_queue_presence(SUPPORT)[JAMES] is (not before)
    row = AuditEntry.objects.get(actor__username="james", reason="manual override")
    assert (row.queue.provider_id, row.field, row.outcome) == (SUPPORT, "queue_calls", "applied")
    assert support.get_by_text("Your change:").is_visible()
    screenshot(page, "toggled-desktop")

    page.get_by_role("button", name="Step away").click()
    confirm_if_asked(page)
    assert page.locator(".messages .success").inner_text().startswith("Done: you are away")
    assert rc.read_dnd([JAMES]) == {JAMES: "DoNotAcceptDepartmentCalls"}
    assert page.get_by_text("You are away: queue calls do not reach you").is_visible()
    screenshot(page, "away-desktop")
    page.get_by_role("button", name="I'm back").click()
    assert page.locator(".messages .success").inner_text().startswith("Done: you are back, taking all calls")
    assert rc.read_dnd([JAMES]) == {JAMES: "TakeAllCalls"}
    fields = list(AuditEntry.objects.filter(actor__username="james").order_by("id").values_list("field", "new_value"))
    assert fields[1:] == [("dnd", "DoNotAcceptDepartmentCalls"), ("dnd", "TakeAllCalls")]


def test_the_non_editable_queue_and_another_agents_id_are_refused_on_a_phone(phone_page, live_server, rc, screenshot):
    link_receptionist(MARIA, "maria")
    page = phone_page
    log_in(page, live_server, "maria")
    demo = page.locator(f"section[aria-labelledby=q-{DEMO_QUEUE}]")
    assert demo.get_by_role("button").is_disabled()
    assert demo.get_by_text("Only a supervisor can change this queue").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    screenshot(page, "my-queues-phone")
    before = rc.read_queue_presence(DEMO_QUEUE)[MARIA]

    post_crafted(page, "/toggle/", {"agent": MARIA, "queue": DEMO_QUEUE, "accept": "off" if before else "on"})
    assert "Demo call queue does not let its members change their own status" in page.locator(".messages").inner_text()
    assert rc.read_queue_presence(DEMO_QUEUE)[MARIA] is before and not Override.objects.exists()
    screenshot(page, "non-editable-refused-phone")

    post_crafted(page, "/toggle/", {"agent": JAMES, "queue": SUPPORT, "accept": "off"})
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    attempt = AuditEntry.objects.get(actor__username="maria", reason="refused: not the user's own agent")
    assert (attempt.agent.provider_id, attempt.error_code) == (JAMES, "403")
    screenshot(page, "forbidden-phone")
