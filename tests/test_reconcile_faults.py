"""The reconciler under faults, against real emulator processes: writes whose answer never comes,
reads that fail, runs that run out of time."""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models.functions import Now

from integrations.base import ProviderError
from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from queues.models import Agent, AuditEntry, CallQueue, PendingWrite, ReconcileRun
from scheduler.models import Lease
from scheduler.reconcile.apply import LEASE_LOST, UNSETTLED, send_calls
from scheduler.reconcile.diff import Change, Target
from scheduler.reconcile.fewest_calls import Call
from scheduler.reconcile.memory import Directory
from scheduler.reconcile.overrides import place_override
from scheduler.reconcile.run import reconcile_locked
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from scheduler.tasks import reconcile_schedule
from tests.e2e.stack import database_url
from tests.support.emulators import RingCentralProcess

MORNING = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # Tue 08:00 New York: Support mornings start
SUPPORT, JAMES = "1081167000", "111111111"
READ_TIMEOUT = 0.5  # the client's; the emulator's latency goes beyond it
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def james(demo_emulator):
    return Agent.objects.get(provider_id=JAMES)


@pytest.fixture
def impatient(demo_emulator, make_client):
    """A client that stops waiting for an answer after half a second."""
    return make_client(demo_emulator, timeout=(2.0, READ_TIMEOUT), max_attempts=3)


def puts(emulator) -> list[str]:
    return [r["path"] for r in emulator.requests() if r["method"] == "PUT"]


def wait_for(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.1)


def stop_taking_support(james, provider, at):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    return place_override(agent=james, actor=None, queue=support, accept=False, provider=provider, at=at)


def write_with_no_answer(emulator, provider, james):
    """James takes Support calls; then an override stops it, in a write that lands after the client gave up."""
    reconcile_locked(provider=provider, at=MORNING, trigger="test")
    emulator.clear_requests()
    emulator.configure(latency=3 * READ_TIMEOUT)
    stop_taking_support(james, provider, MORNING + timedelta(minutes=1))
    wait_for(lambda: puts(emulator))


def test_a_write_that_times_out_is_unknown_and_the_next_run_reads_it_back_instead_of_sending_it_again(
    demo_emulator, impatient, james
):
    write_with_no_answer(demo_emulator, impatient, james)
    demo_emulator.configure(latency=0)

    [unknown] = AuditEntry.objects.filter(agent=james, reason="manual override")
    assert (unknown.outcome, unknown.new_value) == ("unknown", "false")
    assert PendingWrite.objects.filter(api_call=unknown.api_call).exists()
    after = reconcile_locked(provider=impatient, at=MORNING + timedelta(minutes=2), trigger="test")

    rows = AuditEntry.objects.filter(api_call=unknown.api_call).order_by("id")
    assert [r.outcome for r in rows] == ["unknown", "applied"]
    assert f"run {after.run.pk} read the value back" in rows[1].error_message
    assert len(puts(demo_emulator)) == 1 and after.changes == []
    assert not PendingWrite.objects.exists()


def test_a_second_write_to_a_value_whose_first_is_unknown_reads_it_back_before_sending(demo_emulator, impatient, james):
    write_with_no_answer(demo_emulator, impatient, james)
    demo_emulator.configure(latency=0)
    demo_emulator.clear_requests()

    stop_taking_support(james, impatient, MORNING + timedelta(minutes=2))

    sent = [(r["method"], r["path"]) for r in demo_emulator.requests() if "oauth" not in r["path"]]
    assert [method for method, _ in sent] == ["GET", "PUT"] and SUPPORT in sent[0][1]
    rows = AuditEntry.objects.filter(agent=james, reason="manual override").order_by("id")
    assert [r.outcome for r in rows] == ["unknown", "applied", "applied"]
    assert "a read before the next write" in rows[1].error_message


def test_nothing_is_sent_to_a_value_whose_earlier_write_is_unknown_while_it_cannot_be_read(
    demo_emulator, impatient, james
):
    write_with_no_answer(demo_emulator, impatient, james)
    demo_emulator.configure(latency=0, fail_rate=1.0)
    demo_emulator.clear_requests()

    outcome = stop_taking_support(james, impatient, MORNING + timedelta(minutes=2))

    assert not outcome.applied and puts(demo_emulator) == []
    latest = AuditEntry.objects.filter(agent=james).order_by("-id").first()
    assert (latest.outcome, latest.error_code) == ("failed", UNSETTLED)
    assert PendingWrite.objects.count() == 1  # the unknown one, still waiting for a read


def test_a_write_whose_connection_drops_after_sending_is_unknown_not_retried():
    emulator = RingCentralProcess(DEMO_SCHEDULE, "--rate-limits", "off").start()
    try:
        rc = RingCentralClient(**emulator.client_kwargs(), store=InProcessStore(), backoff=(0.01, 0.02))
        rc.read_queue_presence(SUPPORT)  # logged in
        emulator.configure(latency=2.0)
        stopper = threading.Timer(0.5, emulator.stop)  # while the write waits for its answer
        stopper.start()
        with pytest.raises(ProviderError) as error:
            rc.write_queue_presence(SUPPORT, {JAMES: False})
        stopper.join()
    finally:
        emulator.stop()
    assert error.value.outcome_unknown, error.value


