"""The audit history admin at scale: 1,000,000 audit rows on PostgreSQL.

Renders the audit changelist and one agent's history page through the real admin
(test client, logged in as a supervisor) and prints the time and the number of SQL
queries of each. Target: under 300 ms each. `--quick` uses 20,000 rows (CI's smoke run).
BENCH_DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/callrota_bench,
created afresh; the rows are loaded with COPY.
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/callrota_bench"
AGENTS, QUEUES = 200, 40
REASONS = ["shift start: Support mornings", "shift end: Support mornings", "time off", "drift correction",
           "manual override"]  # fmt: skip


def ensure_database(url: str) -> None:
    """Create the benchmark database afresh (the audit it holds is append-only: flush cannot empty it)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def build(rows: int, seed: int = 7) -> None:
    """Queues, agents, a supervisor, and `rows` audit entries spread over a year, by COPY."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from queues.models import Agent, AuditEntry, CallQueue

    rng = random.Random(seed)
    queues = CallQueue.objects.bulk_create(CallQueue(provider_id=str(9000 + i), name=f"Q{i}") for i in range(QUEUES))
    agents = Agent.objects.bulk_create(Agent(provider_id=str(10**8 + i), name=f"A{i}") for i in range(AGENTS))
    actor = get_user_model().objects.create_user("bench-actor")
    start = datetime(2025, 12, 1, tzinfo=UTC)
    buffer = io.StringIO()
    for i in range(rows):
        at = start + timedelta(seconds=i * 31_536_000 // rows)
        who = actor.pk if i % 50 == 0 else r"\N"
        outcome = "failed" if i % 97 == 0 else "applied"
        buffer.write(f"{at.isoformat()}\t{who}\t{rng.choice(REASONS)}\tringcentral\t{rng.choice(queues).pk}\t"
                     f"{rng.choice(agents).pk}\tqueue_calls\tfalse\ttrue\t{outcome}\n")  # fmt: skip
    buffer.seek(0)
    columns = "created_at, actor_id, reason, provider, queue_id, agent_id, field, old_value, new_value, outcome"
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        # Rows backdated over a year are what the audit's guard refuses: load them as a replica, triggers off.
        cursor.execute("SET session_replication_role = replica")
        with cursor.copy(f"COPY {table} ({columns}, error_code, error_message, api_call) FROM STDIN") as copy:
            for line in buffer:
                copy.write(line.rstrip("\n") + "\t\t\t\n")
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute(f"ANALYZE {table}")


def measure(client, url: str, repeat: int = 5) -> tuple[float, int]:
    """Median render time in ms and SQL queries of one admin page (after a warm-up)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times), len(queries.captured_queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows instead of 1,000,000")
    args = parser.parse_args()
    url = os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        print("BENCH_DATABASE_URL must be PostgreSQL: this benchmark measures PostgreSQL's plans")
        return 2
    ensure_database(url)
    sys.path.insert(0, os.path.dirname(__file__))
    from _django import setup

    setup("audit_admin")
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from queues.models import Agent
    from scheduler.roles import SUPERVISOR, ensure_supervisor_group

    rows = 20_000 if args.quick else 1_000_000
    began = time.perf_counter()
    build(rows)
    print(f"loaded {rows:,} audit rows in {time.perf_counter() - began:.1f} s")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    ensure_supervisor_group()
    user = get_user_model().objects.create_user("bench-supervisor", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    client = Client()
    client.force_login(user)
    agent = Agent.objects.order_by("pk")[AGENTS // 2]
    history = f"/admin/queues/auditentry/?agent__id__exact={agent.pk}"
    pages = {
        "audit changelist": "/admin/queues/auditentry/",
        "agent's history": history,
        "agent's history, one month": f"{history}&created_at__year=2026&created_at__month=3",
        "failed, by reason": "/admin/queues/auditentry/?outcome__exact=failed&reason=drift",
        "search by agent name": f"/admin/queues/auditentry/?q={agent.name}",
    }  # fmt: skip
    slow = False
    for name, page in pages.items():
        ms, queries = measure(client, page)
        verdict = "ok" if ms < 300 else "SLOW (target < 300 ms)"
        slow |= ms >= 300 and name in ("audit changelist", "agent's history")
        print(f"{name:<28} {ms:7.1f} ms  {queries:2d} SQL queries  {verdict}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
