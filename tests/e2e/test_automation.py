"""Automation end to end: real Celery worker and beat, real emulator, real database and broker.

Shifts here are minutes or seconds long and start just ahead of the test, so a "day" of
boundaries passes in under a minute; the beat entries tick every few seconds.
"""

import signal
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from queues.models import AuditEntry, ReconcileRun
from scheduler.models import Shift
from scheduler.planning import desired_state
from scheduler.reconcile.run import reconcile_locked
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import parse_schedule
from scheduler.selectors import schedule_snapshot
from tests.support.emulators import RingCentralProcess

from .stack import Stack, seconds_from_now, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCHEDULE = {
    "timezone": "UTC",
    "queues": [
        {"id": "801", "name": "Sales"},
        {"id": "802", "name": "Billing", "editable_member_status": False},
    ],
    "agents": [
        {"id": "901", "name": "Ann", "off_shift_dnd": "DoNotAcceptDepartmentCalls"},
        {"id": "902", "name": "Bob"},
        {"id": "903", "name": "Cyd", "off_shift_dnd": "DoNotAcceptAnyCalls"},
    ],
    "shifts": [
        {
            "name": "Early",
            "queues": ["801", "802"],
            "agents": ["901", "902"],
            "days": ["mon"],
            "start": "08:00",
            "end": "09:00",
        },
        {
            "name": "Late",
            "queues": ["801"],
            "agents": ["902", "903"],
            "days": ["mon"],
            "start": "09:00",
            "end": "10:00",
        },
    ],
}
WEEK = "mon,tue,wed,thu,fri,sat,sun"


@pytest.fixture
def emulator(tmp_path):
    with RingCentralProcess.seeded(SCHEDULE, tmp_path, "--rate-limits", "off") as process:
        yield process


@pytest.fixture
def rc(emulator):
    return emulator.client()


@pytest.fixture
def stack(emulator, tmp_path):
    import_schedule(parse_schedule(yaml.safe_dump(SCHEDULE)))
    stack = Stack(emulator, tmp_path)
    yield stack
    stack.stop()


def place(name: str, start: datetime, end: datetime):
    """Move a shift to run every day from `start` to `end` (UTC wall times, to the second)."""
    Shift.objects.filter(name=name).update(days=WEEK, start_time=start.time(), end_time=end.time())


def day_of_boundaries(offset: int = 20) -> list[datetime]:
    """Early [t, t+15s), Late [t+15s, t+30s): three boundaries, the middle one a handover."""
    t = seconds_from_now(offset)
    place("Early", t, t + timedelta(seconds=15))
    place("Late", t + timedelta(seconds=15), t + timedelta(seconds=30))
    return [t, t + timedelta(seconds=15), t + timedelta(seconds=30)]


def assert_provider_matches_plan(rc, at=None):
    at = at or datetime.now(UTC)
    plan = desired_state(schedule_snapshot(start=at, end=at + timedelta(microseconds=1)), at)
    actual = {}
    for queue_id in {q for q, _ in plan.accept}:
        for agent_id, accept in rc.read_queue_presence(queue_id).items():
            actual[(queue_id, agent_id)] = accept
    assert {k: actual[k] for k in plan.accept} == plan.accept
    assert rc.read_dnd(sorted(plan.dnd)) == plan.dnd


def assert_no_duplicate_writes(emulator):
    """Every applied audit row came from one successful PUT, and no value was written twice in a row."""
    applied = AuditEntry.objects.filter(outcome="applied").order_by("created_at", "id")
    calls = {row.api_call for row in applied}
    good_puts = [r for r in emulator.requests() if r["method"] == "PUT" and r["status"] < 300]
    assert len(calls) == len(good_puts), (sorted(calls), good_puts)
    last = defaultdict(lambda: None)
    for row in applied:
        key = (row.queue_id, row.agent_id, row.field == "dnd")
        assert row.new_value != last[key], f"{key} written to {row.new_value} twice in a row"
        last[key] = row.new_value


