"""What a reconcile pass writes back about the values it read, at 1,500, 6,000 and 12,000 memberships.

Times `Directory.store` for a quiet pass (nothing changed) and a pass where 5% of the values
changed, beside the old way (one `bulk_update` of every row), on PostgreSQL
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/callrota_bench, created if
missing). The old way took 0.6 s, 6.9 s and 249 s at these sizes on PostgreSQL 15 (the JIT
compiling one giant CASE statement); the target is under a second at 300 queues. Measured here
(PostgreSQL 15): quiet pass 0.02 / 0.09 / 0.38 s, 5% changed 0.05 / 0.40 / 0.67 s; the old way
0.83 / 18.4 / 497 s. `--quick` runs 1,500 only.
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta

from audit_admin import DEFAULT_URL, ensure_database

PER_QUEUE = 10


def build(size: int):
    from queues.models import Agent, CallQueue, QueueMembership
    from scheduler.reconcile.diff import Target

    QueueMembership.objects.all().delete()
    Agent.objects.filter(audit__isnull=True).delete()
    CallQueue.objects.filter(audit__isnull=True).delete()
    queues = CallQueue.objects.bulk_create(
        CallQueue(provider_id=f"bq{n}", name=f"Q{n}") for n in range(size // PER_QUEUE)
    )
    agents = Agent.objects.bulk_create(Agent(provider_id=f"ba{n}", name=f"A{n}") for n in range(size))
    at = datetime(2026, 11, 24, tzinfo=UTC)
    QueueMembership.objects.bulk_create(
        QueueMembership(queue=queues[n // PER_QUEUE], agent=a, accepting=True, planned=True, observed_at=at)
        for n, a in enumerate(agents)
    )
    return [Target(f"ba{n}", f"bq{n // PER_QUEUE}") for n in range(size)], at


def timed(targets, memory) -> float:
    from scheduler.reconcile.memory import Directory

    directory = Directory.load("ringcentral", targets)
    started = time.perf_counter()
    directory.store(memory)
    return time.perf_counter() - started


def old_way(targets, at) -> float:
    from queues.models import QueueMembership
    from scheduler.reconcile.memory import Directory

    rows = list(Directory.load("ringcentral", targets).memberships.values())
    for row in rows:
        row.observed_at = at
    started = time.perf_counter()
    QueueMembership.objects.bulk_update(rows, ["accepting", "observed_at", "planned"])  # unbatched, as before
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,500 memberships only (CI's smoke run)")
    parser.add_argument("--old", action="store_true", help="also time the old unbatched bulk_update")
    args = parser.parse_args()
    url = os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    from _django import setup

    setup("bookkeeping")
    from scheduler.reconcile.diff import Memory

    print(f"{'memberships':>12} {'quiet pass':>11} {'5% changed':>11} {'old way':>9}")
    for size in (1_500,) if args.quick else (1_500, 6_000, 12_000):
        targets, at = build(size)
        quiet = timed(targets, {t: Memory(True, at + timedelta(minutes=1), True) for t in targets})
        flipped = set(targets[::20])
        some = timed(targets, {t: Memory(t not in flipped, at + timedelta(minutes=2), True) for t in targets})
        old = f"{old_way(targets, at + timedelta(minutes=3)):8.2f}s" if args.old else "        -"
        print(f"{size:>12,} {quiet:>10.3f}s {some:>10.3f}s {old}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    main()
