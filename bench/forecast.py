"""The forecast's accuracy on the emulator's call history, and its speed at 300 queues.

Accuracy: the emulator's history generator (integrations/ringcentral/call_history.py) writes
ten weeks of calls for the demo's queues; the last two weeks are forecast from the eight before
and compared interval by interval (30 minutes). Printed per queue: MAPE of arrivals and of
agents needed (Erlang C for 80% in 20 s), over the intervals that had calls.

Speed: 300 queues at 30-minute intervals for 4 weeks (403,200 intervals, each with Erlang C),
from six weeks of history each. Target: under 10 s. `--quick` forecasts 30 queues.
"""

import argparse
import os
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from integrations.ringcentral.call_history import queue_calls  # noqa: E402
from integrations.ringcentral.schema import CallLogRecord  # noqa: E402
from scheduler.forecast.forecast import Past, forecast, interval_starts, staff  # noqa: E402

NY = ZoneInfo("America/New_York")
MINUTES, TARGET, WITHIN = 30, 0.8, 20
DEMO_QUEUES = ["1081167000", "62284876000", "62376752000", "61986637000"]
END = datetime(2026, 11, 23, 5, tzinfo=UTC)  # a Monday, 00:00 in New York


def per_interval(records: list[dict]) -> dict[str, dict[datetime, Past]]:
    """queue id -> interval start -> what happened, from call log records (as the nightly task counts)."""
    counts: dict[str, dict[datetime, list[int]]] = {}
    for raw in records:
        record = CallLogRecord.from_api(raw)
        at = datetime.fromisoformat(record.start_time.replace("Z", "+00:00"))
        start = at.replace(minute=at.minute - at.minute % MINUTES, second=0, microsecond=0)
        c = counts.setdefault(raw["to"]["extensionId"], {}).setdefault(start, [0, 0, 0])
        answered = record.result == "Accepted"
        c[0], c[1], c[2] = c[0] + 1, c[1] + answered, c[2] + (record.duration if answered else 0)
    return {q: {s: Past(s, *c) for s, c in by_start.items()} for q, by_start in counts.items()}


def mape(pairs: Sequence[tuple[float, float]]) -> float:
    """Mean absolute percentage error over the pairs whose actual value is not zero."""
    kept = [(a, f) for a, f in pairs if a]
    return 100 * sum(abs(a - f) / a for a, f in kept) / len(kept) if kept else float("nan")


def accuracy() -> None:
    history = per_interval(queue_calls(DEMO_QUEUES, end=END, weeks=10))
    split = END - timedelta(weeks=2)
    starts = interval_starts(split, END, MINUTES)
    print(f"{'queue':>12} {'intervals':>9} {'MAPE arrivals':>13} {'MAPE agents':>11}")
    for queue_id, by_start in history.items():
        past = [p for s, p in by_start.items() if s < split]
        predicted = forecast(past, starts=starts, zone=NY, minutes=MINUTES, target=TARGET, answer_within=WITHIN)
        arrivals, agents = [], []
        for expected in predicted:
            actual = by_start.get(expected.start)
            n = actual.arrivals if actual else 0
            aht = actual.handle_seconds / actual.handled if actual and actual.handled else expected.aht_seconds
            arrivals.append((n, expected.arrivals))
            agents.append((staff(n * 60 / MINUTES, aht, TARGET, WITHIN)[0], expected.agents))
        busy = sum(1 for a, _ in arrivals if a)
        print(f"{queue_id:>12} {busy:>9} {mape(arrivals):>12.1f}% {mape(agents):>10.1f}%")


def speed(queues: int) -> None:
    rng = random.Random(3)
    now = END
    history_starts = interval_starts(now - timedelta(weeks=6), now, MINUTES)
    histories = []
    for _ in range(queues):
        peak = rng.uniform(5, 60)
        histories.append([Past(s, n, n, n * 180) for s in history_starts if (n := int(rng.uniform(0, peak)))])
    starts = interval_starts(now, now + timedelta(weeks=4), MINUTES)
    began = time.perf_counter()
    total = 0
    for history in histories:
        total += len(forecast(history, starts=starts, zone=NY, minutes=MINUTES, target=TARGET, answer_within=WITHIN))
    took = time.perf_counter() - began
    print(f"forecast {queues} queues x {len(starts):,} intervals ({total:,} in all): {took:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 queues for the speed run (CI's smoke run)")
    args = parser.parse_args()
    accuracy()
    speed(30 if args.quick else 300)


if __name__ == "__main__":
    main()
