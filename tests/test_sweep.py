"""The rolling sweep, leases per queue and agent, and the order of a busy boundary's writes."""

import json
import math
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
import yaml
from django.core.management import call_command
from django.db import connection
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from integrations.providers import default_provider
from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from queues.heard import queue_presence_heard
from queues.models import ReconcileRun
from scheduler.models import SweepCursor
from scheduler.periodic import ensure_periodic_tasks
from scheduler.reconcile.diff import Target
from scheduler.reconcile.locks import LeaseBusy, lease_names, leases
from scheduler.reconcile.run import plan_at, reconcile_locked
from scheduler.reconcile.sweep import AGENT, QUEUE, next_slice, sweep, sweep_plan
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import parse_schedule
from scheduler.tasks import sweep_slice
from tests.support.emulators import BASE_DIR as ROOT
from tests.support.emulators import RingCentralProcess

MORNING = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # Tue 08:00 New York: Support mornings start
PER_READ = 30  # RingCentral's batch presence read


@pytest.mark.parametrize(
    ("queues", "agents", "share", "expected"),
    [
        # (budget, reads per cycle, reads a minute, minutes per cycle)
        (150, 1500, 0.4, (20, 200, 20, 10)),
        (300, 3000, 0.4, (20, 400, 20, 20)),
        (150, 0, 0.4, (20, 150, 19, 8)),  # spread evenly: 8 minutes of 19 rather than 7 of 20 and one of 10
        (4, 2, 0.4, (20, 5, 5, 1)),  # a small installation is read whole every minute
        (300, 3000, 1.0, (50, 400, 50, 8)),
        (0, 0, 0.4, (20, 0, 0, 1)),
        (10, 31, 0.02, (1, 12, 1, 12)),  # a share below one read a minute still reads one
    ],
)
def test_the_sweep_plan_spends_the_share_of_the_light_budget(queues, agents, share, expected):
    plan = sweep_plan(queues=queues, agents=agents, reads_per_minute=50, share=share, dnd_per_read=PER_READ)
    assert (plan.budget, plan.reads_per_cycle, plan.reads_per_minute, plan.minutes_per_cycle) == expected


def items(queues: int, agents: int) -> list[tuple[str, str]]:
    return [(QUEUE, f"q{i:04}") for i in range(queues)] + [(AGENT, f"a{i:05}") for i in range(agents)]


def reads_of(chosen: list[tuple[str, str]]) -> int:
    """Reads a slice costs, counted independently: a read per queue, per 30 agents in each run of agents."""
    reads, run = 0, 0
    for kind, _ in [*chosen, (QUEUE, "")]:
        if kind == AGENT:
            run += 1
            continue
        reads += math.ceil(run / PER_READ) + (kind == QUEUE)
        run = 0
    return reads - 1  # the sentinel queue


@pytest.mark.parametrize(("queues", "agents"), [(150, 1500), (300, 3000), (7, 95), (0, 61), (40, 0), (3, 2)])
def test_the_slices_read_every_value_within_the_cycle_and_stay_in_budget(queues, agents):
    everything = items(queues, agents)
    plan = sweep_plan(queues=queues, agents=agents, reads_per_minute=50, share=0.4, dnd_per_read=PER_READ)
    after, read_at = None, {}
    for minute in range(3 * plan.minutes_per_cycle):
        chosen = next_slice(everything, after, reads=plan.reads_per_minute, dnd_per_read=PER_READ)
        assert reads_of(chosen) <= plan.reads_per_minute <= plan.budget
        assert len(set(chosen)) == len(chosen)
        for item in chosen:
            assert minute - read_at.get(item, -1) <= plan.minutes_per_cycle, item
            read_at[item] = minute
        after = chosen[-1]
    assert set(read_at) == set(everything)
    assert min(read_at.values()) >= 2 * plan.minutes_per_cycle  # read again in the last cycle too


