"""How long plan compliance takes at scale: the now board's "today so far" and a 7-day report.

300 queues, 3,000 agents in 2-5 queues each, 400 eight-hour daily shifts across three zones,
and a week of the actual-value log (each value written a second after each boundary, plus a
ten-minute drift for one value in twenty each day). Times `compliance_today` (what every board
refresh computes) and `compliance_report` over 7 days (the command and the admin page).
BENCH_DATABASE_URL picks the database (default: a fresh SQLite file). `--quick`: a tenth of the size.
"""

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # a Wednesday evening in UTC
ZONES = ["America/New_York", "Europe/Kyiv", "Asia/Tokyo"]
EVERY_DAY = "mon,tue,wed,thu,fri,sat,sun"
T = TypeVar("T")


def build(queues: int, agents: int, shifts: int, rng: random.Random) -> int:
    """The queues, agents, shifts and memberships, and a week of the log; returns the log's rows."""
    from datetime import time as clock

    from queues.models import ActualChange, Agent, AuditField, CallQueue, QueueMembership
    from scheduler.models import Shift
    from scheduler.reports.compliance import plan_steps
    from scheduler.selectors import schedule_snapshot

    qs = CallQueue.objects.bulk_create(
        CallQueue(provider_id=f"q{n}", name=f"Queue {n}", min_staff=2) for n in range(queues)
    )
    people = Agent.objects.bulk_create(Agent(provider_id=f"a{n}", name=f"Agent {n}") for n in range(agents))
    rows = Shift.objects.bulk_create(
        Shift(
            name=f"S{n}",
            timezone=ZONES[n % 3],
            start_time=clock(rng.randrange(24)),
            end_time=clock((rng.randrange(24) + 8) % 24 or 1),
            days=EVERY_DAY,
        )  # fmt: skip
        for n in range(shifts)
    )
    staffs = {shift.pk: rng.sample(qs, rng.randint(2, 5)) for shift in rows}  # each agent in her shift's queues
    Shift.queues.through.objects.bulk_create(
        Shift.queues.through(shift_id=shift, callqueue_id=q.pk) for shift, its in staffs.items() for q in its
    )
    agent_links, members = [], []
    for n, agent in enumerate(people):
        shift = rows[n % shifts]
        agent_links.append(Shift.agents.through(shift_id=shift.pk, agent_id=agent.pk))
        members += [QueueMembership(queue=queue, agent=agent) for queue in staffs[shift.pk]]
    Shift.agents.through.objects.bulk_create(agent_links)
    QueueMembership.objects.bulk_create(members, batch_size=2000)
    start = NOW - timedelta(days=8)
    plan = plan_steps(schedule_snapshot(start=start, end=NOW), start, NOW)
    ids = {(m.queue.provider_id, m.agent.provider_id): (m.queue_id, m.agent_id) for m in members}
    log = []
    for pair, steps in plan.items():
        if pair not in ids:
            continue
        q, a = ids[pair]
        for at, value in steps:
            value_word = "true" if value else "false"
            log.append(ActualChange(queue_id=q, agent_id=a, field=AuditField.QUEUE_CALLS,
                                    value=value_word, at=at + timedelta(seconds=1), source="written"))  # fmt: skip
            if rng.random() < 0.05 and value:
                drift = at + timedelta(hours=1)
                log.append(ActualChange(queue_id=q, agent_id=a, field=AuditField.QUEUE_CALLS, value="false", at=drift,
                                        source="heard"))  # fmt: skip
                log.append(ActualChange(queue_id=q, agent_id=a, field=AuditField.QUEUE_CALLS, value="true",
                                        at=drift + timedelta(minutes=10), source="written"))  # fmt: skip
    ActualChange.objects.bulk_create(log, batch_size=2000)
    return len(log)


def timed(function: Callable[..., T], **kwargs: Any) -> tuple[float, T]:
    started = time.perf_counter()
    result = function(**kwargs)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size (CI's smoke run)")
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(__file__))
    from _django import setup

    setup("compliance")
    from zoneinfo import ZoneInfo

    from scheduler.reports.compliance import compliance_report, compliance_today

    scale = 10 if args.quick else 1
    queues, agents, shifts = 300 // scale, 3000 // scale, 400 // scale
    started = time.perf_counter()
    logged = build(queues, agents, shifts, random.Random(13))
    print(f"{queues} queues, {agents} agents, {shifts} shifts, {logged:,} log rows (built in "
          f"{time.perf_counter() - started:.1f} s)")  # fmt: skip
    tz = ZoneInfo("America/New_York")
    board, today = timed(compliance_today, at=NOW, tz=tz)  # the first call: the cache is empty
    last = NOW.astimezone(tz).date()
    week, rows = timed(compliance_report, first=last - timedelta(days=6), last=last, tz=tz, now=NOW)
    deviations = sum(len(r.tally.deviations) for r in rows)
    known = [p for p in today.values() if p is not None]
    print(f"board, today so far: {board:.2f} s ({len(known)} queues with a figure, "
          f"lowest {min(known, default=0):.1f}%)")  # fmt: skip
    print(f"report, 7 days: {week:.2f} s ({len(rows)} queue-days, {deviations:,} deviations)")


if __name__ == "__main__":
    main()
