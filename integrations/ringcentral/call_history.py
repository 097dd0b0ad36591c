"""A realistic call history for the emulator's call queues, as RingCentral's call log records.

Each queue has its own size and handle time. Calls arrive by a Poisson process whose rate follows
a contact centre's week: busy Mondays, quiet weekends, a morning and an afternoon peak with a
lunch dip, nothing at night, a slow upward trend and day-to-day noise. About one caller in
twenty hangs up before an agent answers (a `Missed` record whose duration is the wait). The
same seed gives the same history, so the forecast's accuracy can be measured against it.
"""

import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

INTERVAL = timedelta(minutes=15)
WEEKDAY_SHAPE = (1.15, 1.05, 1.0, 0.97, 0.9, 0.35, 0.2)  # Monday .. Sunday
HOUR_SHAPE = {  # share of the daily peak rate, by local hour
    7: 0.15, 8: 0.55, 9: 0.9, 10: 1.0, 11: 0.95, 12: 0.7, 13: 0.75,
    14: 0.95, 15: 0.9, 16: 0.75, 17: 0.5, 18: 0.3, 19: 0.15, 20: 0.05,
}  # fmt: skip
WEEKLY_TREND = 0.01  # volume grows 1% a week
ABANDON_RATE = 0.05


def queue_calls(
    queue_ids: list[str], *, end: datetime, weeks: int, zone: str = "America/New_York", seed: int = 7
) -> list[dict]:
    """Every queue's calls over the `weeks` before `end`, oldest first, as detailed call log records."""
    tz = ZoneInfo(zone)
    start = (end - timedelta(weeks=weeks)).astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    records: list[dict] = []
    for queue_id in queue_ids:
        rng = random.Random(f"{seed}:{queue_id}")
        peak = rng.uniform(8, 40)  # calls an hour at the busiest time of a Wednesday
        handle = rng.uniform(120, 300)  # mean handle time, seconds
        records.extend(_calls(queue_id, rng, start, end, tz, peak, handle))
    records.sort(key=lambda r: r["startTime"])
    return records


def _calls(queue_id, rng, start, end, tz, peak, handle) -> Iterator[dict]:
    day = start
    while day < end:
        noise = math.exp(rng.gauss(0, 0.12))  # one draw a day: some days are simply busier
        week = (day - start).days / 7
        for hour, share in HOUR_SHAPE.items():
            for quarter in range(4):
                local = day.replace(hour=hour, minute=15 * quarter)
                at = local.astimezone(ZoneInfo("UTC"))
                if at >= end or at < start:
                    continue
                rate = peak * share * WEEKDAY_SHAPE[local.weekday()] * (1 + WEEKLY_TREND * week) * noise / 4
                for _ in range(_poisson(rng, rate)):
                    yield _record(queue_id, rng, at + timedelta(seconds=rng.uniform(0, 900)), handle)
        day += timedelta(days=1)  # wall-clock arithmetic: the next local midnight, DST or not


def _record(queue_id: str, rng: random.Random, at: datetime, handle: float) -> dict:
    abandoned = rng.random() < ABANDON_RATE
    duration = int(rng.uniform(5, 60)) if abandoned else max(20, int(rng.lognormvariate(math.log(handle), 0.45)))
    call_id = f"{queue_id}-{int(at.timestamp() * 1000)}-{rng.randrange(10**6)}"
    return {
        "id": call_id,
        "sessionId": call_id,
        "startTime": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "duration": duration,
        "type": "Voice",
        "direction": "Inbound",
        "action": "Phone Call",
        "result": "Missed" if abandoned else "Accepted",
        "to": {"extensionId": queue_id},
        "extension": {"id": int(queue_id)},
        "legs": [],
    }


def _poisson(rng: random.Random, rate: float) -> int:
    """A Poisson draw: Knuth's product method for small rates, a rounded normal for large ones."""
    if rate <= 0:
        return 0
    if rate > 50:
        return max(0, round(rng.gauss(rate, math.sqrt(rate))))
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
