"""RingCentral pacing: Medium-group writes through the client, against the emulator, with RingCentral's real limits.

Prints, for N writes at 40 per window (the window shrunk from 60 s to keep the run
short): the time taken, the least time the limit allows, and the 429s met, first from
one process, then from two worker processes sharing one Redis budget; then the writes
per second with limits off. Exits 1 if a paced run met a 429 or took over 10% more than
the limit's own minimum.

    python bench/ringcentral_pacing.py            # 400 writes, 3 s window (about a minute)
    python bench/ringcentral_pacing.py --quick    # a smoke run of a few seconds (CI)
"""

import argparse
import math
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
# The client's module reads Django's settings and models (the shared session); this run keeps its tokens in memory.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler.settings")
os.environ.setdefault("DEBUG", "on")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402

from integrations.ringcentral.client import RingCentralClient  # noqa: E402
from integrations.ringcentral.ratelimit import DEFAULT_LIMITS, MEDIUM, InProcessStore, RedisStore  # noqa: E402
from tests.support.emulators import RingCentralProcess  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/0"
QUEUE, AGENTS = "1081167000", ("111111111", "222222222")
SEED = f"""
queues: [{{id: "{QUEUE}", name: Support}}]
agents: [{{id: "{AGENTS[0]}", name: James Smith}}, {{id: "{AGENTS[1]}", name: Maria Lopez}}]
shifts:
  - {{name: Support, queues: ["{QUEUE}"], agents: {list(AGENTS)}, days: [mon], start: "08:00", end: "12:00"}}
"""
TOLERANCE = 0.10


@dataclass(frozen=True)
class Plan:
    writes: int
    window: float
    unpaced_writes: int


FULL, QUICK = Plan(writes=400, window=3.0, unpaced_writes=2000), Plan(writes=80, window=3.0, unpaced_writes=300)


def least_time(writes: int, limit: int, window: float) -> float:
    """The least time `writes` can take at `limit` per sliding window: the last window's share goes at once."""
    return (math.ceil(writes / limit) - 1) * window


def write_many(client_kwargs: dict, redis_prefix: str | None, writes: int, agent: str, ready, finished) -> None:
    """A worker: log in, wait for the others, write `writes` times, then report the wall-clock time it finished."""
    store = RedisStore(REDIS_URL, prefix=redis_prefix) if redis_prefix else InProcessStore()
    client = RingCentralClient(**client_kwargs, store=store)
    client.read_queue(QUEUE)  # logs in (Auth) and reads (Light): the Medium budget stays untouched
    ready.wait(timeout=60)
    for n in range(writes):
        client.write_queue_presence(QUEUE, {agent: n % 2 == 0})
    finished.put(time.time())


def timed_run(emulator: RingCentralProcess, workers: int, writes: int, redis_prefix: str | None) -> tuple[float, int]:
    """(seconds, 429s met) for `writes` split across `workers` processes that start writing together."""
    emulator.reset()
    context = multiprocessing.get_context("spawn")
    ready, finished = context.Barrier(workers + 1), context.Queue()
    share = writes // workers
    processes = [
        context.Process(target=write_many, args=(emulator.client_kwargs(), redis_prefix, share, agent, ready, finished))
        for agent in AGENTS[:workers]
    ]
    for process in processes:
        process.start()
    ready.wait(timeout=60)
    started = time.time()
    seconds = max(finished.get(timeout=600) for _ in processes) - started
    for process in processes:
        process.join()
    return seconds, sum(1 for r in emulator.requests() if r["status"] == 429)


def report(label: str, seconds: float, refused: int, least: float) -> bool:
    """Print one paced run; whether it met no 429 and stayed within the tolerance of the least time."""
    passed = refused == 0 and seconds <= least * (1 + TOLERANCE)
    over = (seconds / least - 1) * 100
    print(f"  {label:<30} {seconds:6.2f} s  ({over:+.1f}% vs least)  429s: {refused}  {'ok' if passed else 'FAIL'}")
    return passed


def redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL).ping())
    except redis.RedisError:
        return False


def main(quick: bool) -> int:
    plan, limit = (QUICK if quick else FULL), DEFAULT_LIMITS[MEDIUM]
    least = least_time(plan.writes, limit, plan.window)
    print(f"RingCentral pacing: {plan.writes} Medium writes, {limit} per {plan.window:g} s window (real counts)")
    print(f"  least time the limit allows: {least:.1f} s ({plan.writes}/{limit} x {plan.window:g} s = ", end="")
    print(f"{plan.writes / limit * plan.window:.1f} s, less the last window, whose writes go at once)")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as seed:
        seed.write(SEED)
        seed.flush()
        with RingCentralProcess(seed.name, "--rate-window", f"{plan.window:g}") as emulator:
            passed = report("one process", *timed_run(emulator, 1, plan.writes, None), least)
            if redis_up():
                prefix = f"bench-rc-pacing:{uuid.uuid4().hex}"
                passed &= report("two processes, Redis budget", *timed_run(emulator, 2, plan.writes, prefix), least)
            elif quick:
                print(f"  two processes, Redis budget:  skipped (no Redis at {REDIS_URL})")
            else:
                print(f"  two processes, Redis budget:  FAIL (no Redis at {REDIS_URL})")
                passed = False
            print(f"  limits off, one process:       {unpaced_rate(emulator, plan.unpaced_writes):6.0f} writes/s")
    return 0 if passed else 1


def unpaced_rate(emulator: RingCentralProcess, writes: int) -> float:
    """Writes per second from one process with the emulator's limits off."""
    emulator.reset()
    emulator.configure(rate_limits=False)
    client = RingCentralClient(**emulator.client_kwargs(), store=InProcessStore())
    client.read_queue(QUEUE)
    started = time.perf_counter()
    for n in range(writes):
        client.write_queue_presence(QUEUE, {AGENTS[0]: n % 2 == 0})
    return writes / (time.perf_counter() - started)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run of a few seconds")
    sys.exit(main(parser.parse_args().quick))
