"""Recurrence rules that never end a search: refused at every door, skipped and reported when already stored.

Before, `FREQ=DAILY;INTERVAL=0` made `plan` and `reconcile` loop for ever in dateutil's search,
`FREQ=WEEKLY;INTERVAL=0;BYDAY=MO` made every page 500, and a rule that never occurs cost seconds a day.
The hang guard below turns such a loop into a failure instead of a stuck test run; no test asserts a time.
"""

import json
import signal
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
import tablib
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from queues.models import Agent, CallQueue
from scheduler import recurrence
from scheduler.models import Shift
from scheduler.roster_import import import_roster
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import ScheduleFormatError, parse_schedule

# dateutil warns, then refuses in later versions, when COUNT and UNTIL meet; Callrota refuses them itself.
pytestmark = pytest.mark.filterwarnings("ignore:Using both 'count' and 'until':DeprecationWarning")

HOSTILE = [
    ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be 1 or more"),
    ("FREQ=WEEKLY;INTERVAL=0;BYDAY=MO", "INTERVAL must be 1 or more"),
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "picks no day"),
    ("FREQ=MONTHLY;INTERVAL=-2", "INTERVAL must be 1 or more"),
    ("FREQ=DAILY;COUNT=0", "COUNT must be 1 or more"),
    ("FREQ=DAILY;UNTIL=20250101", "UNTIL 2025-01-01 is before the rule's start 2026-01-05"),
    ("FREQ=DAILY;COUNT=3;UNTIL=20270101", "COUNT or UNTIL, not both"),
    ("FREQ=WEEKLY;BYEASTER=99999", "BYEASTER is not part of RFC 5545"),
    ("FREQ=MONTHLY;BYDAY=99MO", "an n-th weekday in BYDAY must be 1 to 5"),
    ("FREQ=DAILY;BYHOUR=8", "BYHOUR, BYMINUTE and BYSECOND are not allowed"),
]
START = date(2026, 1, 5)
SUPPORT, JAMES = "1081167000", "111111111"


@pytest.fixture(autouse=True)
def hang_guard():
    """Fail, rather than hang the suite, if anything searches without end (the old code did)."""

    def stuck(signum, frame):
        raise TimeoutError("still searching after 60 s: an unbounded recurrence search")

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------- the rule itself


@pytest.mark.parametrize("text, message", HOSTILE)
def test_validate_refuses_a_rule_that_can_never_be_planned(text, message):
    with pytest.raises(ValueError, match=message):
        recurrence.validate_rrule(text, START)


@pytest.mark.parametrize("text, message", HOSTILE)
def test_a_stored_bad_rule_picks_no_day_and_says_why(text, message):
    rule = recurrence.parse_rrule(text, START)
    assert message in rule.problem
    assert rule.dates(START, START + timedelta(days=3650)) == []


def test_a_long_pasted_rule_is_quoted_briefly():
    with pytest.raises(ValueError) as error:
        recurrence.validate_rrule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;" + "X" * 10_000, START)
    assert len(str(error.value)) < 300


@pytest.mark.parametrize(
    "text",
    ["FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=DAILY;COUNT=1", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU"],
)
def test_a_rare_but_real_rule_is_accepted(text):
    assert recurrence.validate_rrule(text, START).problem == ""


# ---------------------------------------------------------------------------- bounded work, dateutil's days

FREQS = {YEARLY: "YEARLY", MONTHLY: "MONTHLY", WEEKLY: "WEEKLY", DAILY: "DAILY"}
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw) -> str:
    """RRULE text over days: any frequency, interval (zero and negative too), count, until and BY* parts."""
    freq = draw(st.sampled_from(list(FREQS)))
    parts = [f"FREQ={FREQS[freq]}", f"INTERVAL={draw(st.sampled_from(range(-1, 10)))}"]
    optional = {
        "COUNT": st.integers(0, 40).map(str),
        "UNTIL": st.dates(date(2025, 1, 1), date(2040, 1, 1)).map(lambda d: d.strftime("%Y%m%d")),
        "BYMONTH": st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True).map(_joined),
        "BYMONTHDAY": st.lists(st.integers(-31, 31).filter(bool), min_size=1, max_size=3, unique=True).map(_joined),
        "BYYEARDAY": st.lists(st.integers(-366, 366).filter(bool), min_size=1, max_size=3, unique=True).map(_joined),
        "BYWEEKNO": st.lists(st.integers(-53, 53).filter(bool), min_size=1, max_size=2, unique=True).map(_joined),
        "BYDAY": st.lists(_weekdays(freq), min_size=1, max_size=3, unique=True).map(_joined),
        "BYSETPOS": st.lists(st.integers(-5, 5).filter(bool), min_size=1, max_size=2, unique=True).map(_joined),
        "WKST": st.sampled_from(DAYS),
    }
    allowed = {"BYWEEKNO": freq == YEARLY, "BYYEARDAY": freq != MONTHLY}  # dateutil's own limits
    for name, values in optional.items():
        if allowed.get(name, True) and draw(st.integers(0, 3)) == 0:  # a part in a quarter of the rules
            parts.append(f"{name}={draw(values)}")
    return ";".join(parts)


