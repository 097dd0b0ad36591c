"""Per-occurrence changes (RFC 5545 overridden instances): cancelled, moved, agents substituted, DST days included."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from queues.models import Agent
from scheduler import recurrence
from scheduler.models import OccurrenceChange, Shift
from scheduler.planning import OccurrenceEdit, ShiftRule, Snapshot, boundaries, desired_state, explain
from scheduler.selectors import agent_plan, schedule_snapshot
from scheduler.supervisor.coverage import coverage_report, understaffed

NY = recurrence.zone("America/New_York")
KYIV = recurrence.zone("Europe/Kyiv")
Q = "q1"
MARIA, JAMES = "222222222", "111111111"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def shift(start, end, *changes, tz=NY, agents=("a1",)) -> ShiftRule:
    return ShiftRule(
        name="s",
        tz=tz,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        queue_ids=(Q,),
        agent_ids=agents,
        weekdays=frozenset(range(7)),
        changes=changes,
    )


def on(rule: ShiftRule, at: str) -> set[str]:
    """The agents the plan puts on the queue at `at`."""
    state = desired_state(Snapshot((rule,)), utc(at))
    return {a for (q, a), value in state.accept.items() if value}


def cancel(day: str) -> OccurrenceEdit:
    return OccurrenceEdit(date.fromisoformat(day), cancelled=True)


def move(day: str, start: str, end: str) -> OccurrenceEdit:
    return OccurrenceEdit(date.fromisoformat(day), start=utc(start), end=utc(end))


def swap(day: str, absent=("a1",), covering=("a2",)) -> OccurrenceEdit:
    return OccurrenceEdit(date.fromisoformat(day), absent=frozenset(absent), covering=frozenset(covering))


@pytest.mark.parametrize(
    "start, end, tz, change, at, expected",
    [
        # a cancelled occurrence is an EXDATE: that day only
        ("08:00", "12:00", NY, cancel("2026-11-24"), "2026-11-24T14:00", set()),
        ("08:00", "12:00", NY, cancel("2026-11-24"), "2026-11-25T14:00", {"a1"}),
        # moved to the afternoon: off at the old time, on at the new one, [start, end)
        ("08:00", "12:00", NY, move("2026-11-24", "2026-11-24T19:00", "2026-11-24T21:00"), "2026-11-24T14:00", set()),
        ("08:00", "12:00", NY, move("2026-11-24", "2026-11-24T19:00", "2026-11-24T21:00"), "2026-11-24T19:00", {"a1"}),
        ("08:00", "12:00", NY, move("2026-11-24", "2026-11-24T19:00", "2026-11-24T21:00"), "2026-11-24T21:00", set()),
        # moved to another day, past the next day's own occurrence
        ("08:00", "12:00", NY, move("2026-11-24", "2026-11-28T13:00", "2026-11-28T17:00"), "2026-11-28T13:30", {"a1"}),
        # substituted: a2 covers a1 on that occurrence only
        ("08:00", "12:00", NY, swap("2026-11-24"), "2026-11-24T14:00", {"a2"}),
        ("08:00", "12:00", NY, swap("2026-11-24"), "2026-11-25T14:00", {"a1"}),
        # spring forward, New York 2026-03-08: 02:30 does not exist, the occurrence starts 07:30 UTC
        ("02:30", "06:00", NY, swap("2026-03-08"), "2026-03-08T07:29", set()),
        ("02:30", "06:00", NY, swap("2026-03-08"), "2026-03-08T07:30", {"a2"}),
        ("02:30", "06:00", NY, swap("2026-03-08"), "2026-03-08T09:59", {"a2"}),
        ("02:30", "06:00", NY, swap("2026-03-08"), "2026-03-08T10:00", set()),
        ("02:30", "06:00", NY, cancel("2026-03-08"), "2026-03-08T08:00", set()),
        ("02:30", "06:00", NY, cancel("2026-03-08"), "2026-03-09T08:00", {"a1"}),
        # fall back, New York 2026-11-01: the overnight from Oct 31 runs 22:00 EDT to 06:00 EST (9 hours)
        ("22:00", "06:00", NY, swap("2026-10-31"), "2026-11-01T02:00", {"a2"}),
        ("22:00", "06:00", NY, swap("2026-10-31"), "2026-11-01T10:59", {"a2"}),
        ("22:00", "06:00", NY, swap("2026-10-31"), "2026-11-01T11:00", set()),
        ("22:00", "06:00", NY, swap("2026-10-31"), "2026-11-02T03:00", {"a1"}),  # the next night is a1's again
        # Kyiv overnight: cancelling the 24th's occurrence empties the morning of the 25th, not its evening
        ("22:00", "06:00", KYIV, cancel("2026-11-24"), "2026-11-25T03:00", set()),
        ("22:00", "06:00", KYIV, cancel("2026-11-24"), "2026-11-25T20:00", {"a1"}),
        ("22:00", "06:00", KYIV, cancel("2026-11-24"), "2026-11-24T03:00", {"a1"}),  # the 23rd's night is kept
        # Kyiv spring forward 2026-03-29 (03:00 -> 04:00): a 03:30 shift starts 01:30 UTC, moved one hour later
        ("03:30", "08:00", KYIV, move("2026-03-29", "2026-03-29T02:30", "2026-03-29T06:00"), "2026-03-29T02:00", set()),
        (
            "03:30",
            "08:00",
            KYIV,
            move("2026-03-29", "2026-03-29T02:30", "2026-03-29T06:00"),
            "2026-03-29T05:59",
            {"a1"},
        ),
        # Kyiv fall back 2026-10-25: substituted 00:00-03:30 ends at the first 03:30 (00:30 UTC)
        ("00:00", "03:30", KYIV, swap("2026-10-25"), "2026-10-25T00:29", {"a2"}),
        ("00:00", "03:30", KYIV, swap("2026-10-25"), "2026-10-25T00:30", set()),
    ],
)
def test_it_applies_a_change_to_its_occurrence_only_on_ordinary_overnight_and_dst_days(
    start, end, tz, change, at, expected
):
    assert on(shift(start, end, change, tz=tz), at) == expected


def test_a_covering_agent_is_managed_so_she_is_switched_off_outside_her_occurrence():
    state = desired_state(Snapshot((shift("08:00", "12:00", swap("2026-11-24")),)), utc("2026-11-25T14:00"))
    assert state.accept == {(Q, "a1"): True, (Q, "a2"): False}


def test_a_change_on_a_date_the_shift_does_not_give_changes_nothing():
    weekdays = ShiftRule("s", NY, time(8), time(12), (Q,), ("a1",), weekdays=frozenset(range(5)),
                         changes=(cancel("2026-11-29"), swap("2026-11-28")))  # fmt: skip
    assert list(weekdays.occurrences(utc("2026-11-28T00:00"), utc("2026-11-30T00:00"))) == []
    assert desired_state(Snapshot((weekdays,)), utc("2026-11-28T14:00")).accept == {(Q, "a1"): False}


def test_boundaries_include_moved_times_and_drop_cancelled_ones():
    rule = shift("08:00", "12:00", cancel("2026-11-24"), move("2026-11-25", "2026-11-25T19:00", "2026-11-25T20:00"))
    found = boundaries(Snapshot((rule,)), utc("2026-11-24T00:00"), utc("2026-11-26T00:00"))
    assert [(b.at, [t.kind for t in b.transitions]) for b in found] == [
        (utc("2026-11-25T19:00"), ["shift start"]),
        (utc("2026-11-25T20:00"), ["shift end"]),
    ]
    assert found[0].transitions[0].local.isoformat() == "2026-11-25T14:00:00-05:00"


def test_a_move_into_or_out_of_the_window_is_planned_in_the_window_it_lands_in():
    away = move("2026-12-10", "2026-11-24T19:00", "2026-11-24T20:00")  # from the 10th to the 24th
    rule = shift("08:00", "12:00", away)
    found = boundaries(Snapshot((rule,)), utc("2026-11-24T18:00"), utc("2026-11-24T22:00"))
    assert [b.at for b in found] == [utc("2026-11-24T19:00"), utc("2026-11-24T20:00")]
    assert boundaries(Snapshot((rule,)), utc("2026-12-10T12:00"), utc("2026-12-10T18:00")) == []


def test_boundaries_agree_with_desired_state_every_minute_with_changes():
    rule = shift(
        "08:00",
        "12:00",
        swap("2026-11-24", absent=("a1",), covering=("a3",)),
        move("2026-11-25", "2026-11-24T15:30", "2026-11-24T18:10"),  # overlaps the 24th's own occurrence
        agents=("a1", "a2"),
    )
    night = shift("22:00", "06:00", cancel("2026-11-23"), tz=KYIV, agents=("a2",))
    snapshot = Snapshot((rule, night), (), {"a1": "DoNotAcceptAnyCalls", "a3": "DoNotAcceptAnyCalls"})
    start, end = utc("2026-11-24T00:00"), utc("2026-11-25T00:00")
    found = {b.at for b in boundaries(snapshot, start, end)}
    changed, previous = set(), desired_state(snapshot, start)
    for minute in range(1, 24 * 60):
        at = start + timedelta(minutes=minute)
        state = desired_state(snapshot, at)
        if (state.accept, state.dnd) != (previous.accept, previous.dnd):
            changed.add(at)
        previous = state
    assert found == changed
    assert utc("2026-11-24T13:00") in found and utc("2026-11-24T18:10") in found


def test_coverage_counts_the_covering_agent_and_not_the_absent_one():
    rule = shift("08:00", "12:00", swap("2026-11-24", absent=("a1",), covering=()), agents=("a1", "a2"))
    gaps = understaffed(Snapshot((rule,)), {Q: 2}, utc("2026-11-24T13:00"), utc("2026-11-24T17:00"))
    assert [(g.start, g.end, g.staffed) for g in gaps] == [(utc("2026-11-24T13:00"), utc("2026-11-24T17:00"), 1)]
    covered = Snapshot((rule,)).with_change("s", swap("2026-11-24", absent=("a1",), covering=("a3",)))
    assert understaffed(covered, {Q: 2}, utc("2026-11-24T13:00"), utc("2026-11-24T17:00")) == []


def test_explain_names_the_change_when_an_agent_is_taken_off_mid_occurrence():
    change = OccurrenceEdit(date(2026, 11, 24), absent=frozenset({"a1"}), reason="dentist")
    snapshot = Snapshot((shift("08:00", "12:00", change),))
    assert explain(snapshot, utc("2026-11-24T14:00"), "a1", Q, False) == "occurrence changed: s: dentist"
    covered = Snapshot((shift("08:00", "12:00", swap("2026-11-24")),))
    assert explain(covered, utc("2026-11-24T14:00"), "a2", Q, True) == "shift start: s"


# The stored side: the snapshot loads changes, the model refuses bad ones.


def _change(name: str, day: date, **fields) -> OccurrenceChange:
    change = OccurrenceChange(shift=Shift.objects.get(name=name), occurrence=day, **fields)
    change.full_clean()
    change.save()
    return change


def _agent(provider_id: str) -> Agent:
    return Agent.objects.get(provider_id=provider_id)


def test_the_snapshot_carries_a_substitution_and_the_planner_follows_it(demo):
    change = _change("Support mornings", date(2026, 12, 2), reason="doctor")
    change.absent.set([_agent(JAMES)])
    change.covering.set([_agent("333333333")])
    at = utc("2026-12-02T14:00")
    state = desired_state(schedule_snapshot(start=at, end=at + timedelta(microseconds=1)), at)
    support = {a for (q, a), v in state.accept.items() if q == "1081167000" and v}
    assert support == {MARIA, "333333333"}
    next_day = utc("2026-12-03T14:00")
    state = desired_state(schedule_snapshot(start=next_day, end=next_day + timedelta(microseconds=1)), next_day)
    assert {a for (q, a), v in state.accept.items() if q == "1081167000" and v} == {MARIA, JAMES}


def test_the_snapshot_loads_a_change_moved_from_far_away_into_the_window(demo):
    _change("Support mornings", date(2026, 12, 16), start=utc("2026-12-02T22:00"), end=utc("2026-12-03T01:00"))
    at = utc("2026-12-02T23:00")
    state = desired_state(schedule_snapshot(start=at, end=at + timedelta(microseconds=1)), at)
    assert state.accept[("1081167000", JAMES)] and state.accept[("1081167000", MARIA)]
    day = utc("2026-12-16T14:00")  # the original time: nobody from that shift
    state = desired_state(schedule_snapshot(start=day, end=day + timedelta(microseconds=1)), day)
    assert not state.accept[("1081167000", JAMES)]


def test_coverage_report_and_agent_plan_follow_a_cancelled_occurrence_and_a_cover(demo):
    _change("Support mornings", date(2026, 12, 2), cancelled=True)
    report = coverage_report(start=utc("2026-12-02T13:00"), end=utc("2026-12-02T17:00"))
    support = [(s.start, s.end, s.staffed) for s, name in report if name == "Support"]
    assert support == [(utc("2026-12-02T13:00"), utc("2026-12-02T17:00"), 0)]
    cover = _change("Support evenings", date(2026, 12, 3))
    cover.covering.set([_agent("333333333")])
    plan = agent_plan(_agent("333333333"), start=utc("2026-12-03T00:00"), end=utc("2026-12-04T02:00"))
    assert plan.transitions[utc("2026-12-04T01:00")] == "Support evenings ends"
    assert plan.value(utc("2026-12-03T18:00"), "1081167000") is True
    maria = agent_plan(_agent(MARIA), start=utc("2026-12-02T00:00"), end=utc("2026-12-03T00:00"))
    assert "Support mornings starts" not in maria.transitions.values()


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"occurrence": date(2026, 12, 5), "cancelled": True}, "occurrence", "no occurrence on 2026-12-05 (Saturday)"),
        ({"start": utc("2026-12-02T13:00")}, "end", "both a new start and a new end"),
        ({"start": utc("2026-12-02T13:00"), "end": utc("2026-12-02T12:00")}, "end", "must end after it starts"),
        ({"start": utc("2026-12-02T13:00"), "end": utc("2026-12-04T13:00")}, "end", "at most 25 hours"),
        (
            {"cancelled": True, "start": utc("2026-12-02T13:00"), "end": utc("2026-12-02T14:00")},
            "cancelled",
            "not also moved",
        ),
    ],
)
def test_it_refuses_a_bad_change_naming_the_field(demo, fields, field, message):
    change = OccurrenceChange(
        shift=Shift.objects.get(name="Support mornings"), **{"occurrence": date(2026, 12, 2), **fields}
    )
    with pytest.raises(ValidationError) as refused:
        change.full_clean()
    assert message in " ".join(refused.value.message_dict[field])


def test_a_change_on_an_rrule_shift_must_be_a_day_the_rule_gives(demo):
    weekend = Shift.objects.get(name="Weekend cover")  # every other weekend from 2026-01-03
    OccurrenceChange(shift=weekend, occurrence=date(2026, 12, 5), cancelled=True).full_clean()
    with pytest.raises(ValidationError) as refused:
        OccurrenceChange(shift=weekend, occurrence=date(2026, 11, 28), cancelled=True).full_clean()
    assert "occurrence" in refused.value.message_dict


@pytest.mark.parametrize(
    "cancelled, absent, covering, field",
    [
        (False, [MARIA], [MARIA], "covering"),
        (False, ["333333333"], [], "absent"),
        (False, [], [JAMES], "covering"),
        (True, [JAMES], [], "cancelled"),
        (False, [], [], "cancelled"),
    ],
)
def test_it_refuses_agents_that_make_no_sense_naming_the_field(demo, cancelled, absent, covering, field):
    change = OccurrenceChange(shift=Shift.objects.get(name="Support mornings"), occurrence=date(2026, 12, 2),
                              cancelled=cancelled)  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        change.clean_agents([_agent(a) for a in absent], [_agent(a) for a in covering])
    assert field in refused.value.message_dict
