"""Callrota at scale: today's every-minute polling beside events + the rolling sweep, with RingCentral's real limits.

300 queues, 3,000 agents in 2-5 queues each (half with their DnD managed), 400 shifts across
three zones (New York, London, Kolkata), served by the RingCentral emulator with its real limit
counts (Light 50, Medium 40, Auth 5 a window, a 429's penalty as long as the window). Each mode runs
a real Celery worker and beat (and, for events, `manage.py listen_ringcentral`) on its own
PostgreSQL database, pacing through one Redis budget as production does:

  today's polling  the old every-minute full pass (`scheduler.tasks.reconcile_schedule` with no
                   boundary, as the retired "reconcile: safety net" entry ran it), no listener,
                   no sweep; boundary runs through the dispatcher as today
  events + sweep   the listener, the rolling sweep each minute, boundary runs and corrections

Time scale: the emulator's window is shrunk from 60 s to 60/SCALE s (`--rate-window`; its penalty
is the window too, and the client learns the window from the X-Rate-Limit-Window header), and the
sweep or full pass ticks once a window. So one window is one "minute": counts per window are
counts per minute, and a time that waits on the budget is printed multiplied back by SCALE,
labelled "x SCALE". Times that do not wait on the budget (a first write while the budget has room,
drift put back through the listener) are printed as measured.

Measured per mode: API reads a minute in steady state (and the share of Light's 50), 429s,
boundary -> first and last write for busy boundaries (each starts and ends many shifts at once in
all three zones), drift put back after flips made at the phone, time until every managed value has
been read (from the stack's start), the worker's peak memory (RSS, main process and pool children).
Exits 1 if events + sweep misses a target: 0 429s, reads < 40% of Light, first write p95 < 1 s,
last write within 1.1 x writes/40 minutes, every value read within 15 minutes.

    python bench/scale.py            # full size, SCALE 10 (about 15 min)
    python bench/scale.py --quick    # a tenth of the size, SCALE 20 (CI)
    python bench/scale.py --mode events [--quick]   # one mode only, prints its figures as JSON
"""

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from _django import ROOT

LIGHT, MEDIUM, WINDOW = 50, 40, 60.0
ZONES = ("America/New_York", "Europe/London", "Asia/Kolkata")
DND = "DoNotAcceptDepartmentCalls"
REDIS_URL = "redis://127.0.0.1:6379/0"
DB_URL = "postgres://postgres@127.0.0.1:5432/callrota_bench_scale_{mode}"


@dataclass(frozen=True)
class Size:
    queues: int
    agents: int
    shifts: int
    starts: int  # shifts starting at each busy boundary
    ends: int  # shifts ending at each busy boundary
    boundaries: int
    spacing: float  # real seconds between busy boundaries
    flips: int
    scale: float
    steady_windows: int


FULL = Size(300, 3000, 400, starts=24, ends=12, boundaries=3, spacing=75, flips=20, scale=10, steady_windows=5)
QUICK = Size(30, 300, 40, starts=3, ends=2, boundaries=2, spacing=12, flips=4, scale=20, steady_windows=2)


@dataclass
class Figures:
    mode: str
    scale: float
    window: float
    reads_per_minute_mean: float
    reads_per_minute_max: int
    refused: int
    first_write: list[float]  # seconds after each busy boundary, as measured
    last_write: list[float]
    writes: list[int]
    drift: list[float]  # seconds, as measured; None entries dropped (counted in drift_missed)
    drift_missed: int
    reread_all: float | None  # seconds from the mode's first API request until every managed value was read
    worker_rss_mb: float
    listener_rss_mb: float


# ---------------------------------------------------------------------------- the schedule


def schedule(size: Size, seed: int = 13) -> dict:
    """Queues, agents (agent i on shift i mod shifts), shifts of 2-5 queues in 3 zones; half the agents' DnD managed.

    Shift times are placeholders: `place_shifts` sets them around the run's boundaries after the import.
    """
    rng = random.Random(seed)
    queue_ids = [str(100000 + i) for i in range(size.queues)]
    agent_ids = [str(500000 + i) for i in range(size.agents)]
    agents = [{"id": a, "name": f"A{a}"} | ({"off_shift_dnd": DND} if i % 2 else {}) for i, a in enumerate(agent_ids)]
    shifts = [
        {
            "name": f"S{s:03d}",
            "queues": rng.sample(queue_ids, rng.randint(2, 5)),
            "agents": agent_ids[s :: size.shifts],
            "timezone": ZONES[s % len(ZONES)],
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "08:00",
            "end": "16:00",
        }
        for s in range(size.shifts)
    ]
    queues = [{"id": q, "name": f"Q{q}"} for q in queue_ids]
    return {"timezone": "UTC", "queues": queues, "agents": agents, "shifts": shifts}