def _joined(values) -> str:
    return ",".join(str(v) for v in values)


def _weekdays(freq: int):
    plain = st.sampled_from(DAYS)
    if freq in (YEARLY, MONTHLY):  # an n-th weekday: BYDAY=2MO, -1FR
        return plain | st.builds(lambda n, d: f"{n}{d}", st.integers(-5, 5).filter(bool), plain)
    return plain


def _max_periods(rule: rrule, first: date, last: date) -> int:
    """Periods a window can touch: its length over the period's, plus the partial ones at either end."""
    unit = {YEARLY: 365, MONTHLY: 28, WEEKLY: 7, DAILY: 1}[rule._freq]  # type: ignore[attr-defined]
    return (last - first).days // (unit * max(rule._interval, 1)) + 2  # type: ignore[attr-defined]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=rules(),
    start=st.dates(date(2024, 1, 1), date(2028, 12, 31)),
    offset=st.integers(-400, 4000),
    length=st.integers(0, 120),
)
def test_any_rule_is_expanded_with_bounded_work_and_agrees_with_dateutil(text, start, offset, length):
    try:
        rule = recurrence.parse_rrule(text, start)
    except ValueError:
        return  # dateutil cannot read it: the doors refuse it with dateutil's words
    first = start + timedelta(days=offset)
    last = first + timedelta(days=length)
    assert len(list(rule.periods(first, last))) <= _max_periods(rule.rule, first, last)
    if rule.problem:
        assert rule.dates(first, last) == []
        return
    event("a plannable rule")
    found = rule.dates(first, last)
    if rule.rule._count is None:  # dateutil searches past the window to stop
        expected = rule.rule.between(datetime.combine(first, datetime.min.time()),
                                     datetime.combine(last, datetime.min.time()), inc=True)  # fmt: skip
    else:  # a COUNT rule is short: list it whole
        expected = [d for d in rule.rule if first <= d.date() <= last]
    assert found == [d.date() for d in expected]


def test_a_count_is_resolved_within_its_horizon():
    sparse = recurrence.parse_rrule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=1000", START)
    assert sparse.count_end == date(2126, 1, 5)  # 1000 leap days would take 4000 years: counted 100 at most
    assert len(list(sparse.periods(START, sparse.count_end))) == 101


# ---------------------------------------------------------------------------- the doors

SCHEDULE = """
queues: [{id: "1081167000", name: Support}]
agents: [{id: "111111111", name: James Smith}]
shifts:
  - name: Hostile
    queues: ["1081167000"]
    agents: ["111111111"]
    rrule: "%s"
    dtstart: 2026-01-05
    start: "08:00"
    end: "12:00"
"""
DOOR_CASES = [HOSTILE[0], HOSTILE[1], HOSTILE[2]]


@pytest.mark.parametrize("text, message", DOOR_CASES)
def test_the_schedule_import_refuses_the_rule_with_its_path(db, text, message):
    with pytest.raises(ScheduleFormatError) as error:
        import_schedule(parse_schedule(SCHEDULE % text, lenient=True))
    assert [e for e in error.value.errors if e.startswith("shifts[0].rrule:") and message in e]
    assert not Shift.objects.exists()