def test_a_cursor_on_a_queue_no_longer_managed_carries_on_where_it_stood():
    everything = [(QUEUE, "1"), (QUEUE, "3"), (AGENT, "7")]
    assert next_slice(everything, (QUEUE, "2"), reads=1, dnd_per_read=PER_READ) == [(QUEUE, "3")]
    assert next_slice(everything, (AGENT, "9"), reads=1, dnd_per_read=PER_READ) == [(QUEUE, "1")]


def presence_reads(emulator) -> list[str]:
    """The queue and agent ids of each presence GET, in order."""
    return [
        r["path"].split("?")[0].split("/")[-2]
        for r in emulator.requests()
        if r["method"] == "GET" and r["path"].split("?")[0].endswith("presence")
    ]


def test_the_sweep_reads_the_next_slice_each_minute_and_its_cursor_survives_a_restart(demo_emulator, demo_rc, settings):
    settings.SWEEP_BUDGET_SHARE = 0.02  # one read a minute: each slice is one queue, or the DnD batch
    managed = plan_at(demo_rc, MORNING, boundary=None, only=None)[1]
    queues = sorted({t.queue_id for t in managed if not t.is_dnd})
    dnd_agents = sorted(t.agent_id for t in managed if t.is_dnd)
    seen = []
    for minute in range(len(queues) + 1):
        demo_emulator.clear_requests()
        # Nothing in this process carries over: a worker restarted between minutes knows only the row.
        fresh = RingCentralClient(**demo_emulator.client_kwargs(), store=InProcessStore())
        result = sweep(provider=fresh, at=MORNING + timedelta(minutes=minute))
        assert result is not None and result.run.trigger == "sweep"
        seen.append(presence_reads(demo_emulator))
    assert seen == [[q] for q in queues] + [[",".join(dnd_agents)]]
    assert SweepCursor.objects.get(provider="ringcentral").last == f"agent:{dnd_agents[-1]}"


def test_the_sweep_corrects_what_it_reads(demo_emulator, demo_rc):
    result = sweep(provider=demo_rc, at=MORNING)  # a small installation: one slice is everything
    assert result is not None and result.ok and result.writes > 0
    assert not reconcile_locked(provider=demo_rc, at=MORNING, trigger="test").changes


@pytest.fixture
def held_elsewhere():
    """held_elsewhere(names): hold leases from another thread (another worker) until the test ends."""
    release, threads = threading.Event(), []

    def hold(names):
        taken = threading.Event()

        def holder():
            with leases(names, wait=5):
                taken.set()
                release.wait(30)

        threads.append(threading.Thread(target=holder))
        threads[-1].start()
        assert taken.wait(10)
        return release

    yield hold
    release.set()
    for thread in threads:
        thread.join()


@pytest.mark.django_db(transaction=True)
def test_a_boundary_run_does_not_wait_for_a_sweep_on_other_queues(demo_emulator, demo_rc, held_elsewhere):
    boundary = plan_at(demo_rc, MORNING, boundary=MORNING, only=None)[1]
    everything = plan_at(demo_rc, MORNING, boundary=None, only=None)[1]
    others = [t for t in everything if not t.is_dnd and t.queue_id not in {b.queue_id for b in boundary}]
    assert others and boundary
    held_elsewhere(lease_names("ringcentral", others))  # a sweep slice in flight on the other queues
    demo_emulator.clear_requests()
    result = reconcile_locked(provider=demo_rc, at=MORNING, boundary=MORNING, trigger="boundary", wait=0)
    assert result.ok and result.run is not None
    assert set(presence_reads(demo_emulator)) >= {b.queue_id for b in boundary if not b.is_dnd}


@pytest.mark.django_db(transaction=True)
def test_two_runs_on_the_same_queue_take_turns(demo_emulator, demo_rc, held_elsewhere):
    boundary = plan_at(demo_rc, MORNING, boundary=MORNING, only=None)[1]
    queue = next(t for t in boundary if not t.is_dnd)
    release = held_elsewhere(lease_names("ringcentral", [Target("any", queue.queue_id)]))
    with pytest.raises(LeaseBusy):
        reconcile_locked(provider=demo_rc, at=MORNING, boundary=MORNING, trigger="boundary", wait=0)
    release.set()
    assert reconcile_locked(provider=demo_rc, at=MORNING, boundary=MORNING, trigger="boundary", wait=10).ok


