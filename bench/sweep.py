"""The rolling sweep against the emulator with RingCentral's real limit counts: reads a minute in steady state.

For 150 and 300 queues (1,500 and 3,000 agents in 2-5 queues each, every agent's DnD managed),
prints today's full pass (reads it makes, every minute) beside the sweep: reads in each
"minute", the share of the Light budget that is, 429s met, and the minutes until every queue
and agent had been read again. The emulator's window is shrunk from 60 s to WINDOW seconds and
the sweep ticks once a window, so a "minute" here is WINDOW seconds; the counts are the real
ones (Light 50 a window). Exits 1 if the sweep met a 429, went over its share, or left a value
unread past its cycle.

    python bench/sweep.py            # 150 and 300 queues
    python bench/sweep.py --quick    # 15 and 30 queues (CI)
"""

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml
from _django import ROOT, setup

WINDOW = 3.0  # seconds the emulator counts its limits over, in place of 60
LIGHT = 50


def schedule(queues: int, agents_per_queue: int = 10, seed: int = 13) -> dict:
    """`queues` queues, 10x as many agents in 2-5 queues each, one all-day shift per agent, DnD managed."""
    rng = random.Random(seed)
    queue_ids = [str(100000 + i) for i in range(queues)]
    agent_ids = [str(500000 + i) for i in range(queues * agents_per_queue)]
    return {
        "timezone": "UTC",
        "queues": [{"id": q, "name": f"Q{q}"} for q in queue_ids],
        "agents": [{"id": a, "name": f"A{a}", "off_shift_dnd": "DoNotAcceptDepartmentCalls"} for a in agent_ids],
        "shifts": [
            {
                "name": f"S{a}",
                "queues": rng.sample(queue_ids, rng.randint(2, 5)),
                "agents": [a],
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start": "00:00",
                "end": "12:00",
            }
            for a in agent_ids
        ],
    }


def read_ids(requests: list[dict]) -> tuple[int, set[str]]:
    """(presence GETs, the queue and agent ids they read)."""
    reads, ids = 0, set()
    for r in requests:
        path = r["path"].split("?")[0]
        if r["method"] == "GET" and path.endswith("/presence"):
            reads += 1
            ids.update(path.split("/")[-2].split(","))
    return reads, ids


def measure(queues: int) -> bool:
    from django.conf import settings
    from django.utils import timezone

    from integrations.ringcentral.client import RingCentralClient
    from integrations.ringcentral.ratelimit import InProcessStore
    from scheduler.models import SweepCursor
    from scheduler.reconcile.run import plan_at, reconcile, reconcile_locked
    from scheduler.reconcile.sweep import current_plan, sweep
    from scheduler.schedule.importer import import_schedule
    from scheduler.schedule.parse import parse_schedule
    from tests.support.emulators import RingCentralProcess

    document = schedule(queues)
    # The smaller size's ids are a prefix of the larger one's, so this import updates what an earlier size left.
    import_schedule(parse_schedule(yaml.safe_dump(document)))
    SweepCursor.objects.all().delete()
    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed.yaml"
        seed.write_text(yaml.safe_dump(document))
        with RingCentralProcess(seed, "--rate-window", f"{WINDOW:g}") as emulator:
            rc = RingCentralClient(**emulator.client_kwargs(), store=InProcessStore())
            reconcile_locked(provider=rc, trigger="bench", wait=60)  # steady state: the provider matches the plan
            emulator.clear_requests()
            reconcile(provider=rc, at=timezone.now(), trigger="bench", dry_run=True)
            full_reads, _ = read_ids(emulator.requests())
            plan = current_plan(rc)
            managed = plan_at(rc, timezone.now(), boundary=None, only=None)[1]
            everything = {t.queue_id for t in managed if not t.is_dnd} | {t.agent_id for t in managed if t.is_dnd}
            emulator.clear_requests()
            per_minute, unread, minutes_to_all, refused = [], set(everything), None, 0
            for minute in range(1, 2 * plan.minutes_per_cycle + 1):
                started = time.monotonic()
                sweep(provider=rc)
                requests = emulator.requests()
                emulator.clear_requests()
                reads, ids = read_ids(requests)
                refused += sum(r["status"] == 429 for r in requests)
                per_minute.append(reads)
                unread -= ids
                if not unread and minutes_to_all is None:
                    minutes_to_all = minute
                time.sleep(max(0.0, WINDOW - (time.monotonic() - started)))
    steady = max(per_minute)
    share = settings.SWEEP_BUDGET_SHARE
    print(f"  {queues} queues, {len(document['agents'])} agents (2-5 queues each, DnD managed)")
    print(f"    today's full pass:  {full_reads} reads every minute ({full_reads / LIGHT:.0%} of Light's {LIGHT})")
    print(
        f"    rolling sweep:      {steady} reads a minute at most ({steady / LIGHT:.0%} of Light; share {share:.0%}), "
        f"429s: {refused}"
    )
    print(
        f"    every value re-read within {minutes_to_all} minute(s) "
        f"(plan: {plan.reads_per_minute} reads a minute, {plan.minutes_per_cycle} minutes a cycle)"
    )
    in_cycle = minutes_to_all is not None and minutes_to_all <= plan.minutes_per_cycle
    return refused == 0 and steady <= LIGHT * share and in_cycle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 and 30 queues, for CI's smoke run")
    args = parser.parse_args()
    setup("sweep")
    sys.path.insert(0, str(ROOT))
    print(f"Rolling sweep vs the every-minute full pass (emulator limits: Light {LIGHT} per {WINDOW:g} s 'minute')")
    passed = True
    for queues in (15, 30) if args.quick else (150, 300):
        passed &= measure(queues)
    print("ok" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
