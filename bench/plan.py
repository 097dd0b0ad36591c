"""Planner at scale: one `plan` at an instant and one week of `boundaries`.

Full size: 10,000 agents, 500 queues, 2,000 shifts (2 queues and 10 agents each),
5,000 time-off entries, 1,000 changed occurrences (cancelled, moved two hours, or one agent
covering another). Targets: plan < 0.5 s with a constant number of SQL
queries, a week of boundaries < 2 s. `--quick` runs a tenth of that.
"""

import argparse
import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from _django import setup

SIZES = {"agents": 10_000, "queues": 500, "shifts": 2_000, "time_off": 5_000, "changes": 1_000}
ZONES = ["America/New_York", "Europe/Kyiv", "Europe/London", "Asia/Tokyo", "America/Los_Angeles"]


def build(scale: float, seed: int = 7) -> None:
    """Fill the database with a random but reproducible schedule."""
    from queues.models import Agent, CallQueue
    from scheduler.models import OccurrenceChange, Shift, TimeOff

    rng = random.Random(seed)
    n = {k: max(1, int(v * scale)) for k, v in SIZES.items()}
    queues = CallQueue.objects.bulk_create(
        CallQueue(provider_id=str(9000 + i), name=f"Q{i}") for i in range(n["queues"])
    )
    agents = Agent.objects.bulk_create(
        Agent(provider_id=str(10**8 + i), name=f"A{i}", off_shift_dnd="DoNotAcceptDepartmentCalls" if i % 2 else None)
        for i in range(n["agents"])
    )
    shifts = Shift.objects.bulk_create(
        Shift(
            name=f"S{i}",
            timezone=rng.choice(ZONES),
            start_time=datetime(2000, 1, 1, rng.randrange(24), rng.choice([0, 30])).time(),
            end_time=datetime(2000, 1, 1, rng.randrange(24), 15).time(),
            days=",".join(sorted(rng.sample(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], 5))),
        )
        for i in range(n["shifts"])
    )
    Shift.queues.through.objects.bulk_create(
        Shift.queues.through(shift_id=s.pk, callqueue_id=q.pk) for s in shifts for q in rng.sample(queues, 2)
    )
    roster = {s.pk: rng.sample(agents, 10) for s in shifts}
    Shift.agents.through.objects.bulk_create(
        Shift.agents.through(shift_id=s.pk, agent_id=a.pk) for s in shifts for a in roster[s.pk]
    )
    base = datetime(2026, 11, 23, tzinfo=UTC)
    TimeOff.objects.bulk_create(
        TimeOff(
            agent=rng.choice(agents),
            start=(s := base + timedelta(hours=rng.randrange(24 * 14))),
            end=s + timedelta(hours=rng.randrange(1, 72)),
            timezone="UTC",
        )
        for _ in range(n["time_off"])
    )
    _changes(rng, n["changes"], shifts, roster, agents, base, OccurrenceChange)


def _changes(rng, count: int, shifts, roster, agents, base: datetime, model) -> None:
    """`count` changed occurrences in the two weeks from `base`, each on a day its shift runs."""
    picked: dict = {}
    while len(picked) < count:
        shift = rng.choice(shifts)
        day = (base + timedelta(days=rng.randrange(14))).date()
        if day.strftime("%a").lower() not in shift.days.split(",") or (shift.pk, day) in picked:
            continue
        kind = len(picked) % 3  # cancelled, moved, substituted
        moved = datetime.combine(day, shift.start_time, tzinfo=UTC) + timedelta(hours=2) if kind == 1 else None
        picked[(shift.pk, day)] = model(
            shift=shift, occurrence=day, cancelled=kind == 0, start=moved, end=moved and moved + timedelta(hours=3)
        )
    swapped = model.objects.bulk_create(picked.values())[2::3]
    model.absent.through.objects.bulk_create(
        model.absent.through(occurrencechange_id=c.pk, agent_id=roster[c.shift_id][0].pk) for c in swapped
    )
    model.covering.through.objects.bulk_create(
        model.covering.through(occurrencechange_id=c.pk, agent_id=rng.choice(agents).pk) for c in swapped
    )


def measure() -> dict:
    """Time one plan (with its query count) and one week of boundaries, each including the snapshot load."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduler.planning import boundaries, desired_state
    from scheduler.selectors import schedule_snapshot

    at = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        state = desired_state(schedule_snapshot(start=at, end=at + timedelta(microseconds=1)), at)
        plan_seconds = time.perf_counter() - started
    week_start, week_end = datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    started = time.perf_counter()
    found = boundaries(schedule_snapshot(start=week_start, end=week_end), week_start, week_end)
    week_seconds = time.perf_counter() - started
    snapshot = schedule_snapshot(start=week_start, end=week_end)
    bare = replace(snapshot, shifts=tuple(replace(s, changes=()) for s in snapshot.shifts))
    return {
        "plan_seconds": plan_seconds,
        "plan_queries": len(queries),
        "pairs": len(state.accept),
        "accepting": sum(state.accept.values()),
        "week_seconds": week_seconds,
        "boundaries": len(found),
        # the planner alone, best of 3 (the machine is shared): the week with and without its changes
        "sweep_seconds": _best_of(3, lambda: boundaries(snapshot, week_start, week_end)),
        "bare_sweep_seconds": _best_of(3, lambda: boundaries(bare, week_start, week_end)),
    }


def _best_of(runs: int, work) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the full size, for CI's smoke run")
    args = parser.parse_args()
    setup("plan")
    scale = 0.1 if args.quick else 1.0
    build(scale)
    m = measure()
    print(f"size: {', '.join(f'{k}={int(v * scale)}' for k, v in SIZES.items())}")
    print(
        f"plan at an instant: {m['plan_seconds'] * 1000:.0f} ms, {m['plan_queries']} SQL queries, "
        f"{m['pairs']} managed pairs, {m['accepting']} accepting (target < 500 ms)"
    )
    print(
        f"boundaries for one week: {m['week_seconds'] * 1000:.0f} ms, {m['boundaries']} boundaries (target < 2000 ms)"
    )
    print(
        f"the week's sweep alone, best of 3: {m['sweep_seconds'] * 1000:.0f} ms with the changes, "
        f"{m['bare_sweep_seconds'] * 1000:.0f} ms with them stripped"
    )
    if not args.quick:
        met = m["plan_seconds"] < 0.5 and m["week_seconds"] < 2
        print(f"targets met: {'yes' if met else 'NO'}")


if __name__ == "__main__":
    main()
