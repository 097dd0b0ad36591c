"""Boundary skew with a real Celery worker and beat: boundary instant to first and last write.

Each boundary starts two one-pair shifts in different queues (two write calls). Boundaries
are 2.5 s apart, just ahead of the dispatcher's horizon; the emulator's request log gives
each write's time. Target: p95 of boundary-to-first-write under 1 s. `--quick`: 6 boundaries.

Then again with RingCentral's real limit counts (the window shrunk from 60 s to WINDOW s, every
process pacing in one Redis budget) while other work spends the read budget (the sweep's 40%
evenly, and a pass reading queues as fast as the budget lets it): without the listener, where a
boundary run reads its queues before it writes, and with `manage.py listen_ringcentral` live,
where it writes from what was heard.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from _django import ROOT, setup

FIRST_AHEAD, SPACING = 25.0, 2.5
WINDOW = 6.0  # seconds the emulator counts its limits over, in place of 60 (real limits)
REDIS_URL = "redis://127.0.0.1:6379/0"


def schedule(count: int, start: datetime) -> dict:
    queues, agents, shifts = [], [], []
    for i in range(count):
        at = start + timedelta(seconds=SPACING * i)
        for side in (0, 1):
            queue_id, agent_id = str(60000 + 2 * i + side), str(70000 + 2 * i + side)
            queues.append({"id": queue_id, "name": f"Q{queue_id}"})
            agents.append({"id": agent_id, "name": f"A{agent_id}"})
            shifts.append(
                {
                    "name": f"S{i}-{side}",
                    "queues": [queue_id],
                    "agents": [agent_id],
                    "days": ["mon"],
                    "start": "00:00",
                    "end": "01:00",
                    "_at": at,
                }
            )
    return {"timezone": "UTC", "queues": queues, "agents": agents, "shifts": shifts}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 boundaries, for CI's smoke run")
    args = parser.parse_args()
    count = 6 if args.quick else 50
    setup("skew")
    sys.path.insert(0, str(ROOT))
    first, last, missing = run(count, real_limits=False, listener=False)
    print(f"boundaries: {count}, with both writes seen: {len(first)}, missing: {missing}")
    print_skews(first, last)
    if not args.quick:
        print(f"target met: {'yes' if not missing and pct(first, 95) < 1 else 'NO'}")
    print(f"Real limit counts (Light 50, Medium 40 a {WINDOW:g} s window), the sweep and a pass spending the reads:")
    for listener in (False, True):
        first, last, missing = run(count, real_limits=True, listener=listener)
        print(f"  {'listener live, writes from heard values' if listener else 'no listener, reads before writing'}:"
              f" {len(first)} of {count} boundaries written, missing {missing}")  # fmt: skip
        print_skews(first, last, indent="    ")


def run(count: int, *, real_limits: bool, listener: bool) -> tuple[list[float], list[float], int]:
    """Boundaries from ~25 s ahead, a worker, beat (and a listener); per boundary, seconds to its writes."""
    from integrations.ringcentral.client import RingCentralClient
    from queues.models import ListenerSession
    from scheduler.models import DispatchedBoundary, Shift
    from scheduler.reconcile.run import reconcile_locked
    from scheduler.schedule.importer import import_schedule
    from scheduler.schedule.parse import parse_schedule
    from tests.e2e.stack import Stack
    from tests.support.emulators import RingCentralProcess

    start = (datetime.now(UTC) + timedelta(seconds=FIRST_AHEAD + (20 if listener else 0))).replace(microsecond=0)
    document = schedule(count, start)
    starts = {s["name"]: s.pop("_at") for s in document["shifts"]}
    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed.yaml"
        seed.write_text(yaml.safe_dump(document))
        import_schedule(parse_schedule(seed.read_text()))
        DispatchedBoundary.objects.all().delete()
        for name, at in starts.items():
            end = at + timedelta(hours=1)
            Shift.objects.filter(name=name).update(
                days="mon,tue,wed,thu,fri,sat,sun", start_time=at.time(), end_time=end.time()
            )
        with RingCentralProcess(seed, "--rate-limits", "off") as emulator:
            # Everyone off before the first boundary; then the dispatcher (every 5 s) must do the rest
            # while the every-minute safety net runs beside it, as in production.
            rc = RingCentralClient(**emulator.client_kwargs())
            reconcile_locked(provider=rc, trigger="bench")
            stack = Stack(emulator, Path(tmp), tick_seconds=5, safety_net_seconds=60)
            stop = threading.Event()
            try:
                if real_limits:
                    emulator.configure(rate_limits=True, rate_window=WINDOW)
                    stack.env["RC_RATE_LIMIT_REDIS_URL"] = REDIS_URL
                    spend_reads(emulator, stop, [q["id"] for q in document["queues"]])
                stack.worker()
                stack.beat()
                if listener:
                    listen(stack)
                    while not ListenerSession.objects.filter(connected=True, live_since__isnull=False).exists():
                        time.sleep(0.5)
                last_boundary = start + timedelta(seconds=SPACING * (count - 1))
                time.sleep(max(0.0, (last_boundary - datetime.now(UTC)).total_seconds() + 5))
                writes = [r for r in emulator.requests() if r["method"] == "PUT"]
            finally:
                stop.set()
                stack.stop()
                logs = stack.logs()
    first, last = skews(writes, count, start)
    if not first:
        sys.exit(f"no boundary was written: see the worker and beat logs\n{logs}")
    return first, last, count - len(first)


def spend_reads(emulator, stop: threading.Event, queue_ids: list[str]) -> None:
    """Other work in the same Redis read budget: the sweep's 40% spread evenly, and a pass taking what is left."""
    from integrations.base import ProviderError
    from integrations.ringcentral.client import RingCentralClient
    from integrations.ringcentral.ratelimit import RedisStore

    def reader(every: float) -> None:
        rc = RingCentralClient(**emulator.client_kwargs(), store=RedisStore(REDIS_URL))
        n = 0
        while not stop.wait(every):
            try:
                rc.read_queue_presence(queue_ids[n % len(queue_ids)])
            except ProviderError:
                pass  # given up after its retries: the pass goes on with the next queue
            n += 1

    for every in (WINDOW / 20, 0.0):
        threading.Thread(target=reader, args=(every,), daemon=True).start()


