"""Plan compliance: the arithmetic on plain steps, a DST day, the log's hook, the command and the admin page."""

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from queues.heard import dnd_heard, dnd_statuses_read, queue_presence_heard
from queues.models import (
    ActualChange,
    ActualSource,
    Agent,
    AppendOnlyError,
    AuditField,
    CallQueue,
    Override,
    QueueMembership,
)
from scheduler.models import Shift, TimeOff
from scheduler.planning import boundaries, desired_state
from scheduler.reconcile.diff import Memory, Target
from scheduler.reconcile.memory import Directory
from scheduler.reports.compliance import (
    Tally,
    compliance_report,
    compliance_table,
    day_window,
    member_tally,
    plan_steps,
)
from scheduler.selectors import schedule_snapshot

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PAIR = ("q1", "a1")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def steps(*points) -> list:
    return [(at(m), v) for m, v in points]


# plan, switch, dnd over one window of 60 minutes -> (scheduled, matched, unknown, unplanned) in minutes, percent
CASES = {
    "all matched": (steps((0, True)), steps((-5, True)), [], (60, 60, 0, 0), 100.0),
    "switched off half way": (steps((0, True)), steps((-5, True), (30, False)), [], (60, 30, 0, 0), 50.0),
    "write lands a minute late": (steps((0, True)), steps((-5, False), (1, True)), [], (60, 59, 0, 0), 98.3),
    "never known is left out": (steps((0, True)), steps((15, True)), [], (60, 45, 15, 0), 100.0),
    "DnD keeps calls away": (
        steps((0, True)),
        steps((-5, True)),
        steps((-5, "TakeAllCalls"), (40, "DoNotAcceptAnyCalls")),
        (60, 40, 0, 0),
        66.7,
    ),
    "legacy department-only DnD lets them through": (
        steps((0, True)),
        steps((-5, True)),
        steps((-5, "TakeDepartmentCallsOnly")),
        (60, 60, 0, 0),
        100.0,
    ),
    "planned off, on anyway": (steps((0, False)), steps((-5, True)), [], (0, 0, 0, 60), None),
    "shift ends at half time": (
        steps((0, True), (30, False)),
        steps((-5, True), (31, False)),
        [],
        (30, 30, 0, 1),
        100.0,
    ),
}


@pytest.mark.parametrize(("plan", "switch", "dnd", "minutes", "percent"), CASES.values(), ids=CASES.keys())
def test_it_tallies_scheduled_and_matched_minutes(plan, switch, dnd, minutes, percent):
    tally = member_tally(PAIR, plan, switch, dnd, [(at(0), at(60))])
    got = tuple(round(s / 60, 1) for s in (tally.scheduled, tally.matched, tally.unknown, tally.unplanned))
    assert got == minutes
    assert tally.percent == percent


def test_it_lists_each_deviation_with_its_cause():
    dnd = steps((-5, "TakeAllCalls"), (40, "DoNotAcceptAnyCalls"), (50, "TakeAllCalls"))
    tally = member_tally(PAIR, steps((0, True)), steps((-5, True), (10, False), (20, True)), dnd, [(at(0), at(60))])
    assert [(d.start, d.end, d.planned, d.cause) for d in tally.deviations] == [
        (at(10), at(20), True, "queue switch"),
        (at(40), at(50), True, "DnD"),
    ]


def test_only_open_hours_count():
    tally = member_tally(PAIR, steps((0, True)), steps((-5, False)), [], [(at(0), at(10)), (at(50), at(60))])
    assert tally.scheduled == 20 * 60 and tally.matched == 0 and len(tally.deviations) == 2


def test_a_dst_day_has_its_real_length():
    tz = ZoneInfo("America/New_York")
    start, end = day_window(date(2026, 11, 1), tz)  # clocks go back: 25 hours
    queue = CallQueue(provider_id="q1", name="Support")
    plan = {PAIR: [(start - timedelta(hours=1), True)]}
    switches = {PAIR: [(start - timedelta(hours=1), True), (start + timedelta(hours=24), False)]}
    [row] = compliance_table(
        queues=[queue], days=[date(2026, 11, 1)], tz=tz, plan=plan, switches=switches, dnds={}, now=end + timedelta(1)
    )
    assert row.tally.scheduled == 25 * 3600
    assert row.tally.percent == 96.0  # 24 of 25 hours


def test_tally_without_scheduled_time_has_no_percent():
    assert Tally().percent is None


# --- the log: written where the values are stored, only when they change ---


