"""The demo's side by side in real chromium at 1280 px: needed, scheduled and taking calls on the timeline and
the week grid, short intervals red with their projected service level in words.

The demo schedule with the call history setup_demo stores (the emulator's own), as `make run` shows it.
Screenshots are saved under test-artifacts/screenshots/.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from queues.models import ActualChange, ActualSource, Agent, CallQueue, QueueMembership, actual_changed
from scheduler.forecast.history import seed_demo_call_volume
from scheduler.roles import SUPERVISOR, ensure_supervisor_group
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from tests.e2e.test_supervisor_browser import PASSWORD, log_in

pytestmark = pytest.mark.slow
SUPPORT, JAMES, MARIA = "1081167000", "111111111", "222222222"


@pytest.fixture
def supervisor(transactional_db):
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    seed_demo_call_volume(now=timezone.now(), weeks=8)
    ensure_supervisor_group()
    user = get_user_model().objects.create_user("bob", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    support = CallQueue.objects.get(provider_id=SUPPORT)
    read_at = timezone.now() - timedelta(days=1)
    for agent_id in (JAMES, MARIA):  # as last read (yesterday): both take Support's calls, both available
        agent = Agent.objects.get(provider_id=agent_id)
        Agent.objects.filter(pk=agent.pk).update(dnd_status="TakeAllCalls")
        row = QueueMembership.objects.create(queue=support, agent=agent, accepting=True)
        actual_changed([ActualChange.of_queue_calls(row, True, read_at, ActualSource.READ),
                        ActualChange.of_dnd(agent.pk, "TakeAllCalls", read_at, ActualSource.READ)])  # fmt: skip
    return user


def test_the_timeline_shows_needed_scheduled_and_taking_calls_with_red_intervals_in_words(
    page, live_server, supervisor, screenshot
):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    log_in(page, live_server, f"/admin/scheduler/supervision/timeline/?queue={support.pk}&days=1")
    page.fill("input[name=tz]", "America/New_York")
    page.click("nav.callrota-nav button")
    timeline = page.locator("svg#timeline")
    lanes = timeline.text_content()
    assert "Needed (80% in 20 s)" in lanes and "Scheduled" in lanes and "Taking calls" in lanes
    assert timeline.locator("rect.bar.need").count() > 0
    assert timeline.locator("rect.bar.taking").count() > 0  # today up to now, from the actual-value log
    short = timeline.locator("rect.bar.short")
    assert short.count() > 0
    assert short.first.evaluate("e => getComputedStyle(e).fill") == "rgb(186, 33, 33)"  # red
    listed = page.locator(".callrota-short-of-need li")  # open in the day view
    assert listed.count() == short.count()  # every red interval in words too
    words = listed.all_inner_texts()
    assert any("service level" in w for w in words)
    assert all(w.startswith("need ") and ", scheduled " in w for w in words)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no sideways scrolling at 1280 px
    screenshot(page, "side-by-side-day")

    page.select_option("select[name=days]", "7")
    page.select_option("select[name=queue]", [])
    page.click(".callrota-timeline-form button")
    sections = page.locator("section.callrota-timeline")
    assert sections.count() == 4  # every demo queue: the week grid
    for i in range(sections.count()):
        assert "Needed (" in sections.nth(i).locator("svg.timeline").text_content()  # every demo queue has history
    assert page.locator("rect.bar.short").count() > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(page, "side-by-side-week")
