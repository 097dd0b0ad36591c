"""Coverage: every interval in which a queue's scheduled staff is below its minimum, DST days included."""

import json
from datetime import UTC, datetime, time
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scheduler.planning import ShiftRule, Snapshot, TimeOffSpan
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from scheduler.supervisor.coverage import understaffed

NY, KYIV = ZoneInfo("America/New_York"), ZoneInfo("Europe/Kyiv")
EVERY_DAY = frozenset(range(7))


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def shift(name, start, end, agents, queues=("Q",), tz=NY, weekdays=EVERY_DAY) -> ShiftRule:
    return ShiftRule(name, tz, time(*start), time(*end), tuple(queues), tuple(agents), weekdays=weekdays)


def found(shifts, minimums, start, end, time_off=()):
    result = understaffed(Snapshot(tuple(shifts), tuple(time_off)), minimums, start, end)
    return [(s.queue_id, s.start, s.end, s.staffed, s.missing) for s in result]


CASES = {
    "a fully staffed day has no shortfall": (
        [shift("all day", (0, 0), (0, 0), ["a"])],
        {"Q": 1},
        (utc(2026, 11, 24, 5), utc(2026, 11, 25, 5)),
        (),
        [],
    ),
    "the gap between two shifts is found with its shortfall": (
        [shift("morning", (8, 0), (12, 0), ["a", "b"]), shift("evening", (12, 0), (20, 0), ["b"])],
        {"Q": 2},
        (utc(2026, 11, 24, 13), utc(2026, 11, 25, 1)),
        (),
        [("Q", utc(2026, 11, 24, 17), utc(2026, 11, 25, 1), 1, 1)],
    ),
    "no staff at all is the biggest shortfall, split from a smaller one": (
        [shift("morning", (8, 0), (12, 0), ["a"])],
        {"Q": 2},
        (utc(2026, 11, 24, 12), utc(2026, 11, 24, 18)),
        (),
        [
            ("Q", utc(2026, 11, 24, 12), utc(2026, 11, 24, 13), 0, 2),
            ("Q", utc(2026, 11, 24, 13), utc(2026, 11, 24, 17), 1, 1),
            ("Q", utc(2026, 11, 24, 17), utc(2026, 11, 24, 18), 0, 2),
        ],
    ),
    "time off takes an agent out of the count": (
        [shift("day", (8, 0), (16, 0), ["a", "b"])],
        {"Q": 2},
        (utc(2026, 11, 24, 13), utc(2026, 11, 24, 21)),
        (TimeOffSpan("b", utc(2026, 11, 24, 15), utc(2026, 11, 24, 16)),),
        [("Q", utc(2026, 11, 24, 15), utc(2026, 11, 24, 16), 1, 1)],
    ),
    "a queue with min_staff 0 is never understaffed": (
        [],
        {"Q": 0},
        (utc(2026, 11, 24), utc(2026, 11, 25)),
        (),
        [],
    ),
    "queues are reported separately and in time order": (
        [shift("q1", (9, 0), (17, 0), ["a"], queues=("Q1",)), shift("q2", (10, 0), (17, 0), ["b"], queues=("Q2",))],
        {"Q1": 1, "Q2": 1},
        (utc(2026, 11, 24, 14), utc(2026, 11, 24, 22)),
        (),
        [("Q2", utc(2026, 11, 24, 14), utc(2026, 11, 24, 15), 0, 1)],
    ),
    "spring forward: a night shift 00:00-04:00 in New York lasts three hours": (
        [shift("night", (0, 0), (4, 0), ["a"])],
        {"Q": 1},
        (utc(2026, 3, 8, 4), utc(2026, 3, 8, 10)),
        (),
        [("Q", utc(2026, 3, 8, 4), utc(2026, 3, 8, 5), 0, 1), ("Q", utc(2026, 3, 8, 8), utc(2026, 3, 8, 10), 0, 1)],
    ),
    "fall back: the same shift lasts five hours, so the gap after it starts an hour later": (
        [shift("night", (0, 0), (4, 0), ["a"])],
        {"Q": 1},
        (utc(2026, 11, 1, 3), utc(2026, 11, 1, 11)),
        (),
        [("Q", utc(2026, 11, 1, 3), utc(2026, 11, 1, 4), 0, 1), ("Q", utc(2026, 11, 1, 9), utc(2026, 11, 1, 11), 0, 1)],
    ),
    "spring forward: a handover inside the gap leaves no hole (02:30 reads as 03:30 EDT)": (
        [shift("early", (0, 0), (2, 30), ["a"]), shift("late", (2, 30), (6, 0), ["b"])],
        {"Q": 1},
        (utc(2026, 3, 8, 5), utc(2026, 3, 8, 10)),
        (),
        [],
    ),
    "two zones on Kyiv's spring DST day: the Kyiv night ends at 03:00 UTC, an hour early": (
        [shift("kyiv", (22, 0), (6, 0), ["k"], tz=KYIV), shift("ny", (20, 0), (23, 0), ["n"])],
        {"Q": 2},
        (utc(2026, 3, 28, 19), utc(2026, 3, 29, 4)),
        (),
        [
            ("Q", utc(2026, 3, 28, 19), utc(2026, 3, 28, 20), 0, 2),
            ("Q", utc(2026, 3, 28, 20), utc(2026, 3, 29, 0), 1, 1),
            ("Q", utc(2026, 3, 29, 3), utc(2026, 3, 29, 4), 0, 2),
        ],
    ),
}


@pytest.mark.parametrize("shifts, minimums, window, time_off, expected", CASES.values(), ids=CASES.keys())
def test_it_finds_every_understaffed_interval(shifts, minimums, window, time_off, expected):
    assert found(shifts, minimums, *window, time_off=time_off) == expected


@pytest.mark.django_db
def test_the_command_lists_the_demo_schedules_shortfalls_as_json():
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    out = StringIO()
    call_command("coverage", "--from", "2026-11-24T13:00:00Z", "--to", "2026-11-24T22:00:00Z", "--json", stdout=out)
    rows = [(r["name"], r["start"], r["end"], r["missing"]) for r in json.loads(out.getvalue())]
    assert ("Support", "2026-11-24T17:00:00+00:00", "2026-11-24T20:00:00+00:00", 1) in rows
    # Dr. Baker opens at 09:00 New York (the demo's opening hours): its gap starts then, not at the window's start.
    assert ("Dr. Baker", "2026-11-24T14:00:00+00:00", "2026-11-24T22:00:00+00:00", 1) in rows


@pytest.mark.django_db
def test_the_command_refuses_a_window_that_ends_before_it_starts():
    with pytest.raises(CommandError, match="--to must be after --from"):
        call_command("coverage", "--from", "2026-11-25T00:00:00Z", "--to", "2026-11-24T00:00:00Z")
