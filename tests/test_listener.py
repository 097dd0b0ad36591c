"""The RingCentral listener against a real emulator process: it stores what it hears, a run trusts
what was heard in the live session, and drift is put back in seconds through the one write path."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from integrations.base import ProviderError
from integrations.providers import default_provider
from integrations.ringcentral.listener import Listener
from queues import heard
from queues.heard import dnd_heard, heard_since_live, live_since, queue_presence_heard, reread, session_started
from queues.models import Agent, AuditEntry, CallQueue, Override, QueueMembership, ReconcileRun
from scheduler.reconcile.listening import HeardSink
from scheduler.reconcile.run import reconcile_locked
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from scheduler.tasks import correct_drift

SUPPORT, ADAMS = "1081167000", "62284876000"
JAMES, MARIA, OLENA = "111111111", "222222222", "333333333"
MORNING = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # Tue 08:00 New York: Support mornings start


def wait_for(condition, *, timeout=15.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def app(demo_emulator_process, transactional_db, point_app_at):
    """The demo emulator at its seed, the demo schedule in the database, the product pointed at it,
    and the plan for now applied once (so every value has what a run planned)."""
    demo_emulator_process.reset()
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    point_app_at(demo_emulator_process)
    reconcile_locked(provider=default_provider(), at=timezone.now(), trigger="test")
    demo_emulator_process.clear_requests()
    return demo_emulator_process


class Running:
    """A listener in a thread, correcting drift at once (the task run eagerly in its thread); stopped on exit.
    `reads`: the provider its re-read reads through; `reread=False`: entered without waiting for the re-read."""

    def __init__(self, *, reads=None, reread=True, **options):
        provider = default_provider()
        self.sink = HeardSink(reads or provider, enqueue=lambda targets: correct_drift.apply(args=[targets]))
        self.listener = Listener(provider, self.sink, **({"backoff": (0.1, 0.5)} | options))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.wait_for_reread = reread

    def _run(self):
        try:
            self.listener.run(self.stop)
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        wait_for(lambda: self.listener.sessions == 1, what="the first subscription")
        if self.wait_for_reread:
            wait_for(lambda: heard_since_live("ringcentral", [(JAMES, "")]), what="the re-read after subscribing")
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)
        if self.sink.rereading:  # cancelled as the listener stopped: it ends after its current read
            self.sink.rereading.thread.join(timeout=10)


def plan_of(agent_id: str, queue_id: str = ""):
    if queue_id:
        return QueueMembership.objects.get(agent__provider_id=agent_id, queue__provider_id=queue_id).planned
    return Agent.objects.get(provider_id=agent_id).dnd_planned


def requests_of(emulator, method: str) -> list[str]:
    return [r["path"] for r in emulator.requests() if r["method"] == method]


def test_a_person_flipping_her_queue_status_and_dnd_is_put_back_once(app):
    planned_queue, planned_dnd = plan_of(JAMES, SUPPORT), plan_of(JAMES)
    flipped_dnd = "DoNotAcceptAnyCalls" if planned_dnd != "DoNotAcceptAnyCalls" else "TakeAllCalls"
    with Running():
        app.clear_requests()
        app.call("PUT", f"call-queues/{SUPPORT}/members/{JAMES}", json={"acceptCurrentQueueCalls": not planned_queue})
        app.call("PUT", f"extensions/{JAMES}/presence", json={"dndStatus": flipped_dnd})
        wait_for(lambda: AuditEntry.objects.filter(reason="drift correction").count() == 2, what="two corrections")
    rc = default_provider()
    assert rc.read_queue_presence(SUPPORT)[JAMES] is planned_queue
    assert rc.read_dnd([JAMES])[JAMES] == planned_dnd
    corrections = AuditEntry.objects.filter(reason="drift correction")
    assert {(c.field, c.new_value, c.outcome) for c in corrections} == {
        ("queue_calls", str(planned_queue).lower(), "applied"),
        ("dnd", planned_dnd, "applied"),
    }


def test_an_echo_of_our_own_write_writes_nothing(app):
    olena = Agent.objects.get(provider_id=OLENA)  # a hold the provider does not have yet: the run writes it
    Override.objects.create(agent=olena, dnd_status="DoNotAcceptAnyCalls", until=timezone.now() + timedelta(hours=1))
    with Running():
        written = reconcile_locked(provider=default_provider(), at=timezone.now(), trigger="test")
        assert written.writes == 1
        app.clear_requests()
        time.sleep(2.5)  # the echo arrives and the debounce passes
    assert requests_of(app, "PUT") == []
    assert not ReconcileRun.objects.filter(trigger="drift").exists()


def before_the_mornings_start() -> None:
    """The provider and the plan as at 07:00 New York, whatever the hour now (at 08:00 the fixture's plan for
    now would already be the morning's, and a morning run would have nothing to write)."""
    reconcile_locked(provider=default_provider(), at=MORNING - timedelta(hours=1), trigger="test")


def test_a_run_with_a_live_listener_reads_nothing_it_heard_and_writes_at_once(app):
    before_the_mornings_start()
    with Running():
        app.clear_requests()
        result = reconcile_locked(provider=default_provider(), at=MORNING, trigger="boundary")
        assert result.writes > 0 and result.ok
        assert [r["method"] for r in app.requests()] == ["PUT"] * result.writes  # no GET before the first write


def test_without_a_live_session_a_run_reads_as_before(app):
    with Running():
        pass  # the listener stopped: its session ended
    app.clear_requests()
    reconcile_locked(provider=default_provider(), at=MORNING, trigger="boundary")
    assert [p for p in requests_of(app, "GET") if "presence" in p]


def test_the_subscription_follows_a_new_queue_without_a_restart(app):
    with Running(follow_every=0.2):
        CallQueue.objects.create(provider_id="70000001", name="New queue")

        def filters():
            return [f for s in app.call("GET", "gateway/sessions").json()["sessions"]
                    for sub in s["subscriptions"] for f in sub["eventFilters"]]  # fmt: skip

        wait_for(lambda: "/restapi/v1.0/account/~/call-queues/70000001/presence" in filters(), what="the new filter")
        assert "/restapi/v1.0/account/~/presence" in filters()
        assert len(app.call("GET", "gateway/sessions").json()["sessions"]) == 1


def test_a_short_outage_is_recovered_and_nothing_is_missed(app):
    planned = plan_of(MARIA, SUPPORT)
    with Running() as running:
        app.call("POST", "gateway/outage", json={"seconds": 1.5})
        app.call("PUT", f"call-queues/{SUPPORT}/members/{MARIA}", json={"acceptCurrentQueueCalls": not planned})
        wait_for(lambda: running.listener.recoveries == 1, what="the recovery")
        wait_for(lambda: AuditEntry.objects.filter(reason="drift correction").count() == 1, what="the correction")
        assert running.listener.sessions == 1  # recovered, not subscribed again
    assert default_provider().read_queue_presence(SUPPORT)[MARIA] is planned


def test_an_outage_past_the_recovery_timeout_subscribes_again_and_rereads(app):
    planned = plan_of(MARIA, SUPPORT)
    with Running() as running:
        app.configure(ws_recovery_timeout=0.5)  # the listener was told 180 s: it tries to recover, and fails
        app.call("POST", "gateway/outage", json={"seconds": 2})
        time.sleep(1.0)  # the gateway forgets the session: what happens now is not replayed
        app.call("PUT", f"call-queues/{SUPPORT}/members/{MARIA}", json={"acceptCurrentQueueCalls": not planned})
        app.clear_requests()
        wait_for(lambda: running.listener.sessions == 2, what="a new subscription")
        wait_for(lambda: AuditEntry.objects.filter(reason="drift correction").count() == 1, what="the correction")
        assert running.listener.recoveries == 0
        assert f"/restapi/v1.0/account/~/call-queues/{SUPPORT}/presence" in requests_of(app, "GET")  # re-read
    assert default_provider().read_queue_presence(SUPPORT)[MARIA] is planned


def test_drift_on_a_queue_that_does_not_enforce_is_noted_once(app):
    CallQueue.objects.filter(provider_id=SUPPORT).update(enforce=False)
    planned = plan_of(JAMES, SUPPORT)
    with Running():
        app.clear_requests()
        app.call("PUT", f"call-queues/{SUPPORT}/members/{JAMES}", json={"acceptCurrentQueueCalls": not planned})
        wait_for(lambda: AuditEntry.objects.filter(reason="drift").exists(), what="the note")
        reconcile_locked(provider=default_provider(), at=timezone.now(), trigger="test")
        time.sleep(1.5)
    assert AuditEntry.objects.filter(reason="drift").count() == 1
    assert requests_of(app, "PUT") == []


def test_an_older_sequence_never_overwrites_a_newer_one(transactional_db):
    Agent.objects.create(provider_id=JAMES, name="James")
    assert dnd_heard("ringcentral", JAMES, "DoNotAcceptAnyCalls", sequence=7)
    assert dnd_heard("ringcentral", JAMES, "TakeAllCalls", sequence=6) is None
    assert dnd_heard("ringcentral", JAMES, "TakeAllCalls", sequence=7) is None  # a replay
    session_started("ringcentral", at=timezone.now() - timedelta(seconds=1))
    assert heard_since_live("ringcentral", [(JAMES, "")]) == {(JAMES, ""): "DoNotAcceptAnyCalls"}
    assert dnd_heard("ringcentral", JAMES, "TakeAllCalls", sequence=8)
    assert heard_since_live("ringcentral", [(JAMES, "")]) == {(JAMES, ""): "TakeAllCalls"}


def test_a_value_heard_before_the_session_started_is_read_again(transactional_db):
    Agent.objects.create(provider_id=JAMES, name="James")
    dnd_heard("ringcentral", JAMES, "DoNotAcceptAnyCalls", sequence=1)
    session_started("ringcentral", at=timezone.now() + timedelta(seconds=1))  # a gap after it was heard
    assert heard_since_live("ringcentral", [(JAMES, "")]) == {}


def test_a_listener_that_lost_the_session_to_another_changes_nothing_in_it(transactional_db):
    """A listener stalled past its lease; another took the lease and started its own session. When the first
    wakes, its drop, recovery, last message and end must not touch the second's session."""
    session_started("ringcentral", listener="first")
    session_started("ringcentral", listener="second")
    second_since = live_since("ringcentral")
    for stale in (heard.session_dropped, heard.session_recovered, heard.session_heard_from, heard.session_ended):
        stale("ringcentral", listener="first")
    assert live_since("ringcentral") == second_since is not None
    heard.session_ended("ringcentral", listener="second")
    assert live_since("ringcentral") is None


class HeardDuringTheRun:
    """The product's provider, but the listener hears a person's flip as soon as the run writes."""

    def __init__(self, provider, flip):
        self._provider, self._flip = provider, flip

    def __getattr__(self, name):
        attribute = getattr(self._provider, name)
        if not name.startswith("write_"):
            return attribute

        def write_then_flip(*args):
            attribute(*args)
            self._flip()

        return write_then_flip


def test_a_value_heard_while_a_run_writes_is_not_overwritten_by_the_runs_older_read(app):
    before_the_mornings_start()
    rc = default_provider()
    session_started("ringcentral")
    list(reread(rc))  # every read stored
    # James already takes Support's calls, as the morning plan will want: the run only remembers its new plan.
    app.call("PUT", f"call-queues/{SUPPORT}/members/{JAMES}", json={"acceptCurrentQueueCalls": True})
    queue_presence_heard("ringcentral", SUPPORT, {JAMES: True})
    flip = lambda: queue_presence_heard("ringcentral", SUPPORT, {JAMES: False})  # noqa: E731 - he stops meanwhile
    reconcile_locked(provider=HeardDuringTheRun(rc, flip), at=MORNING, trigger="test")
    assert heard_since_live("ringcentral", [(JAMES, SUPPORT)]) == {(JAMES, SUPPORT): False}


class GatedReads:
    """The product's provider, but each read waits until the test lets it through: a re-read as slow as need be."""

    def __init__(self, provider, *, fail=False):
        self._provider, self._gate, self._fail = provider, threading.Semaphore(0), fail
        self.waiting = 0  # reads that reached the gate

    def __getattr__(self, name):
        attribute = getattr(self._provider, name)
        if not name.startswith("read_"):
            return attribute

        def gated(*args):
            self.waiting += 1
            assert self._gate.acquire(timeout=30), "the test never let this read through"
            if self._fail:
                raise ProviderError("the provider is down", status=503)
            return attribute(*args)

        return gated

    def allow(self, reads: int = 100) -> None:
        self._gate.release(reads)


def test_during_a_slow_reread_the_session_stays_live_and_drift_is_put_back_read_by_read(app, monkeypatch):
    monkeypatch.setattr(heard, "LIVE_WITHIN", timedelta(seconds=4))  # ALIVE_EVERY (2 s) apart, with room to spare
    maria_planned, james_planned = plan_of(MARIA, SUPPORT), plan_of(JAMES, SUPPORT)
    # Changed while no listener listened: only the re-read can find it (Support is the first queue it reads).
    app.call("PUT", f"call-queues/{SUPPORT}/members/{MARIA}", json={"acceptCurrentQueueCalls": not maria_planned})
    reads = GatedReads(default_provider())
    with Running(reads=reads, reread=False, heartbeat_every=0.5) as running:
        wait_for(lambda: reads.waiting == 1, what="the re-read's first read")
        for _ in range(12):  # 6 s, past LIVE_WITHIN, the re-read held at its first read
            assert live_since("ringcentral") is not None
            time.sleep(0.5)
        app.call("PUT", f"call-queues/{SUPPORT}/members/{JAMES}", json={"acceptCurrentQueueCalls": not james_planned})
        wait_for(lambda: AuditEntry.objects.filter(reason="drift correction").count() == 1, what="James's correction")
        reads.allow(1)  # Support's presence, with Maria's change
        wait_for(lambda: AuditEntry.objects.filter(reason="drift correction").count() == 2, what="Maria's correction")
        assert reads.waiting == 2 and running.sink.rereading and running.sink.rereading.thread.is_alive()
        reads.allow()
        running.sink.rereading.thread.join(timeout=10)
    presence = default_provider().read_queue_presence(SUPPORT)
    assert (presence[JAMES], presence[MARIA]) == (james_planned, maria_planned)
    corrected = AuditEntry.objects.filter(reason="drift correction").values_list("agent__provider_id", flat=True)
    assert sorted(corrected) == sorted([JAMES, MARIA])


def test_a_reread_stops_between_reads_when_its_session_drops(app):
    reads = GatedReads(default_provider())
    sink = HeardSink(reads, enqueue=lambda targets: None)
    sink.started()
    wait_for(lambda: reads.waiting == 1, what="the re-read's first read")
    sink.dropped()
    reads.allow()
    assert sink.rereading
    sink.rereading.thread.join(timeout=10)
    assert not sink.rereading.thread.is_alive() and reads.waiting == 1


def test_reads_the_reread_could_not_make_are_counted_in_the_log(app, caplog):
    reads = GatedReads(default_provider(), fail=True)
    reads.allow()
    sink = HeardSink(reads, enqueue=lambda targets: None)
    sink.started()
    assert sink.rereading
    sink.rereading.thread.join(timeout=10)
    assert reads.waiting == 5  # four queues, and the DnD of every agent in one batch
    assert "listener: 5 reads after the session started failed; the next run reads them" in caplog.text