def role(size: Size, shift: int) -> tuple[str, int]:
    """("start" | "end", boundary index) for the shifts that change at a busy boundary; ("steady", -1) else."""
    if shift < size.starts * size.boundaries:
        return "start", shift // size.starts
    shift -= size.starts * size.boundaries
    if shift < size.ends * size.boundaries:
        return "end", shift // size.ends
    return "steady", -1


def place_shifts(size: Size, boundaries: list[datetime], now: datetime) -> None:
    """Steady shifts cover now by three hours either side; each busy boundary starts and ends its shifts."""
    from scheduler.models import Shift

    for shift in Shift.objects.all():
        kind, k = role(size, int(shift.name[1:]))
        zone = ZoneInfo(shift.timezone)
        start = boundaries[k] if kind == "start" else now - timedelta(hours=3)
        end = boundaries[k] if kind == "end" else start + timedelta(hours=3 if kind == "start" else 6)
        shift.start_time = start.astimezone(zone).time().replace(microsecond=0)
        shift.end_time = end.astimezone(zone).time().replace(microsecond=0)
        shift.save(update_fields=["start_time", "end_time"])


# ---------------------------------------------------------------------------- one mode


def run_mode(mode: str, size: Size) -> Figures:
    """Set up the schedule and the emulator, run the mode's processes, and measure."""
    from django.utils import timezone

    from integrations.ringcentral.client import RingCentralClient
    from integrations.ringcentral.ratelimit import InProcessStore
    from scheduler.reconcile.run import plan_at, reconcile_locked
    from scheduler.schedule.importer import import_schedule
    from scheduler.schedule.parse import parse_schedule
    from tests.support.emulators import RingCentralProcess

    window = WINDOW / size.scale
    document = schedule(size)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        seed = tmp / "seed.yaml"
        seed.write_text(yaml.safe_dump(document))
        import_schedule(parse_schedule(seed.read_text()))
        now = timezone.now()
        place_shifts(size, [now + timedelta(hours=1)] * size.boundaries, now)
        with RingCentralProcess(seed, "--rate-limits", "off") as emulator:
            # Steady state first, limits off: the provider matches the plan before anything is measured.
            rc = RingCentralClient(**emulator.client_kwargs(), store=InProcessStore())
            reconcile_locked(provider=rc, trigger="bench", wait=60)
            managed = plan_at(rc, timezone.now(), boundary=None, only=None)[1]
            emulator.configure(rate_limits=True, rate_window=window)
            emulator.clear_requests()
            return measure(mode, size, emulator, tmp, managed)


def coverage_reads(size: Size, mode: str) -> int:
    """Reads a full pass makes (events: the listener's re-read at session start, every agent's DnD)."""
    dnd_agents = size.agents if mode == "events" else size.agents // 2
    return size.queues + math.ceil(dnd_agents / 30)


