"""The listener end to end: `manage.py listen_ringcentral` and a Celery worker as real processes, a real
emulator. One listener holds the session; a killed one is replaced; outages are recovered or healed;
drift heard is put back once."""

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from django.utils import timezone

from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from queues.models import AuditEntry, ListenerSession, QueueMembership
from scheduler.reconcile.run import reconcile_locked
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import parse_schedule
from tests.support.emulators import RingCentralProcess

from .stack import ROOT, Stack

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SALES, ANN = "801", "901"
SCHEDULE = {
    "timezone": "UTC",
    "queues": [{"id": SALES, "name": "Sales"}],
    "agents": [{"id": ANN, "name": "Ann", "off_shift_dnd": "DoNotAcceptDepartmentCalls"}, {"id": "902", "name": "Bob"}],
    "shifts": [{"name": "Monday early", "queues": [SALES], "agents": [ANN, "902"], "days": ["mon"],
                "start": "08:00", "end": "09:00"}],
}  # fmt: skip


@pytest.fixture
def emulator(tmp_path):
    with RingCentralProcess.seeded(SCHEDULE, tmp_path, "--rate-limits", "off") as process:
        yield process


@pytest.fixture
def stack(emulator, tmp_path):
    """The schedule applied once (Ann off Sales), and a worker to run corrections."""
    import_schedule(parse_schedule(yaml.safe_dump(SCHEDULE)))
    reconcile_locked(provider=emulator.client(), at=timezone.now(), trigger="test")
    stack = Stack(emulator, tmp_path)
    stack.worker()
    yield stack
    stack.stop()


def listener(stack: Stack) -> subprocess.Popen:
    log = open(stack.tmp_path / f"listener-{len(stack.processes)}.log", "w")  # noqa: SIM115 - closed with the process
    command = [sys.executable, "manage.py", "listen_ringcentral"]
    process = subprocess.Popen(command, cwd=ROOT, env=stack.env, stdout=log, stderr=log, start_new_session=True)
    stack.processes.append(process)
    return process


def wait_for(condition, *, timeout=60.0, what="the condition", stack=None):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}" + (f"\n{stack.logs()}" if stack else ""))
        time.sleep(0.1)


def connected(emulator) -> int:
    return sum(s["connected"] for s in emulator.call("GET", "gateway/sessions").json()["sessions"])


def live() -> bool:
    return ListenerSession.objects.filter(connected=True, live_since__isnull=False).exists()


def settled(emulator, stack: Stack) -> bool:
    """One live session whose re-read (in the background, after subscribing) is done: a change now is news."""
    done = "the re-read after the session started is done" in stack.logs()
    return live() and connected(emulator) == 1 and done


def ann_in_sales(emulator) -> bool:
    rc = RingCentralClient(**emulator.client_kwargs(), store=InProcessStore())
    return rc.read_queue_presence(SALES)[ANN]


def corrections() -> int:
    return AuditEntry.objects.filter(
        reason="drift correction", agent__provider_id=ANN, queue__provider_id=SALES
    ).count()


def flip_ann_on(emulator) -> None:
    """Ann switches herself into Sales at her phone, against the plan."""
    emulator.call("PUT", f"call-queues/{SALES}/members/{ANN}", json={"acceptCurrentQueueCalls": True})


def puts_to_sales(emulator) -> list[dict]:
    return [r for r in emulator.requests() if r["method"] == "PUT" and f"/{SALES}/" in r["path"] + "/"]


def test_a_second_listener_waits_until_the_first_dies_then_rereads_and_puts_back_what_changed(emulator, stack):
    first = listener(stack)
    wait_for(lambda: settled(emulator, stack), what="the first listener's session", stack=stack)
    assert QueueMembership.objects.get(agent__provider_id=ANN).planned is False
    second = listener(stack)
    wait_for(lambda: "Another listener holds" in (stack.tmp_path / "listener-2.log").read_text(), what="the wait")
    time.sleep(2)
    assert connected(emulator) == 1  # the second one holds no session of its own
    stack.kill(first)
    emulator.clear_requests()
    flip_ann_on(emulator)  # while nobody listens: only a re-read can find it
    wait_for(lambda: corrections() == 1 and not ann_in_sales(emulator), timeout=90, what="the correction", stack=stack)
    assert second.poll() is None and connected(emulator) == 1
    assert len(puts_to_sales(emulator)) == 1  # the one correction (her flip was at the phone)
    time.sleep(3)
    assert corrections() == 1


