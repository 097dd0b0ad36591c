"""Storing what the listener heard, and what its re-read found, in a bounded number of statements."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from queues.heard import dnd_heard, dnd_statuses_read, queue_presence_heard
from queues.models import ActualChange, ActualSource, Agent, CallQueue, QueueMembership
from scheduler.reconcile.diff import Memory, Target
from scheduler.reconcile.memory import Directory

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def a_queue(queue_id: str, members: int) -> dict[str, bool]:
    """A queue of `members` agents, each remembered as accepting and planned so; their ids -> True."""
    queue = CallQueue.objects.create(provider_id=queue_id, name=f"Queue {queue_id}")
    agents = Agent.objects.bulk_create(Agent(provider_id=f"{queue_id}-{n}", name=f"Agent {n}") for n in range(members))
    QueueMembership.objects.bulk_create(
        QueueMembership(queue=queue, agent=a, accepting=True, planned=True) for a in agents
    )
    return {a.provider_id: True for a in agents}


def stored_statements(queue_id: str, accept: dict[str, bool]) -> int:
    with CaptureQueriesContext(connection) as queries:
        queue_presence_heard("ringcentral", queue_id, accept, at=T0)
    return len(queries)


@pytest.mark.django_db
def test_a_queue_of_200_members_is_stored_in_as_many_statements_as_one_of_3():
    small, large = a_queue("small", 3), a_queue("large", 200)
    flip = lambda members: members | {next(iter(members)): False}  # noqa: E731 - one member stops, the rest stay
    assert stored_statements("small", flip(small)) == stored_statements("large", flip(large))


@pytest.mark.django_db
def test_the_stored_values_and_the_actual_log_name_only_the_members_that_changed():
    accept = a_queue("q1", 4) | {"q1-1": False, "q1-3": False, "stranger": False}
    heard = queue_presence_heard("ringcentral", "q1", accept, at=T0)
    rows = QueueMembership.objects.filter(queue__provider_id="q1")
    assert dict(rows.values_list("agent__provider_id", "accepting")) == {
        a: accept[a] for a in accept if a != "stranger"
    }
    assert set(rows.values_list("observed_at", "heard_at")) == {(T0, T0)}
    assert {(h.agent_id, h.value, h.before) for h in heard} == {(a, accept[a], True) for a in accept if a != "stranger"}
    log = ActualChange.objects.values_list("agent__provider_id", "queue__provider_id", "value", "at", "source")
    assert set(log) == {("q1-1", "q1", "false", T0, "heard"), ("q1-3", "q1", "false", T0, "heard")}


@pytest.mark.django_db
def test_a_read_keeps_a_queue_value_an_event_brought_after_it_began():
    a_queue("q1", 2)
    queue_presence_heard("ringcentral", "q1", {"q1-0": False}, at=T0 + timedelta(seconds=5))  # an event, mid-read
    heard = queue_presence_heard("ringcentral", "q1", {"q1-0": True, "q1-1": False}, at=T0 + timedelta(seconds=9),
                                 since=T0)  # fmt: skip
    assert [h.agent_id for h in heard] == ["q1-1"]
    rows = QueueMembership.objects.filter(queue__provider_id="q1")
    assert dict(rows.values_list("agent__provider_id", "accepting")) == {"q1-0": False, "q1-1": False}


@pytest.fixture
def agents():
    """Three agents whose DnD was last read as TakeAllCalls, an hour before T0."""
    earlier = T0 - timedelta(hours=1)
    for agent_id in ("a1", "a2", "a3"):
        Agent.objects.create(provider_id=agent_id, name=agent_id, dnd_status="TakeAllCalls", dnd_heard_at=earlier)


@pytest.mark.django_db
def test_a_dnd_read_skips_a_value_heard_after_it_began_and_logs_only_changes(agents):
    dnd_heard("ringcentral", "a2", "DoNotAcceptAnyCalls", sequence=4, at=T0 + timedelta(seconds=5))  # mid-read
    read = {"a1": "TakeAllCalls", "a2": "TakeAllCalls", "a3": "DoNotAcceptAnyCalls", "stranger": "TakeAllCalls"}
    heard = dnd_statuses_read("ringcentral", read, since=T0, at=T0 + timedelta(seconds=9))
    assert {(h.agent_id, h.value, h.before) for h in heard} == {
        ("a1", "TakeAllCalls", "TakeAllCalls"),
        ("a3", "DoNotAcceptAnyCalls", "TakeAllCalls"),
    }
    stored = Agent.objects.order_by("provider_id").values_list("provider_id", "dnd_status", "dnd_sequence")
    assert list(stored) == [("a1", "TakeAllCalls", None), ("a2", "DoNotAcceptAnyCalls", 4),
                            ("a3", "DoNotAcceptAnyCalls", None)]  # fmt: skip
    log = ActualChange.objects.filter(source="read").values_list("agent__provider_id", "field", "value")
    assert list(log) == [("a3", "dnd", "DoNotAcceptAnyCalls")]


@pytest.mark.django_db
def test_a_dnd_read_of_many_agents_takes_as_many_statements_as_of_one(agents):
    Agent.objects.bulk_create(Agent(provider_id=f"b{n}", name=f"b{n}") for n in range(30))

    def statements(statuses: dict[str, str]) -> int:
        with CaptureQueriesContext(connection) as queries:
            dnd_statuses_read("ringcentral", statuses, since=T0)
        return len(queries)

    assert statements({"a1": "DoNotAcceptAnyCalls"}) == statements({f"b{n}": "DoNotAcceptAnyCalls" for n in range(30)})


@pytest.mark.django_db
def test_a_read_sent_before_a_write_landed_does_not_overwrite_it():
    a_queue("q1", 1)
    Agent.objects.create(provider_id="a1", name="a1", dnd_status="TakeAllCalls")
    landed, away = T0 + timedelta(seconds=5), "DoNotAcceptAnyCalls"
    written = {Target("q1-0", "q1"): Memory(False, landed, False), Target("a1"): Memory(away, landed, away)}
    Directory.load("ringcentral", written).store(written, source=ActualSource.WRITTEN)  # as the write path stores
    assert queue_presence_heard("ringcentral", "q1", {"q1-0": True}, at=T0 + timedelta(seconds=9), since=T0) == []
    assert dnd_statuses_read("ringcentral", {"a1": "TakeAllCalls"}, at=T0 + timedelta(seconds=9), since=T0) == []
    assert QueueMembership.objects.get().accepting is False
    assert Agent.objects.get(provider_id="a1").dnd_status == away