def measure(mode: str, size: Size, emulator, tmp: Path, managed) -> Figures:
    from django.utils import timezone

    from queues.heard import live_since
    from tests.e2e.stack import Stack, wait_until

    window = WINDOW / size.scale
    stack = Stack(emulator, tmp, tick_seconds=5, safety_net_seconds=max(1, round(window)))
    stack.env["RC_RATE_LIMIT_REDIS_URL"] = REDIS_URL  # one budget for the worker's children and the listener
    if mode == "polling":
        every_minute_full_pass(max(1, round(window)))
    worker = stack.worker()
    stack.beat()
    listener = start_listener(stack) if mode == "events" else None
    peaks = Peaks({"worker": worker.pid} | ({"listener": listener.pid} if listener else {}))
    try:
        wanted = {t.queue_id for t in managed if not t.is_dnd} | {t.agent_id for t in managed if t.is_dnd}
        reread_all = until_read(emulator, wanted, timeout=4 * coverage_reads(size, mode) / LIGHT * window + 60)
        # Steady state: the listener's session live and its first re-read stored (events), or the passes going.
        deadline = time.time() + 10 * 60
        while mode == "events" and live_since("ringcentral") is None and time.time() < deadline:
            time.sleep(1.0)
        steady_from = time.time()
        time.sleep(size.steady_windows * window)
        per_window = light_reads_per_window(emulator.requests(), steady_from, size.steady_windows, window)
        # The busy boundaries, placed now: the dispatcher (every 5 s, 3 minutes ahead) enqueues each.
        first_at = (timezone.now() + timedelta(seconds=20)).replace(microsecond=0)
        boundaries = [first_at + timedelta(seconds=size.spacing * k) for k in range(size.boundaries)]
        place_shifts(size, boundaries, timezone.now())
        tail = size.spacing * (1 if mode == "events" else 3)  # polling's last boundary waits behind passes
        wait_until(boundaries[-1], then=tail)
        first, last, writes = boundary_writes(emulator.requests(), boundaries, size.spacing, tail)
        passes = 6 * coverage_reads(size, mode) / LIGHT * window  # polling: a flip waits for a pass to reach it
        drift, missed = flips(emulator, size, managed, timeout=30 if mode == "events" else passes)
        refused = sum(r["status"] == 429 for r in emulator.requests())
    finally:
        peaks.stop()
        stack.stop()
        kept = ROOT / "var" / f"bench-scale-{mode}-logs"  # the worker's, beat's and listener's logs, to read after
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(tmp, kept, ignore=shutil.ignore_patterns("*.sqlite3", "*.db", "*.yaml"))
    return Figures(
        mode=mode,
        scale=size.scale,
        window=window,
        reads_per_minute_mean=statistics.mean(per_window),
        reads_per_minute_max=max(per_window),
        refused=refused,
        first_write=first,
        last_write=last,
        writes=writes,
        drift=drift,
        drift_missed=missed,
        reread_all=None if reread_all is None else reread_all - min(r["at"] for r in emulator.requests()),
        worker_rss_mb=peaks.peak.get("worker", 0) / 1024,
        listener_rss_mb=peaks.peak.get("listener", 0) / 1024,
    )