@pytest.mark.django_db(transaction=True)
def test_leases_are_all_or_none():
    with leases(["b"]), pytest.raises(LeaseBusy):
        with leases(["a", "b", "c"], wait=0):
            pass
    with leases(["a", "c"], wait=0):  # the failed take kept none of them
        pass


HANDOVER = {
    "timezone": "UTC",
    "queues": [{"id": "801", "name": "Old"}, {"id": "802", "name": "New"}],
    "agents": [
        {"id": "901", "name": "Leaving", "off_shift_dnd": "DoNotAcceptDepartmentCalls"},
        {"id": "902", "name": "Arriving", "off_shift_dnd": "DoNotAcceptDepartmentCalls"},
    ],
    "shifts": [
        {"name": "Early", "queues": ["801"], "agents": ["901"], "days": ["tue"], "start": "08:00", "end": "09:00"},
        {"name": "Late", "queues": ["802"], "agents": ["902"], "days": ["tue"], "start": "09:00", "end": "10:00"},
    ],
}
NINE = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def handover(tmp_path, db):
    import_schedule(parse_schedule(yaml.safe_dump(HANDOVER)))
    with RingCentralProcess.seeded(HANDOVER, tmp_path, "--rate-limits", "off") as emulator:
        yield emulator


def test_a_boundary_writes_the_people_who_start_first_then_who_stop_then_dnd(handover):
    rc = RingCentralClient(**handover.client_kwargs(), store=InProcessStore())
    reconcile_locked(provider=rc, at=NINE - timedelta(minutes=30), trigger="test")
    handover.clear_requests()
    result = reconcile_locked(provider=rc, at=NINE, boundary=NINE, trigger="boundary")
    puts = [r["path"].split("/account/~/")[1] for r in handover.requests() if r["method"] == "PUT"]
    assert len(puts) == result.writes == 4
    starts, stops = puts[0], puts[1]
    assert "802" in starts or "902/call-queue" in starts  # Arriving takes New's calls
    assert "801" in stops or "901/call-queue" in stops  # Leaving stops taking Old's
    assert puts[2:] == ["extension/902/presence", "extension/901/presence"]  # back to calls, then away


def test_reconcile_sweep_plan_prints_the_cycle(demo_emulator, point_app_at):
    point_app_at(demo_emulator)
    managed = plan_at(default_provider(), datetime.now(UTC), boundary=None, only=None)[1]
    queues = len({t.queue_id for t in managed if not t.is_dnd})
    agents = len({t.agent_id for t in managed if t.is_dnd})
    out = StringIO()
    call_command("reconcile", "--sweep-plan", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "queues": queues,
        "agents": agents,
        "budget_reads_per_minute": 20,
        "reads_per_cycle": queues + math.ceil(agents / PER_READ),
        "reads_per_minute": queues + math.ceil(agents / PER_READ),
        "minutes_per_cycle": 1,
    }
    text = StringIO()
    call_command("reconcile", "--sweep-plan", stdout=text)
    assert f"{queues} queue(s), {agents} agent(s)" in text.getvalue()
    assert "at least every 1 minute(s)" in text.getvalue()
    assert not demo_emulator.requests() or all(r["method"] != "PUT" for r in demo_emulator.requests())


def test_beat_sweeps_every_minute_and_the_full_pass_entry_is_retired(db):
    crontab = CrontabSchedule.objects.filter(minute="*", hour="*").first() or CrontabSchedule.objects.create()
    PeriodicTask.objects.filter(name="reconcile: safety net").delete()
    PeriodicTask.objects.create(
        name="reconcile: safety net", task="scheduler.tasks.reconcile_schedule", crontab=crontab
    )
    ensure_periodic_tasks()
    assert not PeriodicTask.objects.filter(task="scheduler.tasks.reconcile_schedule").exists()
    sweeping = PeriodicTask.objects.get(task="scheduler.tasks.sweep_slice")
    assert (sweeping.name, sweeping.crontab.minute, sweeping.crontab.hour) == ("reconcile: rolling sweep", "*", "*")


