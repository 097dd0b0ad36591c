"""The planner: desired state at an instant and boundaries in a window, DST days included."""

from datetime import UTC, date, datetime, time

import pytest

from scheduler import recurrence
from scheduler.planning import ShiftRule, Snapshot, TimeOffSpan, boundaries, desired_state

NY = recurrence.zone("America/New_York")
KYIV = recurrence.zone("Europe/Kyiv")
Q, A = "q1", "a1"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def shift(start, end, *, tz=NY, days="mon,tue,wed,thu,fri,sat,sun", **kwargs) -> ShiftRule:
    return ShiftRule(
        name=kwargs.pop("name", "s"),
        tz=tz,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        queue_ids=kwargs.pop("queues", (Q,)),
        agent_ids=kwargs.pop("agents", (A,)),
        weekdays=recurrence.parse_days(days),
        **kwargs,
    )


def accepts(rule: ShiftRule, at: str, time_off=()) -> bool:
    return desired_state(Snapshot((rule,), tuple(time_off)), utc(at)).accept[(Q, A)]


@pytest.mark.parametrize(
    "start, end, tz, at, expected",
    [
        # a plain day shift, [start, end)
        ("08:00", "12:00", NY, "2026-11-24T12:59", False),
        ("08:00", "12:00", NY, "2026-11-24T13:00", True),
        ("08:00", "12:00", NY, "2026-11-24T16:59", True),
        ("08:00", "12:00", NY, "2026-11-24T17:00", False),
        # overnight: 22:00 Kyiv (20:00 UTC) to 06:00 Kyiv the next day (04:00 UTC)
        ("22:00", "06:00", KYIV, "2026-11-24T19:59", False),
        ("22:00", "06:00", KYIV, "2026-11-24T20:00", True),
        ("22:00", "06:00", KYIV, "2026-11-25T03:59", True),
        ("22:00", "06:00", KYIV, "2026-11-25T04:00", False),
        # New York spring forward, 2026-03-08: 02:30 does not exist; RFC 5545 uses the offset
        # before the gap (EST, -5), so the shift starts at 07:30 UTC (03:30 EDT).
        ("02:30", "06:00", NY, "2026-03-08T07:29", False),
        ("02:30", "06:00", NY, "2026-03-08T07:30", True),
        ("02:30", "06:00", NY, "2026-03-08T09:59", True),  # 05:59 EDT
        ("02:30", "06:00", NY, "2026-03-08T10:00", False),  # 06:00 EDT
        # New York fall back, 2026-11-01: 01:30 happens twice; the first (EDT, 05:30 UTC) counts.
        ("00:00", "01:30", NY, "2026-11-01T05:29", True),
        ("00:00", "01:30", NY, "2026-11-01T05:30", False),
        ("00:00", "01:30", NY, "2026-11-01T06:00", False),  # 01:00 EST, the second pass
        # Kyiv spring forward, 2026-03-29: 03:00 -> 04:00; 03:30 is taken with EET (+2) = 01:30 UTC.
        ("03:30", "08:00", KYIV, "2026-03-29T01:29", False),
        ("03:30", "08:00", KYIV, "2026-03-29T01:30", True),
        ("03:30", "08:00", KYIV, "2026-03-29T04:59", True),  # 07:59 EEST
        ("03:30", "08:00", KYIV, "2026-03-29T05:00", False),
        # Kyiv fall back, 2026-10-25: 04:00 EEST -> 03:00 EET; 03:30 first pass is 00:30 UTC.
        ("00:00", "03:30", KYIV, "2026-10-25T00:29", True),
        ("00:00", "03:30", KYIV, "2026-10-25T00:30", False),
        ("00:00", "03:30", KYIV, "2026-10-25T01:15", False),  # 03:15 EET, second pass
        # an overnight shift over the fall-back night is 25 hours of wall clock minus 0: 22:00 EDT to 06:00 EST
        ("22:00", "06:00", NY, "2026-11-01T02:00", True),
        ("22:00", "06:00", NY, "2026-11-01T10:59", True),
        ("22:00", "06:00", NY, "2026-11-01T11:00", False),
    ],
)
def test_it_follows_rfc5545_on_ordinary_overnight_and_dst_days(start, end, tz, at, expected):
    assert accepts(shift(start, end, tz=tz), at) is expected


def test_it_ends_overnight_shift_next_day_even_when_next_day_is_off():
    friday_night = shift("22:00", "02:00", days="fri")
    assert accepts(friday_night, "2026-11-28T06:59")  # Sat 01:59 EST
    assert not accepts(friday_night, "2026-11-28T07:00")
    assert not accepts(friday_night, "2026-11-29T03:00")  # Saturday night: no shift


@pytest.mark.parametrize(
    "at, expected",
    [
        ("2026-01-03T15:00", True),  # Saturday of the dtstart week
        ("2026-01-04T15:00", True),  # Sunday of that week
        ("2026-01-10T15:00", False),  # the week after: skipped
        ("2026-01-17T15:00", True),  # two weeks after dtstart
        ("2026-01-16T15:00", False),  # a Friday
    ],
)
def test_it_runs_rrule_every_other_week(at, expected):
    rule = recurrence.parse_rrule("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU", date(2026, 1, 3))
    every_other_weekend = shift("10:00", "14:00", days="", rule=rule)
    assert accepts(every_other_weekend, at) is expected


