"""The reconciler against a real demo_emulator process: diff, fewest writes, audit, drift, failures, overrides."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from queues.models import AuditEntry, CallQueue, Override, QueueMembership
from scheduler.reconcile.run import reconcile, reconcile_locked

MORNING = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # Tue 08:00 New York: Support mornings start
NOON = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 12:00: mornings end, evenings start
SUPPORT, DEMO_QUEUE = "1081167000", "61986637000"
JAMES, MARIA, OLENA = "111111111", "222222222", "333333333"


def writes(demo_emulator) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in demo_emulator.requests() if r["method"] == "PUT"]


def test_first_run_applies_the_plan_and_the_second_writes_nothing(demo_emulator, demo_rc):
    first = reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    assert first.writes > 0 and not first.failed
    assert demo_rc.read_queue_presence(SUPPORT) == {JAMES: True, MARIA: True, OLENA: False}
    assert demo_rc.read_queue_presence("62284876000") == {JAMES: False}  # Dr. Adams desk starts at 09:00
    assert demo_rc.read_dnd([JAMES, MARIA]) == {JAMES: "TakeAllCalls", MARIA: "TakeAllCalls"}
    demo_emulator.clear_requests()
    second = reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    assert (second.writes, second.changes) == (0, [])
    assert writes(demo_emulator) == []


def test_every_change_is_audited_with_its_reason_and_call(demo_emulator, demo_rc):
    reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    result = reconcile_locked(provider=demo_rc, at=NOON, trigger="test")
    rows = AuditEntry.objects.filter(run=result.run)
    assert rows.count() == len(result.changes) > 0
    james_support = rows.get(agent__provider_id=JAMES, queue__provider_id=SUPPORT)
    assert (james_support.old_value, james_support.new_value) == ("true", "false")
    assert james_support.reason == "shift end: Support mornings"
    assert james_support.outcome == "applied" and james_support.actor is None
    maria_demo = rows.get(agent__provider_id=MARIA, queue__provider_id=DEMO_QUEUE)
    assert maria_demo.reason == "shift start: Support evenings"
    # The field in neutral words; the call, RingCentral's: the demo queue is not member-editable.
    assert maria_demo.field == "queue_calls"
    assert maria_demo.api_call.startswith(f"PUT call-queues/{DEMO_QUEUE}/presence #")
    assert len({r.api_call for r in rows}) == result.writes


def test_a_late_run_heals_missed_boundaries(demo_emulator, demo_rc):
    reconcile_locked(provider=demo_rc, at=MORNING - timedelta(hours=20), trigger="test")  # the evening before
    late = reconcile_locked(provider=demo_rc, at=NOON + timedelta(minutes=30), trigger="test")
    assert not late.failed
    assert demo_rc.read_queue_presence(SUPPORT) == {JAMES: False, MARIA: True, OLENA: False}


def test_drift_is_corrected_when_the_queue_enforces(demo_emulator, demo_rc):
    reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    demo_rc.write_queue_presence(SUPPORT, {JAMES: False})  # James steps out between boundaries
    result = reconcile_locked(provider=demo_rc, at=MORNING + timedelta(minutes=5), trigger="test")
    assert [(c.target.agent_id, c.reason, c.outcome) for c in result.changes] == [
        (JAMES, "drift correction", "applied")
    ]
    assert demo_rc.read_queue_presence(SUPPORT)[JAMES] is True


def test_drift_is_noted_once_and_left_when_the_queue_does_not_enforce(demo_emulator, demo_rc):
    CallQueue.objects.filter(provider_id=SUPPORT).update(enforce=False)
    reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    demo_rc.write_queue_presence(SUPPORT, {JAMES: False})
    for minutes in (5, 6):
        result = reconcile_locked(provider=demo_rc, at=MORNING + timedelta(minutes=minutes), trigger="test")
        assert result.writes == 0
    noted = AuditEntry.objects.filter(reason="drift")
    assert [(r.agent.provider_id, r.outcome, r.old_value, r.new_value) for r in noted] == [
        (JAMES, "skipped", "false", "true")
    ]
    assert demo_rc.read_queue_presence(SUPPORT)[JAMES] is False
    # the next boundary still applies the schedule
    result = reconcile_locked(provider=demo_rc, at=NOON, trigger="test")
    assert not any(c.target.agent_id == JAMES and c.target.queue_id == SUPPORT for c in result.changes)


def test_a_pair_the_provider_does_not_list_is_a_problem_not_a_crash(demo_emulator, demo_rc):
    from queues.models import Agent
    from scheduler.models import Shift

    Shift.objects.get(name="Support mornings").agents.add(Agent.objects.create(provider_id="999", name="Ghost"))
    result = reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    assert f"queue {SUPPORT}: agent 999 is not a member at the provider" in result.problems
    assert not result.failed and demo_rc.read_queue_presence(SUPPORT)[JAMES] is True


def test_an_override_holds_across_runs_until_it_expires(demo_emulator, demo_rc):
    reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    james = QueueMembership.objects.get(queue__provider_id=SUPPORT, agent__provider_id=JAMES)
    Override.objects.create(
        agent=james.agent, queue=james.queue, accept=False, starts_at=MORNING, until=MORNING + timedelta(minutes=50)
    )
    held = reconcile_locked(provider=demo_rc, at=MORNING + timedelta(minutes=1), trigger="test")
    assert [(c.reason, c.new) for c in held.changes] == [("manual override", False)]
    still = reconcile_locked(provider=demo_rc, at=MORNING + timedelta(minutes=30), trigger="test")
    assert still.changes == [] and demo_rc.read_queue_presence(SUPPORT)[JAMES] is False
    released = reconcile_locked(provider=demo_rc, at=MORNING + timedelta(minutes=50), trigger="test")
    assert [(c.reason, c.new) for c in released.changes] == [("shift start: Support mornings", True)]
    assert demo_rc.read_queue_presence(SUPPORT)[JAMES] is True


def test_dry_run_writes_nothing_and_records_nothing(demo_emulator, demo_rc):
    result = reconcile(provider=demo_rc, at=MORNING, trigger="test", dry_run=True)
    assert result.changes and result.writes > 0
    assert writes(demo_emulator) == [] and not AuditEntry.objects.exists()


def test_reconcile_command_prints_json_and_exits_1_on_failure(demo_emulator, demo_rc, monkeypatch):
    import json

    monkeypatch.setattr("scheduler.management.commands.reconcile.default_provider", lambda: demo_rc)
    out = StringIO()
    call_command("reconcile", "--at", MORNING.isoformat(), "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["at"] == MORNING.isoformat() and printed["writes"] > 0
    assert {"queue", "agent", "field", "old", "new", "outcome"} <= set(printed["changes"][0])


def test_a_boundary_run_reads_and_writes_only_what_changes_there(demo_emulator, demo_rc):
    reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    demo_emulator.clear_requests()
    nine = MORNING + timedelta(hours=1)  # Dr. Adams front desk starts: one pair changes
    result = reconcile_locked(provider=demo_rc, at=nine, trigger="test", boundary=nine)
    assert [(c.target.queue_id, c.target.agent_id, c.new) for c in result.changes] == [("62284876000", JAMES, True)]
    reads = [r["path"] for r in demo_emulator.requests() if r["method"] == "GET"]
    assert len(reads) == 1 and "62284876000" in reads[0]


def test_failed_writes_are_audited_with_the_code_and_retried_by_the_next_run(demo_emulator, demo_rc):
    demo_emulator.configure(write_fail_rate=1.0)
    quick = RingCentralClient(
        **demo_emulator.client_kwargs(), store=InProcessStore(), backoff=(0.01, 0.02), max_attempts=2
    )
    failed = reconcile_locked(provider=quick, at=MORNING, trigger="test")
    assert failed.failed and failed.changes
    rows = AuditEntry.objects.filter(run=failed.run)
    assert {r.outcome for r in rows} == {"failed"} and {r.error_code for r in rows} == {"CMN-201"}
    demo_emulator.configure(write_fail_rate=0.0)
    healed = reconcile_locked(provider=demo_rc, at=MORNING + timedelta(minutes=1), trigger="test")
    assert not healed.failed
    retried = {(c.target.agent_id, c.target.queue_id or None, c.reason) for c in healed.changes}
    assert retried == {(c.target.agent_id, c.target.queue_id or None, c.reason) for c in failed.changes}
    assert demo_rc.read_queue_presence(SUPPORT) == {JAMES: True, MARIA: True, OLENA: False}


def test_reconcile_command_exits_1_when_a_change_failed(demo_emulator, demo_rc, monkeypatch):
    demo_emulator.configure(write_fail_rate=1.0)
    quick = RingCentralClient(
        **demo_emulator.client_kwargs(), store=InProcessStore(), backoff=(0.01, 0.02), max_attempts=1
    )
    monkeypatch.setattr("scheduler.management.commands.reconcile.default_provider", lambda: quick)
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("reconcile", "--at", MORNING.isoformat(), stdout=out)
    assert error.value.returncode == 1
    assert (
        "failed   James Smith / Dr. Adams: True -> False (shift end: Dr. Adams front desk) [CMN-201]" in out.getvalue()
    )