def test_the_sweep_task_runs_a_slice(demo_emulator, point_app_at):
    point_app_at(demo_emulator)
    outcome = sweep_slice()
    assert outcome["ok"] and ReconcileRun.objects.get(pk=outcome["run"]).trigger == "sweep"


@pytest.mark.parametrize("share", ["0", "1.5", "-0.2"])
def test_a_share_that_is_no_share_stops_start_up_with_the_fix(share):
    env = {**os.environ, "DEBUG": "on", "CALLROTA_SWEEP_BUDGET_SHARE": share}
    check = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert check.returncode != 0
    assert f"CALLROTA_SWEEP_BUDGET_SHARE={float(share):g} is not a share" in check.stderr


@pytest.mark.django_db(transaction=True)
def test_a_slice_whose_queue_is_busy_is_tried_again_next_minute(demo_emulator, demo_rc, held_elsewhere, monkeypatch):
    monkeypatch.setattr("scheduler.reconcile.sweep.LEASE_WAIT", 0)
    busy = plan_at(demo_rc, MORNING, boundary=None, only=None)[1]
    release = held_elsewhere(lease_names("ringcentral", busy))  # a long boundary run on every queue
    assert sweep(provider=demo_rc, at=MORNING) is None
    assert SweepCursor.objects.get(provider="ringcentral").last == ""
    release.set()
    monkeypatch.setattr("scheduler.reconcile.sweep.LEASE_WAIT", 10)  # the holder lets go as it finishes
    assert sweep(provider=demo_rc, at=MORNING) is not None
    assert SweepCursor.objects.get(provider="ringcentral").last != ""


class Timed:
    """The real client, noting the (travelled) time each write is sent."""

    def __init__(self, provider):
        self._provider, self.sent = provider, []

    def __getattr__(self, name):
        attribute = getattr(self._provider, name)
        if not name.startswith("write_"):
            return attribute

        def write(*args):
            self.sent.append(datetime.now(UTC))
            return attribute(*args)

        return write


def test_a_boundary_run_started_early_prepares_then_writes_at_the_boundary(handover):
    rc = RingCentralClient(**handover.client_kwargs(), store=InProcessStore())
    reconcile_locked(provider=rc, at=NINE - timedelta(minutes=30), trigger="test")
    timed = Timed(rc)
    with time_machine.travel(NINE - timedelta(seconds=1.5), tick=True):
        result = reconcile_locked(provider=timed, boundary=NINE, trigger="boundary")
    assert result.run.at == NINE and result.writes == 4
    assert len(timed.sent) == 4 and min(timed.sent) >= NINE  # planned ahead, nothing sent before the instant
    assert min(timed.sent) - NINE < timedelta(seconds=0.5)


def test_a_value_heard_while_an_early_run_waits_is_read_again(transactional_db, handover):
    rc = RingCentralClient(**handover.client_kwargs(), store=InProcessStore())
    reconcile_locked(provider=rc, at=NINE - timedelta(minutes=30), trigger="test")
    handover.clear_requests()

    def arrives_early():  # Arriving takes New's calls at his phone while the run waits for nine
        handover.call("PUT", "call-queues/802/members/902", json={"acceptCurrentQueueCalls": True})
        queue_presence_heard("ringcentral", "802", {"902": True})
        connection.close()

    with time_machine.travel(NINE - timedelta(seconds=1.5), tick=True):
        threading.Timer(0.5, arrives_early).start()
        result = reconcile_locked(provider=rc, boundary=NINE, trigger="boundary")
    writes = [r["path"] for r in handover.requests() if r["method"] == "PUT"]
    assert result.writes == len(writes) == 3  # his write is no longer needed: only Leaving's queue and both DnDs
    assert not any("802" in path or "902/call-queue" in path for path in writes)