def test_api_calls_are_numbered_only_when_asked(demo_emulator, demo_rc):
    target = Target(JAMES, SUPPORT)
    directory = Directory.load("ringcentral", [target])
    off, on = (Call("queue", SUPPORT, [Change(target, not value, value, "test")]) for value in (False, True))
    send_calls(demo_rc, [off], directory, run=None, actor=None, tag="#t", numbered=True)
    send_calls(demo_rc, [on], directory, run=None, actor=None, tag="#u")
    labels = list(AuditEntry.objects.order_by("id").values_list("api_call", flat=True))
    assert labels == [f"PUT call-queues/{SUPPORT}/presence #t.1", f"PUT call-queues/{SUPPORT}/presence #u"]


# ---------------------------------------------------------------------------- a run that loses its lease


def test_a_run_held_up_past_its_lease_sends_nothing_more_and_audits_why(demo_emulator, demo_rc, monkeypatch):
    """A run stalls after its first write (paused, swapped out) and its leases lapse to another run: the calls
    it has left are not sent, since that run may be writing the same values, and the audit says so."""

    def then_stall(write):
        def written(*args):
            write(*args)
            # what another run does once this one's leases lapse: take them
            Lease.objects.exclude(holder="").update(holder="another run", expires_at=Now() + timedelta(seconds=30))

        return written

    for write in ("write_queue_presence", "write_agent_queue_presence", "write_dnd"):
        monkeypatch.setattr(demo_rc, write, then_stall(getattr(demo_rc, write)))
    demo_emulator.clear_requests()
    result = reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    assert len(result.calls) > 1 and len(puts(demo_emulator)) == 1
    rows = AuditEntry.objects.filter(run=result.run).order_by("id")
    assert rows.first().outcome == "applied"
    lost = rows.exclude(api_call=rows.first().api_call)
    assert lost.exists() and set(lost.values_list("outcome", "error_code")) == {("failed", LEASE_LOST)}
    assert "another run may now be writing this value" in lost.first().error_message
    assert not PendingWrite.objects.exists()  # nothing unsent is left looking unknown


# ---------------------------------------------------------------------------- reads that fail


def test_the_reconcile_command_exits_1_and_says_so_when_reads_fail(demo_emulator, make_client, monkeypatch):
    demo_emulator.configure(fail_rate=1.0)  # every request answered 503
    failing = make_client(demo_emulator, max_attempts=1)
    monkeypatch.setattr("scheduler.management.commands.reconcile.default_provider", lambda: failing)
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("reconcile", "--at", MORNING.isoformat(), "--json", stdout=out)
    assert error.value.returncode == 1 and "read(s) failed" in str(error.value)
    printed = json.loads(out.getvalue())
    assert printed["ok"] is False and printed["failed_reads"] > 0
    assert any("read failed" in p for p in printed["problems"])


def test_the_reconcile_command_exits_1_when_the_provider_refuses_connections(demo_emulator, monkeypatch):
    closed = RingCentralClient(
        "http://127.0.0.1:9", "id", "secret", "jwt", store=InProcessStore(), max_attempts=1, backoff=(0.01, 0.02)
    )
    monkeypatch.setattr("scheduler.management.commands.reconcile.default_provider", lambda: closed)
    with pytest.raises(CommandError) as error:
        call_command("reconcile", "--at", MORNING.isoformat(), stdout=StringIO())
    assert error.value.returncode == 1


def test_a_run_that_reads_everything_is_ok(demo_emulator, demo_rc, monkeypatch):
    monkeypatch.setattr("scheduler.management.commands.reconcile.default_provider", lambda: demo_rc)
    out = StringIO()
    call_command("reconcile", "--at", MORNING.isoformat(), "--json", stdout=out)
    assert json.loads(out.getvalue())["ok"] is True


# ---------------------------------------------------------------------------- time limits


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_run_past_its_soft_time_limit_is_recorded_as_stopped_and_releases_the_lease(tmp_path):
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    queue = f"limits-{uuid.uuid4().hex[:8]}"
    with RingCentralProcess(DEMO_SCHEDULE, "--rate-limits", "off") as emulator:
        emulator.configure(latency=5.0)  # every request stalls the run
        env = {**os.environ, **emulator.credentials, "RC_SERVER_URL": emulator.url,
               "DATABASE_URL": database_url(), "DEBUG": "on"}  # fmt: skip
        log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "scheduler", "worker", "-Q", queue, "--concurrency=1", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            result = reconcile_schedule.apply_async(
                kwargs={"trigger": "test"}, queue=queue, soft_time_limit=2, time_limit=30
            )
            with pytest.raises(Exception) as error:
                result.get(timeout=90)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            log.close()
    assert type(error.value).__name__ == "SoftTimeLimitExceeded", (tmp_path / "worker.log").read_text()[-3000:]
    run = ReconcileRun.objects.get()
    assert run.finished_at is not None
    assert any("ran out of time" in p for p in run.problems)
    assert Lease.objects.exists() and not Lease.objects.exclude(holder="").exists()  # every lease it held


def test_the_reconcile_task_has_time_limits(settings):
    assert reconcile_schedule.soft_time_limit == settings.RECONCILE_SOFT_TIME_LIMIT
    assert reconcile_schedule.time_limit == settings.RECONCILE_TIME_LIMIT
    assert reconcile_schedule.soft_time_limit < reconcile_schedule.time_limit