@pytest.mark.parametrize("text", ["FREQ=WEEKLY;BYDAY=SA\nEXDATE:20260110T000000", "FREQ=WEEKLY\nRDATE:20260107T000000"])
def test_it_refuses_rrule_with_rdate_or_exdate(text):
    with pytest.raises(ValueError, match="one rule only"):
        recurrence.parse_rrule(text, date(2026, 1, 3))


@pytest.mark.parametrize(
    "at, expected",
    [
        ("2026-11-30T13:00", False),  # the day before valid_from
        ("2026-12-01T13:00", True),  # valid_from itself
        ("2026-12-04T13:00", True),  # valid_until itself (inclusive)
        ("2026-12-05T04:59", True),  # the last occurrence still running past midnight
        ("2026-12-05T13:00", False),  # the day after valid_until
    ],
)
def test_it_respects_valid_from_and_until_edges(at, expected):
    bounded = shift("08:00", "00:00", valid_from=date(2026, 12, 1), valid_until=date(2026, 12, 4))
    assert accepts(bounded, at) is expected


def test_time_off_starting_mid_shift_turns_the_agent_off_from_then():
    morning = shift("08:00", "12:00")
    off = [TimeOffSpan(A, utc("2026-11-24T15:00"), utc("2026-11-25T00:00"))]
    assert accepts(morning, "2026-11-24T14:59", off)
    assert not accepts(morning, "2026-11-24T15:00", off)
    found = boundaries(Snapshot((morning,), tuple(off)), utc("2026-11-24T00:00"), utc("2026-11-25T00:00"))
    assert [b.at for b in found] == [utc("2026-11-24T13:00"), utc("2026-11-24T15:00")]


def test_dnd_follows_shifts_and_time_off_for_managed_agents_only():
    rules = (shift("08:00", "12:00", agents=("a1", "a2", "a3")),)
    snapshot = Snapshot(
        rules,
        (TimeOffSpan("a2", utc("2026-11-24T00:00"), utc("2026-11-25T00:00")),),
        {"a1": "DoNotAcceptDepartmentCalls", "a2": "DoNotAcceptAnyCalls"},
    )
    on = desired_state(snapshot, utc("2026-11-24T14:00"))
    off = desired_state(snapshot, utc("2026-11-24T18:00"))
    assert on.dnd == {"a1": "TakeAllCalls", "a2": "DoNotAcceptAnyCalls"}
    assert off.dnd == {"a1": "DoNotAcceptDepartmentCalls", "a2": "DoNotAcceptAnyCalls"}


def test_it_plans_only_pairs_that_a_shift_names_together():
    rules = (shift("08:00", "12:00", queues=("q1",), agents=("a1",)), shift("13:00", "14:00", queues=("q2",)))
    state = desired_state(Snapshot(rules), utc("2026-11-24T13:30"))
    assert state.as_json()["queues"] == {"q1": {"a1": True}, "q2": {"a1": False}}


def test_boundaries_skip_handovers_that_change_nothing():
    early = shift("08:00", "12:00", name="early")
    late = shift("12:00", "16:00", name="late")
    found = boundaries(Snapshot((early, late)), utc("2026-11-24T00:00"), utc("2026-11-25T00:00"))
    assert [(b.at, [t.kind for t in b.transitions]) for b in found] == [
        (utc("2026-11-24T13:00"), ["shift start"]),
        (utc("2026-11-24T21:00"), ["shift end"]),
    ]


def test_boundaries_give_local_time_of_each_shift_across_dst():
    rule = shift("02:30", "06:00", name="gap")
    found = boundaries(Snapshot((rule,)), utc("2026-03-08T00:00"), utc("2026-03-09T00:00"))
    starts = [(b.at, t.local.isoformat()) for b in found for t in b.transitions]
    assert starts == [
        (utc("2026-03-08T07:30"), "2026-03-08T03:30:00-04:00"),
        (utc("2026-03-08T10:00"), "2026-03-08T06:00:00-04:00"),
    ]


def test_boundaries_include_state_from_before_the_window():
    overnight = shift("22:00", "06:00", tz=KYIV)
    found = boundaries(Snapshot((overnight,)), utc("2026-11-25T00:00"), utc("2026-11-25T12:00"))
    assert [(b.at, b.transitions[0].kind) for b in found] == [(utc("2026-11-25T04:00"), "shift end")]


def test_boundaries_agree_with_desired_state_every_minute():
    rules = (
        shift("08:00", "12:00", name="m", agents=("a1", "a2")),
        shift("22:00", "06:00", tz=KYIV, name="n", agents=("a2",)),
        shift("11:30", "13:00", name="x", queues=("q2",), agents=("a1",)),
    )
    snapshot = Snapshot(
        rules, (TimeOffSpan("a1", utc("2026-11-24T15:10"), utc("2026-11-24T16:00")),), {"a1": "DoNotAcceptAnyCalls"}
    )
    start, end = utc("2026-11-24T00:00"), utc("2026-11-25T00:00")
    found = {b.at for b in boundaries(snapshot, start, end)}
    changed = set()
    previous = desired_state(snapshot, start)
    for minute in range(1, 24 * 60):
        at = datetime.fromtimestamp(start.timestamp() + minute * 60, UTC)
        state = desired_state(snapshot, at)
        if (state.accept, state.dnd) != (previous.accept, previous.dnd):
            changed.add(at)
        previous = state
    assert found == changed
