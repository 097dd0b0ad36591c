"""What a run remembers is written cheaply: unchanged rows only have their time moved, set-based."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from queues.models import Agent, CallQueue, QueueMembership
from scheduler.reconcile.diff import Memory, Target
from scheduler.reconcile.memory import BATCH, Directory

AT = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
SIZE = 1_200  # more than two batches


@pytest.fixture
def crowd(db):
    queue = CallQueue.objects.create(provider_id="q1", name="Busy")
    agents = Agent.objects.bulk_create(Agent(provider_id=f"a{n}", name=f"Agent {n}") for n in range(SIZE))
    QueueMembership.objects.bulk_create(
        QueueMembership(queue=queue, agent=a, accepting=True, planned=True, observed_at=AT) for a in agents
    )
    return [Target(f"a{n}", "q1") for n in range(SIZE)]


def store(targets, memory) -> list[str]:
    directory = Directory.load("ringcentral", targets)
    with CaptureQueriesContext(connection) as queries:
        directory.store(memory)
    return [q["sql"] for q in queries.captured_queries]


def test_a_quiet_pass_only_moves_the_time_in_a_few_plain_updates(crowd):
    later = AT + timedelta(minutes=1)
    statements = store(crowd, {t: Memory(True, later, True) for t in crowd})
    updates = [s for s in statements if s.startswith("UPDATE")]
    assert len(updates) == -(-SIZE // BATCH)  # one per batch of ids
    assert not any("CASE" in s for s in updates)  # no row-by-row rewrite
    assert set(QueueMembership.objects.values_list("observed_at", flat=True)) == {later}


def test_only_the_rows_that_changed_are_rewritten(crowd):
    later = AT + timedelta(minutes=1)
    flipped = set(crowd[:3])
    statements = store(crowd, {t: Memory(t not in flipped, later, True) for t in crowd})
    rewrites = [s for s in statements if "CASE" in s]
    assert len(rewrites) == 1 and rewrites[0].count("WHEN") == 3 * 3  # three rows, three fields
    off = QueueMembership.objects.filter(accepting=False).values_list("agent__provider_id", flat=True)
    assert sorted(off) == sorted(t.agent_id for t in flipped)
    assert set(QueueMembership.objects.values_list("observed_at", flat=True)) == {later}


def test_dnd_rows_follow_the_same_rule(crowd):
    dnd = [Target(t.agent_id) for t in crowd[:600]]
    Agent.objects.update(dnd_status="TakeAllCalls", dnd_planned="TakeAllCalls", dnd_observed_at=AT)
    later = AT + timedelta(minutes=1)
    memory = {t: Memory("TakeAllCalls", later, None) for t in dnd}
    memory[dnd[0]] = Memory("DoNotAcceptAnyCalls", later, None)
    statements = store(dnd, memory)
    assert sum("CASE" in s for s in statements) == 1
    assert Agent.objects.get(provider_id=dnd[0].agent_id).dnd_status == "DoNotAcceptAnyCalls"
    assert Agent.objects.filter(dnd_observed_at=later).count() == 600
