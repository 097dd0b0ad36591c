"""A boundary that flips 600 pairs across 40 queues and 200 agents is written in the exact minimum of calls."""

import random
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from scheduler.reconcile.run import reconcile_locked
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import parse_schedule
from tests.support.emulators import RingCentralProcess

BOUNDARY = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def random_schedule(seed=11, queues=40, agents=200) -> tuple[dict, set, set]:
    """600 pairs, one single-pair shift each, all starting at the boundary; every fourth queue not editable.

    Ten busy queues hold 30 agents each and fifteen floaters work 20 queues each, so the
    minimum mixes queue calls and agent calls, and neither "one call per queue" nor
    "one per agent" is it.
    """
    rng = random.Random(seed)
    queue_ids = [str(5000 + i) for i in range(queues)]
    agent_ids = [str(7000 + i) for i in range(agents)]
    floaters, others = agent_ids[:15], agent_ids[15:]
    chosen = {(q, a) for q in queue_ids[:10] for a in rng.sample(others, 30)}
    chosen |= {(q, a) for a in floaters for q in rng.sample(queue_ids, 20)}
    while len(chosen) < 600:  # floaters overlapping the busy queues leave a few to top up
        chosen.add((rng.choice(queue_ids[10:]), rng.choice(floaters)))
    locked = {q for i, q in enumerate(queue_ids) if i % 4 == 0}
    document = {
        "timezone": "UTC",
        "queues": [{"id": q, "name": f"Q{q}", "editable_member_status": q not in locked} for q in queue_ids],
        "agents": [{"id": a, "name": f"A{a}"} for a in agent_ids],
        "shifts": [
            {"name": f"S{q}-{a}", "queues": [q], "agents": [a], "days": ["tue"], "start": "15:00", "end": "16:00"}
            for q, a in sorted(chosen)
        ],
    }
    return document, chosen, locked


def minimum_calls(pairs: set, locked: set) -> int:
    """Independent check: locked queues must be called; the rest is König's theorem with Kuhn's matching."""
    free = [(q, a) for q, a in pairs if q not in locked]
    adjacent: dict[str, list[str]] = {}
    for q, a in free:
        adjacent.setdefault(q, []).append(a)
    owner: dict[str, str] = {}

    def augment(q, seen) -> bool:
        for a in adjacent[q]:
            if a not in seen:
                seen.add(a)
                if a not in owner or augment(owner[a], seen):
                    owner[a] = q
                    return True
        return False

    matching = sum(augment(q, set()) for q in adjacent)
    return len({q for q, _ in pairs if q in locked}) + matching


@pytest.fixture
def setup(db, tmp_path):
    document, pairs, locked = random_schedule()
    import_schedule(parse_schedule(yaml.safe_dump(document)))
    with RingCentralProcess.seeded(document, tmp_path, "--rate-limits", "off") as emulator:
        yield emulator, emulator.client(), pairs, locked


def test_a_600_pair_boundary_takes_the_exact_minimum_of_calls(setup):
    emulator, rc, pairs, locked = setup
    before = reconcile_locked(provider=rc, at=BOUNDARY - timedelta(minutes=1), trigger="test")
    assert len(before.changes) == 600  # the emulator starts with every member accepting
    emulator.clear_requests()
    result = reconcile_locked(provider=rc, at=BOUNDARY, trigger="test")
    assert len(result.changes) == 600 and not result.failed
    expected = minimum_calls(pairs, locked)
    puts = [r for r in emulator.requests() if r["method"] == "PUT"]
    print(f"\n600 changed pairs: {len(puts)} write calls (exact minimum {expected}); naive one call per pair: 600")
    assert result.writes == len(puts) == expected
    queue_calls = {r["path"] for r in puts if "/call-queues/" in r["path"]}
    agent_calls = {r["path"] for r in puts if "/call-queue-presence" in r["path"]}
    assert queue_calls and agent_calls  # the minimum here needs both kinds
    assert expected < min(len({q for q, _ in pairs}), len({a for _, a in pairs}))
    for q in locked:  # a non-editable queue's pairs always travel in the queue's own call
        assert not any(c.call == "agent" and c.target.queue_id == q for c in result.changes)
    for queue_id in {q for q, _ in pairs}:
        assert all(rc.read_queue_presence(queue_id)[a] for q, a in pairs if q == queue_id)