def listen(stack) -> None:
    log = open(stack.tmp_path / "listener.log", "w")  # noqa: SIM115 - closed with the process
    command = [sys.executable, "manage.py", "listen_ringcentral"]
    process = subprocess.Popen(command, cwd=ROOT, env=stack.env, stdout=log, stderr=log, start_new_session=True)
    stack.processes.append(process)


def print_skews(first: list[float], last: list[float], indent: str = "") -> None:
    print(
        f"{indent}boundary -> first write: p50 {pct(first, 50):.3f} s, p95 {pct(first, 95):.3f} s, "
        f"max {max(first):.3f} s (target p95 < 1 s)"
    )
    print(
        f"{indent}boundary -> last write:  p50 {pct(last, 50):.3f} s, p95 {pct(last, 95):.3f} s, max {max(last):.3f} s"
    )


def skews(writes: list[dict], count: int, start: datetime) -> tuple[list[float], list[float]]:
    """Per boundary, seconds from the boundary to its first and last write."""
    first, last = [], []
    for i in range(count):
        at = (start + timedelta(seconds=SPACING * i)).timestamp()
        ids = [str(60000 + 2 * i + s) for s in (0, 1)] + [str(70000 + 2 * i + s) for s in (0, 1)]
        times = sorted(w["at"] - at for w in writes if w["at"] >= at - 0.5 and any(f"/{x}/" in w["path"] for x in ids))
        if len(times) >= 2:
            first.append(times[0])
            last.append(times[1])
    return first, last


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


if __name__ == "__main__":
    main()