def settle(rc, *, timeout=30):
    """Wait until the provider matches the plan (the safety net ticks every few seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return assert_provider_matches_plan(rc)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_worker_and_beat_apply_a_day_of_boundaries_on_time(stack, emulator, rc):
    boundaries = day_of_boundaries()
    stack.worker()
    stack.beat()
    wait_until(boundaries[-1], then=4)
    assert_provider_matches_plan(rc)
    for boundary, shift in zip(boundaries, ["Early", "Late", "Late"], strict=True):
        rows = AuditEntry.objects.filter(created_at__gte=boundary, created_at__lt=boundary + timedelta(seconds=5))
        assert rows.filter(outcome="applied", reason__endswith=shift).exists(), stack.logs()
        first = rows.order_by("created_at").first()
        assert (first.created_at - boundary).total_seconds() < 2, stack.logs()
    assert ReconcileRun.objects.filter(trigger="boundary").count() >= 3
    assert_no_duplicate_writes(emulator)
    stack.stop()
    emulator.clear_requests()
    again = reconcile_locked(provider=rc, trigger="test")
    assert again.writes == 0 and [r for r in emulator.requests() if r["method"] == "PUT"] == []


def test_it_heals_through_503s_and_token_expiry(stack, emulator, rc):
    emulator.configure(fail_rate=0.3)
    boundaries = day_of_boundaries()
    stack.worker()
    stack.beat()
    while datetime.now(UTC) < boundaries[-1] + timedelta(seconds=2):
        time.sleep(2.5)
        emulator.expire_tokens()  # RingCentral may revoke a token at any time: the next call gets 401
    emulator.configure(fail_rate=0.0)
    settle(rc)
    assert_no_duplicate_writes(emulator)
    statuses = {r["status"] for r in emulator.requests()}
    assert 503 in statuses and 401 in statuses  # the faults really happened


def test_a_worker_killed_mid_run_is_healed_by_the_next_one(stack, emulator, rc):
    emulator.configure(latency=0.4)  # a run now takes seconds: long enough to be killed inside it
    first = stack.worker()
    stack.beat()
    deadline = time.monotonic() + 30
    while not AuditEntry.objects.exists():  # a run is writing
        assert time.monotonic() < deadline, stack.logs()
        time.sleep(0.1)
    stack.kill(first, signal.SIGKILL)
    assert ReconcileRun.objects.filter(finished_at__isnull=True).exists()  # the trail shows the cut run
    emulator.configure(latency=0.0)
    stack.worker()
    settle(rc, timeout=60)  # the dead run's lease lapses (30 s), then the next run finishes the job
    assert ReconcileRun.objects.filter(finished_at__isnull=False).exists()
    assert_no_duplicate_writes(emulator)


def test_three_hours_without_beat_are_healed_by_the_first_sweep(stack, emulator, rc):
    now = datetime.now(UTC).replace(microsecond=0)
    place("Early", now - timedelta(hours=4), now - timedelta(hours=1))  # ended while beat was away
    place("Late", now - timedelta(hours=2), now + timedelta(hours=2))  # started while beat was away
    reconcile_locked(provider=rc, at=now - timedelta(hours=3), trigger="test")  # the last run before the gap
    stack.worker()
    stack.beat()
    settle(rc)
    reasons = set(AuditEntry.objects.filter(run__trigger="sweep").values_list("reason", flat=True))
    assert {"shift end: Early", "shift start: Late"} <= reasons
    assert_no_duplicate_writes(emulator)


def test_two_beats_at_once_write_each_change_once(stack, emulator, rc):
    boundaries = day_of_boundaries()
    stack.worker()
    stack.beat()
    stack.beat()
    wait_until(boundaries[-1], then=4)
    assert_provider_matches_plan(rc)
    assert_no_duplicate_writes(emulator)
