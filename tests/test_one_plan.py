"""One plan: a hold placed once shows the same in plan --json, the preview, the board and the receptionist page."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client

from queues.models import Agent, CallQueue
from scheduler.reconcile.overrides import place_override
from scheduler.reconcile.run import reconcile_locked
from scheduler.roles import SUPERVISOR
from scheduler.supervisor.board import now_board

NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # Tue 09:30 New York: James on Support mornings
UNTIL = NOW + timedelta(minutes=90)  # 11:00 New York
SUPPORT, JAMES = "1081167000", "111111111"


@pytest.fixture
def held(demo_emulator, demo_rc, point_app_at):
    """James holds Support off until 11:00, placed as a receptionist would."""
    point_app_at(demo_emulator)
    james = Agent.objects.get(provider_id=JAMES)
    james.user = User.objects.create_user("james", password="x-Secret-42")
    james.save()
    with time_machine.travel(NOW, tick=False):
        reconcile_locked(provider=demo_rc, at=NOW, trigger="test")
        outcome = place_override(agent=james, actor=james.user, queue=CallQueue.objects.get(provider_id=SUPPORT),
                                 accept=False, until=UNTIL, provider=demo_rc, at=NOW)  # fmt: skip
        assert outcome.applied
        yield outcome.override


def plan(*options) -> dict:
    out = StringIO()
    call_command("plan", "--json", "--at", NOW.isoformat(), *options, stdout=out)
    return json.loads(out.getvalue())


def test_plan_json_applies_the_hold_and_lists_it(held):
    effective, bare = plan(), plan("--schedule-only")
    assert effective["queues"][SUPPORT][JAMES] is False and bare["queues"][SUPPORT][JAMES] is True
    assert effective["overrides"] == [{"agent": JAMES, "queue": SUPPORT, "value": False, "until": UNTIL.isoformat()}]
    assert bare["overrides"] == []


def test_the_board_wants_what_the_hold_says(held):
    support = next(q for q in now_board(at=NOW) if q.queue.provider_id == SUPPORT)
    james = next(r for r in support.rows if r.agent.provider_id == JAMES)
    assert (james.scheduled, james.wanted, james.held) == (True, False, held)


def test_the_preview_shows_the_hold_ending_and_the_schedule_taking_over(held):
    supervisor = get_user_model().objects.create_user("bob", password="pw-bob-123", is_staff=True)
    supervisor.groups.add(Group.objects.get(name=SUPERVISOR))
    client = Client()
    client.force_login(supervisor)
    page = client.get("/admin/scheduler/supervision/preview/?tz=UTC").content.decode()
    hold_end = page.index("hold end: James Smith")  # the step at 16:00 UTC: James back on Support
    assert "16:00" in page[hold_end - 300 : hold_end] and "Support calls" in page[hold_end:]


def test_the_receptionist_page_shows_the_same_hold(held):
    client = Client()
    client.force_login(User.objects.get(username="james"))
    page = client.get("/").content.decode()
    assert "Your change:</strong> not taking calls until" in page
    assert f'name="override" value="{held.pk}"' in page
