"""Opening hours at scale: what counting min staff only in open hours costs the board and coverage.

300 queues, each with two ranges a weekday, an overnight Saturday range and ten closed dates, in
zones across the world. Measured: `is_open` for every queue (what one board refresh asks; target
under 50 ms) and `intervals` over 4 weeks for every queue (what coverage and the timeline cut their
gaps with; target under 500 ms). `--quick` uses 30 queues.
"""

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from integrations.base import WeeklyRange  # noqa: E402
from queues.opening_hours import OpeningHours  # noqa: E402

ZONES = ["America/New_York", "Europe/Kyiv", "Asia/Kolkata", "Australia/Lord_Howe", "America/Santiago", "UTC"]
START = datetime(2026, 3, 2, tzinfo=UTC)  # four weeks across the spring DST changes of both hemispheres
BOARD_TARGET, COVERAGE_TARGET = 0.050, 0.500


def queue_hours(i: int) -> OpeningHours:
    ranges = [WeeklyRange(d, clock(8), clock(12)) for d in range(5)]
    ranges += [WeeklyRange(d, clock(13), clock(20)) for d in range(5)]
    ranges.append(WeeklyRange(5, clock(22), clock(4)))
    closed = frozenset(date(2026, 3, 2) + timedelta(days=3 * k + i % 3) for k in range(10))
    return OpeningHours(tuple(ranges), ZoneInfo(ZONES[i % len(ZONES)]), closed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 queues, for CI's smoke run")
    queues = 30 if parser.parse_args().quick else 300
    hours = [queue_hours(i) for i in range(queues)]

    began = time.perf_counter()
    open_now = sum(h.is_open(START + timedelta(hours=15)) for h in hours)
    board = time.perf_counter() - began

    began = time.perf_counter()
    spans = sum(len(h.intervals(START, START + timedelta(weeks=4))) for h in hours)
    coverage = time.perf_counter() - began

    print(
        f"{queues} queues: is_open for all {board * 1000:.1f} ms ({open_now} open), target {BOARD_TARGET * 1000:.0f} ms"
    )
    print(f"{queues} queues: 4 weeks of intervals {coverage * 1000:.1f} ms ({spans} intervals), "
          f"target {COVERAGE_TARGET * 1000:.0f} ms")  # fmt: skip
    if board > BOARD_TARGET or coverage > COVERAGE_TARGET:
        sys.exit("over target")


if __name__ == "__main__":
    main()