def every_minute_full_pass(seconds: int) -> None:
    """Today's polling: the full pass each "minute" in place of the sweep (the retired safety net's entry)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

    interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name="reconcile: rolling sweep").update(enabled=False)
    PeriodicTask.objects.update_or_create(
        name="bench: every-minute full pass",
        defaults={"task": "scheduler.tasks.reconcile_schedule", "interval": interval, "crontab": None},
    )
    PeriodicTasks.update_changed()


def start_listener(stack) -> subprocess.Popen:
    log = open(stack.tmp_path / "listener.log", "w")  # noqa: SIM115 - closed with the process
    command = [sys.executable, "manage.py", "listen_ringcentral"]
    process = subprocess.Popen(command, cwd=ROOT, env=stack.env, stdout=log, stderr=log, start_new_session=True)
    stack.processes.append(process)
    return process


def until_read(emulator, wanted: set[str], *, timeout: float) -> float | None:
    """The wall-clock time by which every id in `wanted` was read (a presence GET); None past `timeout`."""
    from sweep import read_ids

    deadline = time.time() + timeout
    while time.time() < deadline:
        requests = emulator.requests()
        _, ids = read_ids(requests)
        if wanted <= ids:
            return last_read_of(requests, wanted)
        time.sleep(1.0)
    return None


def last_read_of(requests: list[dict], wanted: set[str]) -> float:
    """When the last of `wanted` was first read."""
    from sweep import read_ids

    seen: set[str] = set()
    for r in requests:
        seen |= read_ids([r])[1]
        if wanted <= seen:
            return r["at"]
    raise ValueError("not every id was read")


def light_reads_per_window(requests: list[dict], since: float, windows: int, window: float) -> list[int]:
    """Light-group requests answered in each of `windows` windows from `since`."""
    counts = [0] * windows
    for r in requests:
        n = int((r["at"] - since) // window)
        if r["group"] == "light" and 0 <= n < windows:
            counts[n] += 1
    return counts


def boundary_writes(
    requests: list[dict], boundaries: list[datetime], spacing: float, tail: float
) -> tuple[list[float], list[float], list[int]]:
    """Per busy boundary, seconds to its first and last successful write, and its writes (those before the
    next boundary; the last one's within `tail`)."""
    first, last, counts = [], [], []
    for k, at in enumerate(boundaries):
        start, until = at.timestamp(), tail if k == len(boundaries) - 1 else spacing
        times = [r["at"] - start for r in requests if r["method"] == "PUT" and r["status"] == 200]
        times = sorted(t for t in times if -0.5 <= t < until)
        if times:
            first.append(times[0])
            last.append(times[-1])
            counts.append(len(times))
    return first, last, counts


def flips(emulator, size: Size, managed, *, timeout: float) -> tuple[list[float], int]:
    """People flip themselves against the plan at their phones, one a second, alternately a queue and their DnD;
    seconds until each value's write back (a PUT naming it); the flips never put back within `timeout`."""
    rng = random.Random(7)
    steady = {a for a in range(size.agents) if role(size, a % size.shifts)[0] == "steady"}
    on = sorted(t for t, v in managed.items() if not t.is_dnd and v is True and int(t.agent_id) - 500000 in steady)
    dnd = sorted(
        t for t, v in managed.items() if t.is_dnd and v == "TakeAllCalls" and int(t.agent_id) - 500000 in steady
    )
    chosen = [(rng.choice(on) if n % 2 else rng.choice(dnd)) for n in range(size.flips)]
    made = []
    for target in chosen:
        if target.is_dnd:
            emulator.call("PUT", f"extensions/{target.agent_id}/presence", json={"dndStatus": "DoNotAcceptAnyCalls"})
        else:
            path = f"call-queues/{target.queue_id}/members/{target.agent_id}"
            emulator.call("PUT", path, json={"acceptCurrentQueueCalls": False})
        made.append((target, time.time()))
        time.sleep(1.0)
    deadline = time.time() + timeout
    took: dict[int, float] = {}
    while len(took) < len(made) and time.time() < deadline:
        puts = [r for r in emulator.requests() if r["method"] == "PUT" and r["status"] == 200]
        for n, (target, at) in enumerate(made):
            if n not in took:
                back = [r["at"] for r in puts if r["at"] > at and names(r["path"], target)]
                if back:
                    took[n] = min(back) - at
        time.sleep(0.5)
    return sorted(took.values()), len(made) - len(took)


def names(path: str, target) -> bool:
    """Whether a write's path names the target: her DnD, or the queue's presence, or her queues."""
    if target.is_dnd:
        return path.endswith(f"/extension/{target.agent_id}/presence")
    return f"/call-queues/{target.queue_id}/presence" in path or f"/extension/{target.agent_id}/call-queue" in path


class Peaks:
    """Samples the RSS (kB) of processes and their children each second; keeps each one's peak."""

    def __init__(self, pids: dict[str, int]):
        self.pids, self.peak = pids, {name: 0 for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(1.0):
            tree = _process_tree()
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], sum(_rss(p) for p in _descendants(pid, tree)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _process_tree() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return children


def _descendants(pid: int, tree: dict[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(tree.get(p, []))
    return found


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---------------------------------------------------------------------------- the side-by-side report


def pct(values: list[float], q: int) -> float:
    """The q-th percentile (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


def report(polling: Figures, events: Figures, size: Size) -> dict[str, bool]:
    """Print both modes side by side; each of events + sweep's targets, met or not."""
    s = size.scale
    bound = [1.1 * w / MEDIUM * events.window for w in events.writes]  # as measured: the window is 60/scale s
    both = (polling, events)
    rows = [
        ("API reads a minute, steady (mean / max)",
         *(f"{f.reads_per_minute_mean:.0f} / {f.reads_per_minute_max}" for f in both)),
        ("  share of Light's 50 (max)", *(f"{f.reads_per_minute_max / LIGHT:.0%}" for f in both)),
        ("429s", *(str(f.refused) for f in both)),
        ("writes at each busy boundary", *(", ".join(map(str, f.writes)) or "none seen" for f in both)),
        ("first write p95 (polling x scale)",
         f"{pct(polling.first_write, 95) * s:.1f} s", f"{pct(events.first_write, 95):.2f} s"),
        ("last write p95 (x scale)", *(f"{pct(f.last_write, 95) * s:.0f} s" for f in both)),
        ("  1.1 x writes/40 a minute (x scale)", "", ", ".join(f"{b * s:.0f} s" for b in bound) or "-"),
        ("drift put back p50 / p95 (polling x scale)", _drift(polling, s), _drift(events, 1)),
        ("every value read within (x scale)", *(_minutes(f.reread_all, s) for f in both)),
        ("worker RSS peak (main + pool)", *(f"{f.worker_rss_mb:.0f} MB" for f in both)),
        ("listener RSS peak", "-", f"{events.listener_rss_mb:.0f} MB"),
    ]  # fmt: skip
    print(f"{'':44} {'today: polling':>22} {'events + sweep':>22}")
    for label, old, new in rows:
        print(f"{label:44} {old:>22} {new:>22}")
    every_boundary = len(events.last_write) == size.boundaries
    checks = {
        "0 429s": events.refused == 0,
        "every flip put back": events.drift_missed == 0,
        "reads < 40% of Light": events.reads_per_minute_max < 0.4 * LIGHT,
        "first write p95 < 1 s": every_boundary and pct(events.first_write, 95) < 1.0,
        "last write within 1.1 x writes/40 a minute": every_boundary
        and all(t <= b for t, b in zip(events.last_write, bound, strict=True)),
        "every value read within 15 min": events.reread_all is not None and events.reread_all * s <= 15 * 60,
    }
    print("events + sweep targets: " + "; ".join(f"{name}: {'ok' if ok else 'MISSED'}" for name, ok in checks.items()))
    return checks


def _drift(f: Figures, scale: float) -> str:
    missed = f" ({f.drift_missed} not put back)" if f.drift_missed else ""
    return f"{pct(f.drift, 50) * scale:.1f} / {pct(f.drift, 95) * scale:.1f} s{missed}"


def _minutes(seconds: float | None, scale: float) -> str:
    return "never" if seconds is None else f"{seconds * scale / 60:.1f} min"


# ---------------------------------------------------------------------------- entry points


def one_mode(mode: str, size: Size) -> None:
    """Run one mode on its own fresh database and print its figures as one JSON line."""
    from audit_admin import ensure_database

    url = os.environ.get("BENCH_DATABASE_URL") or DB_URL.format(mode=mode)
    os.environ["BENCH_DATABASE_URL"] = url
    ensure_database(url)
    from _django import setup

    setup(f"scale-{mode}")
    print(json.dumps(asdict(run_mode(mode, size))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size, for CI's smoke run")
    parser.add_argument("--mode", choices=("polling", "events"), help="run one mode and print its JSON")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    if args.mode:
        one_mode(args.mode, size)
        return 0
    print(
        f"{size.queues} queues, {size.agents} agents (2-5 queues each, half with DnD managed), {size.shifts} shifts "
        f"in {', '.join(ZONES)}; real limit counts (Light {LIGHT}, Medium {MEDIUM}) over a "
        f"{WINDOW / size.scale:g} s window: time scale x{size.scale:g}, one window is one minute"
    )
    # Full size: one mode after the other, so neither's timings pay for the other's CPU. Quick: side by side.
    runs = [mode_process(mode, args.quick) for mode in (("polling",) if not args.quick else ("polling", "events"))]
    if not args.quick:
        runs[0].wait()
        runs.append(mode_process("events", args.quick))
    figures = {}
    for mode, process in zip(("polling", "events"), runs, strict=True):
        out, err = process.communicate()
        if process.returncode:
            print(f"{mode} failed:", out[-3000:], err[-5000:], sep="\n")
            return 1
        figures[mode] = Figures(**json.loads(out.strip().splitlines()[-1]))
    saved = ROOT / "var" / f"bench-scale{'-quick' if args.quick else ''}.json"
    saved.parent.mkdir(exist_ok=True)
    saved.write_text(json.dumps({mode: asdict(f) for mode, f in figures.items()}, indent=2))  # the raw figures
    checks = report(figures["polling"], figures["events"], size)
    # CI's smoke run holds to what does not depend on the machine's speed at a tenth of the size.
    gate = ("0 429s", "every flip put back") if args.quick else tuple(checks)
    passed = all(checks[name] for name in gate)
    print("ok" if passed else "FAIL")
    return 0 if passed else 1


def mode_process(mode: str, quick: bool) -> subprocess.Popen:
    command = [sys.executable, str(Path(__file__)), "--mode", mode] + (["--quick"] if quick else [])
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