@pytest.fixture
def member(db):
    queue = CallQueue.objects.create(provider_id="q1", name="Support", min_staff=1)
    agent = Agent.objects.create(provider_id="a1", name="Ann")
    return QueueMembership.objects.create(queue=queue, agent=agent)


def _log():
    return list(ActualChange.objects.values_list("field", "value", "source"))


def test_heard_values_are_logged_once_per_change(member):
    for value in (True, True, False):
        queue_presence_heard("ringcentral", "q1", {"a1": value})
    dnd_heard("ringcentral", "a1", "TakeAllCalls", sequence=1)
    dnd_heard("ringcentral", "a1", "TakeAllCalls", sequence=2)
    assert _log() == [
        ("queue_calls", "true", "heard"),
        ("queue_calls", "false", "heard"),
        ("dnd", "TakeAllCalls", "heard"),
    ]


def test_a_run_logs_what_it_read_and_wrote_only_when_it_changed(member):
    target = Target("a1", "q1")
    Directory.load("ringcentral", [target]).store({target: Memory(True, T0, None)})
    Directory.load("ringcentral", [target]).store({target: Memory(True, at(1), True)})
    Directory.load("ringcentral", [target]).store({target: Memory(False, None, False)}, source=ActualSource.WRITTEN)
    assert _log() == [("queue_calls", "true", "read"), ("queue_calls", "false", "written")]


def test_the_log_is_append_only(member):
    queue_presence_heard("ringcentral", "q1", {"a1": True})
    with pytest.raises(AppendOnlyError):
        ActualChange.objects.update(value="false")
    row = ActualChange.objects.get()
    with pytest.raises(AppendOnlyError):
        row.save()


# --- the selector and the command, on the stored schedule ---


@pytest.fixture
def shift(member):
    shift = Shift.objects.create(
        name="Day", timezone="UTC", start_time=time(9), end_time=time(17), days="mon,tue,wed,thu,fri,sat,sun"
    )
    shift.queues.add(member.queue)
    shift.agents.add(member.agent)
    ActualChange.objects.create(
        queue=member.queue, agent=member.agent, field=AuditField.QUEUE_CALLS, value="true", at=at(-1), source="read"
    )
    ActualChange.objects.create(
        queue=member.queue,
        agent=member.agent,
        field=AuditField.QUEUE_CALLS,
        value="false",
        at=at(4 * 60),
        source="heard",
    )
    return shift


def test_the_report_reads_the_plan_and_the_log(shift):
    [row] = compliance_report(first=date(2026, 11, 24), last=date(2026, 11, 24), tz=ZoneInfo("UTC"), now=at(24 * 60))
    assert row.tally.scheduled == 8 * 3600 and row.tally.matched == 4 * 3600 and row.tally.percent == 50.0
    assert [(d.start, d.end, d.planned) for d in row.tally.deviations] == [
        (at(-1), at(0), False),  # on a minute before her shift
        (at(240), at(480), True),  # off for the second half of it
    ]
    assert row.tally.unplanned == 60


def test_today_counts_only_until_now(shift):
    [row] = compliance_report(first=date(2026, 11, 24), last=date(2026, 11, 24), tz=ZoneInfo("UTC"), now=at(60))
    assert row.tally.scheduled == 3600 and row.tally.percent == 100.0