def test_a_listener_stalled_past_its_lease_gives_way_and_leaves_the_new_session_alone(emulator, stack):
    """The first listener is paused (SIGSTOP) past its lease; the second takes over. When the first wakes it
    sees the lease taken, ends its own session without touching the second's, and waits."""
    first = listener(stack)
    wait_for(lambda: settled(emulator, stack), what="the first listener's session", stack=stack)
    second = listener(stack)
    second_log = stack.tmp_path / "listener-2.log"
    wait_for(lambda: "Another listener holds" in second_log.read_text(), what="the wait", stack=stack)
    os.kill(first.pid, signal.SIGSTOP)
    try:
        done = "the re-read after the session started is done"
        wait_for(lambda: done in second_log.read_text(), timeout=90, what="the second's session", stack=stack)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    first_log = stack.tmp_path / "listener-1.log"
    wait_for(lambda: "Another listener took" in first_log.read_text(), timeout=30, what="the first's giving way")
    time.sleep(3)  # what the first does as it gives way has been done
    assert live() and first.poll() is None and second.poll() is None
    emulator.clear_requests()
    flip_ann_on(emulator)  # heard by the second, the one listener left
    wait_for(lambda: corrections() == 1 and not ann_in_sales(emulator), timeout=30, what="the correction", stack=stack)
    time.sleep(3)
    assert corrections() == 1 and len(puts_to_sales(emulator)) == 1


@pytest.mark.parametrize("outage", [30])
def test_an_outage_within_the_recovery_timeout_misses_nothing(emulator, stack, outage):
    listener(stack)
    wait_for(lambda: settled(emulator, stack), what="the listener's session", stack=stack)
    emulator.call("POST", "gateway/outage", json={"seconds": outage})
    emulator.clear_requests()
    flip_ann_on(emulator)  # heard only once the session is recovered: the gateway keeps it for the session
    wait_for(lambda: corrections() == 1, timeout=outage + 60, what="the correction", stack=stack)
    assert not ann_in_sales(emulator)
    assert "session recovered, nothing missed" in stack.logs()
    assert len(puts_to_sales(emulator)) == 1
    gets = [r for r in emulator.requests() if r["method"] == "GET" and "presence" in r["path"]]
    assert len(gets) == 1  # this test's own read: recovered, the listener re-read nothing


def test_an_outage_past_the_recovery_timeout_subscribes_again_and_rereads(emulator, stack):
    listener(stack)
    wait_for(lambda: settled(emulator, stack), what="the listener's session", stack=stack)
    emulator.configure(ws_recovery_timeout=5)  # the listener was told 180 s: it tries to recover, and fails
    emulator.call("POST", "gateway/outage", json={"seconds": 12})
    time.sleep(7)  # the gateway has forgotten the session: a change now is never replayed
    emulator.clear_requests()
    flip_ann_on(emulator)
    wait_for(lambda: corrections() == 1, timeout=90, what="the correction", stack=stack)
    assert not ann_in_sales(emulator)
    assert "recovery Failed; subscribing again" in stack.logs()
    assert len(puts_to_sales(emulator)) == 1


def test_twenty_flips_at_the_phone_are_each_put_back_within_3_seconds(emulator, stack):
    listener(stack)
    wait_for(lambda: settled(emulator, stack), what="the listener's session", stack=stack)
    rc = RingCentralClient(**emulator.client_kwargs(), store=InProcessStore())
    flips = {
        "queue": (flip_ann_on, lambda: rc.read_queue_presence(SALES)[ANN] is False),
        "dnd": (
            lambda e: e.call("PUT", f"extensions/{ANN}/presence", json={"dndStatus": "TakeAllCalls"}),
            lambda: rc.read_dnd([ANN])[ANN] == "DoNotAcceptDepartmentCalls",
        ),
    }
    took = []
    for n in range(20):
        flip, put_back = flips["queue" if n % 2 else "dnd"]
        started = time.monotonic()
        flip(emulator)
        time.sleep(0.05)  # the flip is in place before the first look
        wait_for(put_back, timeout=30, what=f"flip {n} put back", stack=stack)
        took.append(time.monotonic() - started)
    p95 = sorted(took)[int(0.95 * len(took)) - 1]
    print(f"drift put back: p50 {sorted(took)[len(took) // 2]:.2f}s, p95 {p95:.2f}s, max {max(took):.2f}s")
    assert p95 < 3.0
    # The last write lands at the emulator a moment before the worker commits its audit row: wait for it.
    audited = lambda: AuditEntry.objects.filter(reason="drift correction").count()  # noqa: E731
    wait_for(lambda: audited() >= 20, timeout=10, what="the last correction's audit row", stack=stack)
    time.sleep(2)
    assert audited() == 20  # one correction a flip, none twice