@pytest.mark.parametrize("text, message", DOOR_CASES)
def test_the_schedule_command_exits_1_naming_the_path(db, tmp_path, text, message):
    path = tmp_path / "schedule.yaml"
    path.write_text(SCHEDULE % text)
    err = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_schedule", str(path), stdout=StringIO(), stderr=err)
    assert error.value.returncode == 1
    assert f"shifts[0].rrule: invalid RRULE '{text}'" in err.getvalue() and message in err.getvalue()
    assert not Shift.objects.exists()


@pytest.mark.parametrize("text, message", DOOR_CASES)
def test_the_admin_form_refuses_the_rule_on_its_field(bob, client, text, message):
    form = {
        "name": "Hostile", "queues": [CallQueue.objects.get(provider_id=SUPPORT).pk],
        "agents": [Agent.objects.get(provider_id=JAMES).pk], "timezone": "UTC", "start_time": "08:00",
        "end_time": "12:00", "rrule": text, "dtstart": "2026-01-05",
    }  # fmt: skip
    response = client.post("/admin/scheduler/shift/add/", form)
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors["rrule"][0]
    assert not Shift.objects.filter(name="Hostile").exists()


@pytest.mark.parametrize("text, message", DOOR_CASES)
def test_the_csv_import_refuses_the_rule_on_its_row(demo, text, message):
    header = "name,timezone,start_time,end_time,days,rrule,dtstart,valid_from,valid_until,queues,agents\n"
    row = f'Hostile,UTC,08:00,12:00,,"{text}",2026-01-05,,,{SUPPORT},{JAMES}\n'
    result = import_roster(tablib.Dataset().load(header + row, format="csv"))
    assert result.has_validation_errors()
    assert message in str(result.invalid_rows[0].error_dict["rrule"])
    assert not Shift.objects.filter(name="Hostile").exists()


# ---------------------------------------------------------------------------- rows stored before the checks


def _store_bad_shift(text: str) -> None:
    """A row saved before these checks existed: straight to the table, no validation."""
    shift = Shift.objects.create(
        name="Stored hostile", timezone="UTC", start_time="08:00", end_time="12:00", rrule=text, dtstart=START
    )
    shift.queues.add(CallQueue.objects.get(provider_id=SUPPORT))
    shift.agents.add(Agent.objects.get(provider_id=JAMES))


@pytest.mark.parametrize("text, message", DOOR_CASES)
def test_plan_finishes_and_reports_a_stored_bad_rule(demo, text, message):
    _store_bad_shift(text)
    out, err = StringIO(), StringIO()
    call_command("plan", "--at", "2026-11-24T13:00:00Z", "--json", stdout=out, stderr=err)
    assert json.loads(out.getvalue())["queues"][SUPPORT][JAMES] is True  # his weekday shift still counts
    assert "Stored hostile" in err.getvalue() and message in err.getvalue()


@pytest.mark.parametrize("text, message", DOOR_CASES)
def test_a_reconcile_dry_run_finishes_and_reports_a_stored_bad_rule(demo_emulator, point_app_at, text, message):
    point_app_at(demo_emulator)
    _store_bad_shift(text)
    out = StringIO()
    call_command("reconcile", "--dry-run", "--at", "2026-11-24T13:00:00Z", "--json", stdout=out)
    problems = json.loads(out.getvalue())["problems"]
    assert any("Stored hostile" in p and message in p for p in problems)


@pytest.mark.parametrize("page", ["board/", "timeline/?days=7", "coverage/", "preview/"])
def test_supervisor_pages_answer_with_a_stored_bad_rule(bob, client, page):
    _store_bad_shift("FREQ=WEEKLY;INTERVAL=0;BYDAY=MO")
    assert client.get(f"/admin/scheduler/supervision/{page}").status_code == 200


def test_the_planner_skips_a_stored_bad_rule_over_a_long_window(demo):
    _store_bad_shift("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")
    out = StringIO()
    call_command("boundaries", "--from", "2026-11-24T00:00:00Z", "--to", "2027-11-24T00:00:00Z", stdout=out)
    assert "Support mornings" in out.getvalue() and "Stored hostile" not in out.getvalue()