def test_the_reports_statements_do_not_grow_with_the_queues_and_days(shift):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from queues.opening_hours import WeeklyRange, replace_opening_hours

    def statements(days: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            compliance_report(first=date(2026, 11, 24), last=date(2026, 11, 23 + days), tz=ZoneInfo("UTC"), now=at(0))
        return len(queries)

    def open_from_nine(queue):
        replace_opening_hours(queue, ranges=[WeeklyRange(d, time(9), time(17)) for d in range(7)])

    open_from_nine(shift.queues.get())
    few = statements(days=1)
    for n in range(2, 8):
        open_from_nine(CallQueue.objects.create(provider_id=f"q{n}", name=f"Queue {n}"))
    assert statements(days=7) == few  # not a query per queue (its opening hours) nor per queue and day


def test_the_command_prints_json(shift, capsys):
    call_command("compliance", "--from", "2026-11-24", "--to", "2026-11-25", "--json", "--tz", "UTC")
    out = json.loads(capsys.readouterr().out)
    assert [(r["queue"], r["day"], r["compliance"]) for r in out["rows"]] == [
        ("q1", "2026-11-24", 50.0),
        ("q1", "2026-11-25", 0.0),
    ]
    assert set(out["rows"][0]) >= {"scheduled_minutes", "matched_minutes", "unknown_minutes", "deviations"}
    assert out["rows"][0]["deviations"][0]["cause"] == "queue switch"


def test_planning_agent_by_agent_gives_the_planners_answer(demo):
    """The report plans each agent on her part of the snapshot; the whole snapshot at every boundary agrees."""
    start, end = datetime(2026, 11, 23, 5, 0, tzinfo=UTC), datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    maria, james = Agent.objects.get(provider_id="222222222"), Agent.objects.get(provider_id="111111111")
    TimeOff.objects.create(agent=maria, start=at(6 * 60), end=at(9 * 60), timezone="UTC")
    support = CallQueue.objects.get(provider_id="1081167000")
    Override.objects.create(agent=james, queue=support, accept=False, starts_at=at(4 * 60 + 30), until=at(6 * 60))
    snapshot = schedule_snapshot(start=start, end=end)
    expected: dict = {}
    for instant in [start, *(b.at for b in boundaries(snapshot, start, end))]:
        for pair, accept in desired_state(snapshot, instant).accept.items():
            if not expected.get(pair) or expected[pair][-1][1] != accept:
                expected.setdefault(pair, []).append((instant, accept))
    assert plan_steps(snapshot, start, end) == expected
    assert (at(4 * 60 + 30), False) in expected[("1081167000", "111111111")]  # the hold is in it
    assert (at(6 * 60), False) in expected[("1081167000", "222222222")]  # and her time off


def test_the_log_costs_a_quiet_pass_nothing_and_changes_bounded_inserts(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from queues.models import ACTUAL_BATCH

    queue = CallQueue.objects.create(provider_id="q1", name="Busy")
    agents = Agent.objects.bulk_create(Agent(provider_id=f"a{n}", name=f"A{n}") for n in range(1_200))
    QueueMembership.objects.bulk_create(
        QueueMembership(queue=queue, agent=a, accepting=True, planned=True, observed_at=T0) for a in agents
    )
    targets = [Target(f"a{n}", "q1") for n in range(1_200)]

    def inserts(memory) -> int:
        directory = Directory.load("ringcentral", targets)
        with CaptureQueriesContext(connection) as queries:
            directory.store(memory)
        return sum(q["sql"].startswith('INSERT INTO "queues_actualchange"') for q in queries.captured_queries)

    assert inserts({t: Memory(True, at(1), True) for t in targets}) == 0
    flipped = set(targets[:600])
    fields = [f for f in ActualChange._meta.concrete_fields if not f.primary_key]
    batch = min(ACTUAL_BATCH, connection.ops.bulk_batch_size(fields, [ActualChange()] * 600))  # SQLite caps it lower
    assert inserts({t: Memory(t not in flipped, at(2), True) for t in targets}) == -(-600 // batch)
    assert ActualChange.objects.count() == 600


def test_the_command_defaults_to_the_last_7_days_and_names_a_bad_option(shift, capsys):
    from django.core.management.base import CommandError

    call_command("compliance", "--json")
    out = json.loads(capsys.readouterr().out)
    assert len(out["rows"]) == 7 and out["zone"] == "UTC"  # the zone the shift is written in
    with pytest.raises(CommandError, match="--from: '24/11/2026' is not a date; use YYYY-MM-DD"):
        call_command("compliance", "--from", "24/11/2026")
    with pytest.raises(CommandError, match="--tz: unknown timezone"):
        call_command("compliance", "--tz", "Mars/Olympus")
    with pytest.raises(CommandError, match="--queue: no queue has the provider id nope"):
        call_command("compliance", "--queue", "nope")
    call_command("compliance", "--from", "2026-11-24", "--to", "2026-11-24", "--tz", "UTC")
    assert "Support" in capsys.readouterr().out


def test_the_migration_starts_each_series_at_the_value_already_stored(member):
    from importlib import import_module

    from django.apps import apps

    QueueMembership.objects.filter(pk=member.pk).update(accepting=True, observed_at=T0)
    Agent.objects.filter(pk=member.agent_id).update(dnd_status="TakeAllCalls", dnd_observed_at=T0)
    import_module("queues.migrations.0013_actual_value_change_log").seed_from_last_known(apps, None)
    assert sorted(ActualChange.objects.values_list("field", "value", "at")) == [
        ("dnd", "TakeAllCalls", T0),
        ("queue_calls", "true", T0),
    ]


def test_a_reread_after_a_session_gap_is_logged_as_read(member):
    queue_presence_heard("ringcentral", "q1", {"a1": False}, since=T0)
    dnd_statuses_read("ringcentral", {"a1": "DoNotAcceptAnyCalls"}, since=T0)
    assert _log() == [("queue_calls", "false", "read"), ("dnd", "DoNotAcceptAnyCalls", "read")]
