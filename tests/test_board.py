"""The now board's data and the plan preview: scheduled vs accepting, marks, overrides, live status."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import LiveStatus
from queues.models import Agent, CallQueue, Override, QueueMembership
from scheduler.selectors import schedule_snapshot
from scheduler.supervisor.board import now_board
from scheduler.supervisor.preview import preview

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tue 10:00 New York: Support mornings and Dr. Adams running
SUPPORT, JAMES, MARIA, OLENA = "1081167000", "111111111", "222222222", "333333333"


def queue_of(board, provider_id):
    return next(q for q in board if q.queue.provider_id == provider_id)


def seen(agent_id, accepting, ago=timedelta(minutes=5), queue_id=SUPPORT):
    QueueMembership.objects.update_or_create(
        queue=CallQueue.objects.get(provider_id=queue_id),
        agent=Agent.objects.get(provider_id=agent_id),
        defaults={"accepting": accepting, "observed_at": NOW - ago},
    )


def test_scheduled_agents_are_listed_even_before_anything_was_read(demo):
    support = queue_of(now_board(at=NOW), SUPPORT)
    assert [(r.agent.provider_id, r.scheduled, r.accepting) for r in support.rows] == [
        (JAMES, True, None),
        (MARIA, True, None),
        (OLENA, False, None),
    ]
    assert (support.scheduled, support.accepting, support.below_min, support.differs) == (2, 0, True, False)


def test_actual_matching_the_plan_at_min_staff_has_no_marks(demo):
    seen(JAMES, True), seen(MARIA, True), seen(OLENA, False)
    support = queue_of(now_board(at=NOW), SUPPORT)
    assert (support.accepting, support.below_min, support.differs) == (2, False, False)
    assert support.rows[0].age == timedelta(minutes=5)


def test_an_agent_who_switched_off_is_marked_and_drops_the_queue_below_min(demo):
    seen(JAMES, False), seen(MARIA, True), seen(OLENA, False)
    support = queue_of(now_board(at=NOW), SUPPORT)
    assert [r.agent.provider_id for r in support.rows if r.differs] == [JAMES]
    assert support.below_min and support.differs


def test_an_override_is_what_the_plan_wants_while_it_holds(demo):
    seen(JAMES, False), seen(MARIA, True)
    james, support = Agent.objects.get(provider_id=JAMES), CallQueue.objects.get(provider_id=SUPPORT)
    Override.objects.create(agent=james, queue=support, accept=False, starts_at=NOW, until=NOW + timedelta(hours=1))
    row = queue_of(now_board(at=NOW), SUPPORT).rows[0]
    assert (row.scheduled, row.held is not None, row.wanted, row.differs) == (True, True, False, False)


def test_live_status_is_shown_when_a_provider_reported_one(demo):
    seen(JAMES, True)
    LiveStatus.objects.create(agent=Agent.objects.get(provider_id=JAMES), provider="ringplan", status="On call",
                              updated_at=NOW)  # fmt: skip
    rows = queue_of(now_board(at=NOW), SUPPORT).rows
    assert [r.live_status for r in rows] == ["On call", "", ""]


def test_the_board_reads_in_a_constant_number_of_queries(demo):
    with CaptureQueriesContext(connection) as few:
        now_board(at=NOW)
    for agent_id in (JAMES, MARIA, OLENA):
        seen(agent_id, True)
    with CaptureQueriesContext(connection) as more:
        now_board(at=NOW)
    assert len(more.captured_queries) <= len(few.captured_queries) <= 10  # none per agent or queue


def test_preview_lists_each_boundarys_changes_with_reasons(demo):
    end = NOW + timedelta(hours=24)
    steps = preview(schedule_snapshot(start=NOW, end=end), NOW, end)
    noon = steps[0]
    assert noon.at == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    assert {(c.agent_id, c.queue_id, c.old, c.new, c.reason) for c in noon.changes} >= {
        (JAMES, SUPPORT, True, False, "shift end: Support mornings"),
        (MARIA, "61986637000", False, True, "shift start: Support evenings"),
    }
    dnd = [c for s in steps for c in s.changes if c.queue_id is None and c.agent_id == JAMES]
    assert (dnd[0].old, dnd[0].new) == ("TakeAllCalls", "DoNotAcceptDepartmentCalls")  # off shift at 17:00 NY
    assert all(s.changes for s in steps)


def test_an_agent_whose_dnd_keeps_queue_calls_away_is_not_counted_and_the_board_says_why(demo, client, bob):
    seen(JAMES, True), seen(MARIA, True), seen(OLENA, False)
    Agent.objects.filter(provider_id=MARIA).update(dnd_status="DoNotAcceptDepartmentCalls")
    support = queue_of(now_board(at=NOW), SUPPORT)
    maria = next(r for r in support.rows if r.agent.provider_id == MARIA)
    assert (maria.accepting, maria.taking_calls) == (True, False)
    assert "her Do Not Disturb (Do not accept queue calls) keeps queue calls away" in maria.mismatch
    assert (support.accepting, support.below_min) == (1, True)  # two switches on, one agent taking calls
    with time_machine.travel(NOW, tick=False):
        page = client.get("/admin/scheduler/supervision/board/panel/").content.decode()
    assert "accepting 1" in page and "Do not accept queue calls" in page and "no queue calls" in page
