"""Overrides through scheduler.reconcile.overrides against a real demo_emulator: written at once, audited,
held by the reconciler."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from queues.models import Agent, AuditEntry, CallQueue, Override, QueueMembership
from scheduler.models import TimeOff
from scheduler.reconcile.locks import lease
from scheduler.reconcile.overrides import cancel_override, default_until, place_override
from scheduler.reconcile.run import reconcile_locked

MORNING = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # Tue 08:00 New York: Support mornings start
NOON = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 12:00 New York
SUPPORT, ADAMS, DEMO_QUEUE = "1081167000", "62284876000", "61986637000"
JAMES, MARIA = "111111111", "222222222"


@pytest.fixture
def james(demo_emulator):
    agent = Agent.objects.get(provider_id=JAMES)
    agent.user = User.objects.create_user("james", password="x-Secret-42")
    agent.save()
    return agent


def queue(provider_id):
    return CallQueue.objects.get(provider_id=provider_id)


def puts(demo_emulator):
    return [r["path"].split("/restapi/v1.0/account/~/")[-1] for r in demo_emulator.requests() if r["method"] == "PUT"]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (MORNING, datetime(2026, 11, 24, 14, 0, tzinfo=UTC)),  # 08:00: Dr. Adams desk starts at 09:00
        (MORNING + timedelta(hours=1, minutes=30), NOON),  # 09:30: Support mornings end at 12:00
        (datetime(2026, 11, 24, 23, 0, tzinfo=UTC), datetime(2026, 11, 25, 13, 0, tzinfo=UTC)),  # evening: next 08:00
        (datetime(2026, 11, 28, 0, 0, tzinfo=UTC), datetime(2026, 11, 29, 0, 0, tzinfo=UTC)),  # weekend off: 24 h cap
    ],
)
def test_default_until_is_the_agents_next_boundary_capped_at_a_day(james, at, expected):
    assert default_until(agent=james, at=at) == expected


def test_default_until_stops_at_time_off(james):
    TimeOff.objects.create(agent=james, start=MORNING + timedelta(minutes=20), end=NOON, timezone="UTC")
    assert default_until(agent=james, at=MORNING) == MORNING + timedelta(minutes=20)


def test_a_toggle_is_written_at_once_through_the_agents_own_call_and_audited(demo_emulator, demo_rc, james):
    reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    demo_emulator.clear_requests()
    at = MORNING + timedelta(hours=1, minutes=30)
    outcome = place_override(agent=james, actor=james.user, queue=queue(SUPPORT), accept=False, provider=demo_rc, at=at)
    assert outcome.applied and outcome.error is None
    assert outcome.message == "Done: you are not taking Support calls until 12:00, when Support mornings ends."
    assert puts(demo_emulator) == [f"extension/{JAMES}/call-queue-presence"]
    assert demo_rc.read_queue_presence(SUPPORT)[JAMES] is False
    row = AuditEntry.objects.get(reason="manual override")
    assert (row.actor, row.agent, row.queue, row.field) == (james.user, james, queue(SUPPORT), "queue_calls")
    assert (row.old_value, row.new_value, row.outcome) == ("true", "false", "applied")
    assert row.api_call == f"PUT extension/{JAMES}/call-queue-presence override #{outcome.override.pk}"
    assert outcome.override.until == NOON and outcome.override.created_by == james.user


def test_an_override_holds_across_reconcile_runs_until_it_expires(demo_emulator, demo_rc, james):
    reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    at = MORNING + timedelta(minutes=10)
    outcome = place_override(
        agent=james, actor=james.user, queue=queue(SUPPORT), accept=False, until=at + timedelta(minutes=30),
        provider=demo_rc, at=at,
    )  # fmt: skip
    assert outcome.applied
    demo_emulator.clear_requests()
    for minutes in (1, 15, 29):
        held = reconcile_locked(provider=demo_rc, at=at + timedelta(minutes=minutes), trigger="test")
        assert (held.writes, held.changes) == (0, [])
    assert puts(demo_emulator) == [] and demo_rc.read_queue_presence(SUPPORT)[JAMES] is False
    released = reconcile_locked(provider=demo_rc, at=at + timedelta(minutes=30), trigger="test")
    assert [(c.target.agent_id, c.reason, c.new) for c in released.changes] == [
        (JAMES, "shift start: Support mornings", True)
    ]
    assert demo_rc.read_queue_presence(SUPPORT)[JAMES] is True


def test_a_failed_write_keeps_the_override_says_so_and_the_reconciler_retries(demo_emulator, demo_rc, james):
    reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    demo_emulator.configure(fail_rate=1.0)
    outcome = place_override(
        agent=james, actor=james.user, queue=queue(SUPPORT), accept=False, provider=demo_rc, at=MORNING
    )
    assert not outcome.applied and outcome.error.status == 503
    assert outcome.message.startswith("Not done: RingCentral is busy, we will retry (CMN-201, HTTP 503).")
    assert Override.objects.active(MORNING).get() == outcome.override
    failed = AuditEntry.objects.get(reason="manual override")
    assert (failed.outcome, failed.error_code) == ("failed", "CMN-201")
    demo_emulator.configure(fail_rate=0.0)
    retried = reconcile_locked(provider=demo_rc, at=MORNING + timedelta(minutes=1), trigger="test")
    assert [(c.reason, c.new, c.outcome) for c in retried.changes] == [("manual override", False, "applied")]


def test_a_non_editable_queue_goes_through_the_queues_own_call(demo_emulator, demo_rc):
    maria = Agent.objects.get(provider_id=MARIA)
    supervisor = User.objects.create_user("boss", is_staff=True)
    demo_emulator.clear_requests()
    outcome = place_override(
        agent=maria, actor=supervisor, queue=queue(DEMO_QUEUE), accept=True, provider=demo_rc, at=NOON
    )
    assert outcome.applied and outcome.message.startswith("Done: Maria Lopez is taking Demo call queue calls until")
    assert puts(demo_emulator) == [f"call-queues/{DEMO_QUEUE}/presence"]
    assert AuditEntry.objects.get().field == "queue_calls"


def test_step_away_and_back_write_dnd_and_replace_each_other(demo_emulator, demo_rc, james):
    away = place_override(
        agent=james, actor=james.user, dnd_status="DoNotAcceptDepartmentCalls", provider=demo_rc, at=MORNING
    )
    assert away.applied and demo_rc.read_dnd([JAMES]) == {JAMES: "DoNotAcceptDepartmentCalls"}
    assert away.message.startswith("Done: you are away (do not accept queue calls) until")
    back = place_override(agent=james, actor=james.user, dnd_status="TakeAllCalls", provider=demo_rc, at=MORNING)
    assert back.applied and demo_rc.read_dnd([JAMES]) == {JAMES: "TakeAllCalls"}
    away.override.refresh_from_db()
    assert away.override.cancelled_by == james.user
    assert list(Override.objects.active(MORNING)) == [back.override]
    james.refresh_from_db()
    assert (james.dnd_status, james.dnd_planned) == ("TakeAllCalls", "TakeAllCalls")
    assert [r.field for r in AuditEntry.objects.all()] == ["dnd", "dnd"]


def test_cancel_writes_the_schedules_value_back_at_once(demo_emulator, demo_rc, james):
    reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    placed = place_override(agent=james, actor=james.user, queue=queue(SUPPORT), accept=False, provider=demo_rc)
    # now (the real clock) is whatever it is; the schedule's value then is what must come back
    from scheduler.receptionist.selectors import agent_plan

    now = placed.override.starts_at
    wanted = agent_plan(james, start=now - timedelta(days=2), end=now + timedelta(days=1)).value(now, SUPPORT)
    cancelled = cancel_override(placed.override, actor=james.user, provider=demo_rc)
    assert cancelled.applied and cancelled.message.startswith("Cancelled: back on the schedule")
    assert demo_rc.read_queue_presence(SUPPORT)[JAMES] is wanted
    placed.override.refresh_from_db()
    assert placed.override.cancelled_by == james.user and not Override.objects.active(now).exists()
    assert AuditEntry.objects.filter(reason="manual override cancelled", outcome="applied").count() == 1
    again = cancel_override(placed.override, actor=james.user, provider=demo_rc)
    assert not again.applied and "already cancelled" in again.message


def test_a_placed_override_is_remembered_so_the_next_run_writes_nothing(demo_emulator, demo_rc, james):
    reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    place_override(agent=james, actor=james.user, queue=queue(SUPPORT), accept=False, provider=demo_rc, at=MORNING)
    membership = QueueMembership.objects.get(agent=james, queue__provider_id=SUPPORT)
    assert (membership.accepting, membership.planned) == (False, False)
    demo_emulator.clear_requests()
    after = reconcile_locked(provider=demo_rc, at=MORNING + timedelta(minutes=1), trigger="test")
    assert (after.writes, after.changes, puts(demo_emulator)) == (0, [], [])


def test_an_override_is_still_written_when_a_reconcile_run_holds_the_lease_too_long(
    demo_emulator, demo_rc, james, monkeypatch
):
    monkeypatch.setattr("scheduler.reconcile.overrides.LEASE_WAIT", 0.3)
    with lease(f"ringcentral:queue:{SUPPORT}"):  # a run on her queue
        started = time.monotonic()
        outcome = place_override(agent=james, actor=james.user, queue=queue(SUPPORT), accept=False, provider=demo_rc)
        waited = time.monotonic() - started
    assert outcome.applied and demo_rc.read_queue_presence(SUPPORT)[JAMES] is False
    assert waited >= 0.3  # it waited for the run in flight before writing without it
