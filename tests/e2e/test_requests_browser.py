"""Requests end to end: agents on a phone-width browser, a supervisor in the admin, a real Celery worker and
beat, a real emulator. An approved request is schedule data; the switch at the provider is the reconciler's.

Shifts start a minute or two ahead of the test, so the approved change comes due while the test waits.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import yaml
from django.contrib.auth.models import Group, User
from django.core import mail

from queues.models import Agent
from scheduler.feeds import feed_path, issue_feed
from scheduler.models import OccurrenceChange, RequestStatus, ScheduleRequest, Shift, TimeOff
from scheduler.planning import desired_state
from scheduler.roles import SUPERVISOR, ensure_supervisor_group
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import parse_schedule
from scheduler.selectors import schedule_snapshot
from tests.support.emulators import RingCentralProcess

from .stack import Stack, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "x-Secret-42"  # noqa: S105 - a made-up test password
SALES = "801"
ANN, BOB, CYD = "901", "902", "903"
SCHEDULE = {
    "timezone": "UTC",
    "queues": [{"id": SALES, "name": "Sales", "min_staff": 2}],
    "agents": [{"id": ANN, "name": "Ann"}, {"id": BOB, "name": "Bob"}, {"id": CYD, "name": "Cyd"}],
    "shifts": [
        {"name": "Day", "queues": [SALES], "agents": [ANN, BOB], "days": ["mon"], "start": "08:00", "end": "09:00"},
        # Cyd's old shift: she is a member of Sales (at the emulator too) but works none of it now.
        {"name": "Old", "queues": [SALES], "agents": [CYD], "days": ["mon"], "start": "10:00", "end": "11:00",
         "valid_until": "2020-01-06"},
    ],
}  # fmt: skip
WEEK = "mon,tue,wed,thu,fri,sat,sun"


@pytest.fixture
def emulator(tmp_path):
    with RingCentralProcess.seeded(SCHEDULE, tmp_path, "--rate-limits", "off") as process:
        yield process


@pytest.fixture
def rc(emulator):
    return emulator.client()


@pytest.fixture
def stack(emulator, tmp_path, point_app_at):
    import_schedule(parse_schedule(yaml.safe_dump(SCHEDULE)))
    point_app_at(emulator)
    for provider_id, name in ((ANN, "ann"), (BOB, "bob"), (CYD, "cyd")):
        agent = Agent.objects.get(provider_id=provider_id)
        agent.user = User.objects.create_user(name, password=PASSWORD, email=f"{name}@example.com")
        agent.save()
    ensure_supervisor_group()
    boss = User.objects.create_user("boss", password=PASSWORD, is_staff=True, email="boss@example.com")
    boss.groups.add(Group.objects.get(name=SUPERVISOR))
    stack = Stack(emulator, tmp_path)
    yield stack
    stack.stop()


def run_day_shift(start: datetime, end: datetime) -> None:
    """The Day shift every day from `start` to `end` (UTC wall times, to the second)."""
    Shift.objects.filter(name="Day").update(days=WEEK, start_time=start.time(), end_time=end.time())


def next_minute(at_least: int) -> datetime:
    """The first whole minute at least `at_least` seconds from now (a time input gives minutes)."""
    return (datetime.now(UTC) + timedelta(seconds=at_least + 59)).replace(second=0, microsecond=0)


def log_in(page, live_server, username: str, path: str) -> None:
    page.goto(f"{live_server.url}{path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{path}")


def accepting(rc, agent_id: str) -> bool:
    return rc.read_queue_presence(SALES)[agent_id]


def wait_for(check, *, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the provider never followed the schedule"
        time.sleep(0.5)


def test_a_day_off_asked_on_a_phone_approved_with_its_coverage_switches_her_off_and_is_in_her_feed(
    stack, emulator, rc, live_server, phone_page, page, screenshot
):
    off_from = next_minute(at_least=50)
    run_day_shift(off_from - timedelta(minutes=5), off_from + timedelta(minutes=10))
    stack.worker()
    stack.beat()
    wait_for(lambda: accepting(rc, ANN) and accepting(rc, BOB))

    log_in(phone_page, live_server, "ann", "/my-schedule/")
    form = phone_page.get_by_role("region", name="Ask for time off")
    form.get_by_label("First day").fill(off_from.date().isoformat())
    form.get_by_label("From time").fill(f"{off_from:%H:%M}")
    form.get_by_label("To time").fill(f"{off_from + timedelta(minutes=2):%H:%M}")
    form.get_by_label("Reason").fill("dentist")
    form.get_by_role("button", name="Ask for time off").click()
    phone_page.get_by_text("Time off asked for: waiting for a supervisor.").wait_for()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    screenshot(phone_page, "asked")

    log_in(page, live_server, "boss", "/admin/scheduler/schedulerequest/pending/")
    row = page.locator("tr.pending-request")
    effect = f"Sales would be 1 of 2 on {off_from:%a %d %b %H:%M}–{off_from + timedelta(minutes=2):%H:%M}"
    assert effect in row.inner_text()
    screenshot(page, "pending")
    row.get_by_role("button", name="Approve").click()
    page.get_by_text("No request is waiting.").wait_for()
    assert TimeOff.objects.filter(agent__provider_id=ANN, start=off_from).exists()
    assert any(m.to == ["ann@example.com"] and "approved" in m.subject for m in mail.outbox)

    assert accepting(rc, ANN)  # not yet: the time off has not started
    wait_until(off_from, then=0.2)
    wait_for(lambda: not accepting(rc, ANN), seconds=15)
    assert accepting(rc, BOB)

    feed = requests.get(f"{live_server.url}{feed_path('agent', issue_feed(agent=Agent.objects.get(provider_id=ANN)))}",
                        timeout=10).text  # fmt: skip
    assert "SUMMARY:Time off: dentist" in feed
    assert f"DTSTART:{off_from:%Y%m%dT%H%M%S}Z" in feed


def test_a_trade_offered_accepted_and_approved_switches_the_colleague_on_for_that_occurrence_only(
    stack, emulator, rc, live_server, phone_page, browser, page
):
    starts = next_minute(at_least=60)
    ends = starts + timedelta(seconds=40)
    run_day_shift(starts, ends)
    today = starts.date()
    stack.worker()
    stack.beat()

    log_in(phone_page, live_server, "ann", "/my-schedule/")
    shift = phone_page.locator(".shift", has_text=f"{starts:%a %d %b %H:%M}")
    shift.get_by_text("Offer this shift").click()
    shift.get_by_label("To whom").select_option(label="Cyd")
    shift.get_by_role("button", name="Offer").click()
    phone_page.get_by_text("Shift offered: waiting for a colleague.").wait_for()
    assert any(m.to == ["cyd@example.com"] and "offered to you" in m.subject for m in mail.outbox)

    cyd_context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    cyd = cyd_context.new_page()
    log_in(cyd, live_server, "cyd", "/my-schedule/")
    cyd.locator("form.offer").get_by_role("button", name="Accept").click()
    cyd.get_by_text("Offer accepted: waiting for a supervisor.").wait_for()
    cyd_context.close()

    log_in(page, live_server, "boss", "/admin/scheduler/schedulerequest/pending/")
    assert "stays at or above its min staff" in page.locator("tr.pending-request").inner_text()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("No request is waiting.").wait_for()

    trade = ScheduleRequest.objects.get()
    assert trade.status == RequestStatus.APPROVED
    change = OccurrenceChange.objects.get()
    assert change.occurrence == today
    told = {m.to[0] for m in mail.outbox if "approved" in m.subject}
    assert told == {"ann@example.com", "cyd@example.com"}

    wait_until(starts, then=0.2)
    wait_for(lambda: accepting(rc, CYD) and accepting(rc, BOB) and not accepting(rc, ANN), seconds=15)
    wait_until(ends, then=0.2)
    wait_for(lambda: not accepting(rc, CYD), seconds=15)
    # Tomorrow's occurrence is Ann's again, and not Cyd's.
    tomorrow = starts + timedelta(days=1, seconds=1)
    plan = desired_state(schedule_snapshot(start=tomorrow, end=tomorrow + timedelta(seconds=1)), tomorrow)
    assert plan.accept[(SALES, ANN)] and not plan.accept.get((SALES, CYD), False)
