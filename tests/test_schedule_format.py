"""The schedule file: every mistake reported with its path, atomic, idempotent, round-trips."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from queues.models import Agent, CallQueue
from scheduler.models import OccurrenceChange, Shift, TimeOff
from scheduler.schedule.exporter import dump_schedule, export_document
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import ScheduleFormatError, parse_schedule

DEMO = Path(__file__).resolve().parent.parent / "scheduler" / "demo" / "schedule.yaml"

GOOD = """
timezone: America/New_York
queues:
  - {id: "1081167000", name: Support, min_staff: 2}
agents:
  - {id: "111111111", name: James Smith, off_shift_dnd: DoNotAcceptDepartmentCalls}
  - {id: 222222222, name: Maria Lopez}
shifts:
  - name: Support mornings
    queues: ["1081167000"]
    agents: ["111111111", "222222222"]
    days: [mon, tue, wed, thu, fri]
    start: 08:00
    end: 12:00
time_off:
  - {agent: "111111111", start: "2026-12-24T00:00", end: "2026-12-27T00:00", reason: Holiday}
"""

TEN_MISTAKES = """
timezone: America/New_York
queues:
  - {id: "1081167000", name: Support, min_staff: -1}
agents:
  - {id: "111111111", name: James Smith, off_shift_dnd: Sleeping}
shifts:
  - {name: A, queues: ["1081167000"], agents: ["111111111"], days: [mon], start: "08:00", end: "08:00"}
  - {name: B, queues: ["1081167000"], agents: ["111111111"], days: [mon], start: "08:00", end: "12:00",
     timezone: Mars/Olympus}
  - {name: C, queues: ["1081167000"], agents: ["111111111"], days: [mon], start: "08:00", end: "25:00"}
  - {name: D, queues: ["1081167000"], agents: ["111111111"], days: [mon, funday], start: "08:00", end: "12:00"}
  - {name: E, queues: ["1081167000"], agents: ["111111111"], rrule: "FREQ=SOMETIMES", dtstart: 2026-01-03,
     start: "08:00", end: "12:00"}
  - {name: F, queues: ["1081167000"], agents: ["111111111"], days: [mon], start: "08:00", end: "12:00",
     valid_from: 2026-06-01, valid_until: 2026-05-01}
  - {name: G, queues: ["999"], agents: ["111111111"], days: [mon], start: "08:00", end: "12:00"}
time_off:
  - {agent: "111111111", start: "2026-12-27T00:00", end: "2026-12-24T00:00"}
"""


@pytest.mark.django_db
def test_it_reports_all_ten_mistakes_with_paths_and_writes_nothing(tmp_path):
    call_command("import_schedule", str(DEMO))
    before = _database_state()
    path = tmp_path / "bad.yaml"
    path.write_text(TEN_MISTAKES)
    with pytest.raises(ScheduleFormatError) as raised:
        import_schedule(parse_schedule(TEN_MISTAKES, lenient=True))
    errors = raised.value.errors
    prefixes = [
        "queues[0].min_staff: -1 is not a whole number",
        "agents[0].off_shift_dnd: value 'Sleeping' is not a valid choice",
        "shifts[0].end: a shift cannot end when it starts",
        "shifts[1].timezone: unknown timezone 'Mars/Olympus'",
        "shifts[2].end: '25:00' is not a time (HH:MM)",
        "shifts[3].days: unknown weekday 'funday'",
        "shifts[4].rrule: invalid RRULE 'FREQ=SOMETIMES'",
        "shifts[5].valid_until: valid until 2026-05-01 is before valid from 2026-06-01",
        "shifts[6].queues[0]: unknown queue '999'",
        "time_off[0].end: time off must end after it starts",
    ]
    assert len(errors) == 10, errors
    for prefix in prefixes:
        assert any(e.startswith(prefix) for e in errors), (prefix, errors)
    with pytest.raises(CommandError) as command_error:
        call_command("import_schedule", str(path))
    assert command_error.value.returncode == 1
    assert _database_state() == before


@pytest.mark.django_db
def test_a_shift_naming_a_queue_with_a_mistake_gets_only_that_mistake():
    text = GOOD.replace("min_staff: 2", "min_staff: two")
    with pytest.raises(ScheduleFormatError) as raised:
        import_schedule(parse_schedule(text, lenient=True))
    assert raised.value.errors == ["queues[0].min_staff: 'two' is not a whole number of 0 or more"]


@pytest.mark.django_db
def test_import_is_idempotent_and_updates_by_id_and_name():
    first = import_schedule(parse_schedule(GOOD))
    assert first.created == {"queues": 1, "agents": 2, "shifts": 1, "time off": 1}
    history_rows = Shift.history.count() + CallQueue.history.count() + Agent.history.count()
    second = import_schedule(parse_schedule(GOOD))
    assert not second.created and not second.updated
    assert Shift.history.count() + CallQueue.history.count() + Agent.history.count() == history_rows
    third = import_schedule(parse_schedule(GOOD.replace("Support, min_staff: 2", "Helpdesk, min_staff: 3")))
    assert third.updated["queues"] == 1
    assert CallQueue.objects.get().name == "Helpdesk"


@pytest.mark.django_db
def test_dry_run_reports_but_writes_nothing():
    report = import_schedule(parse_schedule(GOOD), dry_run=True)
    assert report.created["shifts"] == 1
    assert not Shift.objects.exists() and not Agent.objects.exists()


@pytest.mark.django_db
def test_time_off_is_stored_in_utc_from_local_time():
    import_schedule(parse_schedule(GOOD))
    off = TimeOff.objects.get()
    assert off.start == datetime(2026, 12, 24, 5, tzinfo=UTC)
    assert off.timezone == "America/New_York"


@pytest.mark.django_db
def test_export_round_trips_the_demo_schedule():
    call_command("import_schedule", str(DEMO))
    exported = dump_schedule(export_document())
    report = import_schedule(parse_schedule(exported))
    assert not report.created and not report.updated
    assert report.unchanged == {"queues": 4, "agents": 3, "shifts": 7, "time off": 1}


def test_unquoted_times_are_not_read_as_sexagesimal_numbers():
    document = parse_schedule(GOOD)
    assert document.shifts[0].end.isoformat() == "12:00:00"
    assert document.agents[1].id == "222222222"


@pytest.mark.django_db
def test_it_warns_about_overlapping_shifts_on_the_same_queue():
    overlapping = GOOD.replace(
        "time_off:",
        """  - name: Support midday
    queues: ["1081167000"]
    agents: ["111111111"]
    days: [mon]
    start: "11:00"
    end: "13:00"
time_off:""",
    )
    report = import_schedule(parse_schedule(overlapping))
    assert len(report.warnings) == 1
    assert "agent 111111111 is also on 'Support mornings' for queue 1081167000" in report.warnings[0]


@pytest.mark.parametrize(
    "text, error",
    [
        ("shifts: {}", "shifts: must be a list"),
        ("queues:\n  - name: X", "queues[0].id: is required"),
        ("agents:\n  - {id: 1, name: X, colour: red}", "agents[0].colour: unknown key"),
        ("queues: [{id: 1, name: a}, {id: 1, name: b}]", "queues[1].id: '1' is already used by queues[0]"),
        ("timezone: Europe/Kiev2", "timezone: unknown timezone 'Europe/Kiev2'"),
        ("a: [", "the file is not valid YAML"),
    ],
)
def test_structural_mistakes_name_their_path(text, error):
    with pytest.raises(ScheduleFormatError) as raised:
        parse_schedule(text)
    assert any(e.startswith(error) for e in raised.value.errors), raised.value.errors


def _database_state():
    return (
        list(CallQueue.objects.values_list("provider_id", "name", "min_staff")),
        list(Agent.objects.values_list("provider_id", "name", "off_shift_dnd")),
        list(Shift.objects.values_list("name", "start_time", "end_time", "days")),
        list(TimeOff.objects.values_list("agent_id", "start", "end")),
        Shift.history.count(),
    )


WITH_CHANGES = GOOD.replace(
    "    end: 12:00\n",
    """    end: 12:00
    changes:
      - {occurrence: 2026-12-02, absent: ["111111111"], covering: ["333333333"], reason: doctor}
      - {occurrence: 2026-12-03, cancelled: true, reason: training day}
      - {occurrence: 2026-12-04, start: "13:00", end: "17:00"}
      - {occurrence: 2026-03-06, date: 2026-03-08, start: "02:30", end: "06:00"}
      - {occurrence: 2026-10-30, start: "2026-11-01T01:30-05:00", end: "2026-11-01T03:00"}
""",
).replace(
    "  - {id: 222222222, name: Maria Lopez}\n",
    "  - {id: 222222222, name: Maria Lopez}\n  - {id: 333333333, name: Olena}\n",
)


@pytest.mark.django_db
def test_occurrence_changes_import_in_the_shifts_zone_and_round_trip():
    report = import_schedule(parse_schedule(WITH_CHANGES))
    assert report.created["occurrence changes"] == 5
    assert "occurrence changes: 5 created" in report.summary()
    stored = {c.occurrence.isoformat(): c for c in OccurrenceChange.objects.all()}
    assert [a.provider_id for a in stored["2026-12-02"].covering.all()] == ["333333333"]
    assert stored["2026-12-03"].cancelled and stored["2026-12-03"].reason == "training day"
    assert (stored["2026-12-04"].start, stored["2026-12-04"].end) == (
        datetime(2026, 12, 4, 18, tzinfo=UTC),
        datetime(2026, 12, 4, 22, tzinfo=UTC),
    )
    # moved onto the spring-forward day: 02:30 does not exist and is read with the offset before the gap
    assert stored["2026-03-06"].start == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    # the second 01:30 of the fall-back night, kept exact by its offset
    assert stored["2026-10-30"].start == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    exported = dump_schedule(export_document())
    assert "date: 2026-03-08" in exported  # moved to another day: HH:MM on that day
    assert "start: 2026-11-01T01:30-05:00" in exported  # the fold's second pass keeps its offset
    again = import_schedule(parse_schedule(exported))
    assert not again.created and not again.updated and again.unchanged["occurrence changes"] == 5


@pytest.mark.django_db
def test_a_file_without_changes_reports_as_before():
    assert "occurrence changes" not in import_schedule(parse_schedule(GOOD)).summary()


@pytest.mark.parametrize(
    "change, error",
    [
        (
            "{occurrence: 2026-12-05, cancelled: true}",
            "shifts[0].changes[0].occurrence: no occurrence of Support mornings starts on",
        ),
        ("{occurrence: 2026-12-02, start: '13:00'}", "shifts[0].changes[0].end: a moved occurrence needs both"),
        ("{occurrence: 2026-12-02, start: '13:00', end: 'noon'}", "shifts[0].changes[0].end: 'noon' is not a time"),
        ("{occurrence: 2026-12-02, covering: ['111111111']}", "shifts[0].changes[0].covering: a covering agent"),
        ("{occurrence: 2026-12-02, absent: ['999']}", "shifts[0].changes[0].absent[0]: unknown agent '999'"),
        ("{occurrence: 2026-12-02}", "shifts[0].changes[0].cancelled: nothing changes"),
        ("{occurrence: 2026-12-02, colour: red}", "shifts[0].changes[0].colour: unknown key"),
        ("{occurrence: 2026-12-02, date: 2026-12-03, cancelled: true}", "shifts[0].changes[0].date: a move to another"),
    ],
)
@pytest.mark.django_db
def test_a_bad_change_is_refused_with_its_path_and_nothing_is_written(change, error):
    text = GOOD.replace("    end: 12:00\n", f"    end: 12:00\n    changes:\n      - {change}\n")
    with pytest.raises(ScheduleFormatError) as raised:
        import_schedule(parse_schedule(text, lenient=True))
    assert any(e.startswith(error) for e in raised.value.errors), raised.value.errors
    assert not Shift.objects.exists()


def test_the_same_occurrence_changed_twice_is_refused():
    text = GOOD.replace(
        "    end: 12:00\n",
        "    end: 12:00\n    changes:\n      - {occurrence: 2026-12-02, cancelled: true}\n"
        "      - {occurrence: 2026-12-02, reason: x, cancelled: true}\n",
    )
    with pytest.raises(ScheduleFormatError, match=r"changes\[1\].occurrence: 2026-12-02 is already changed"):
        parse_schedule(text)


@pytest.mark.parametrize(
    "changes, error",
    [
        ("[" + ", ".join(["{occurrence: 2026-12-02, cancelled: true}"] * 5_001) + "]", "has 5,001 entries; the limit"),
        ("[{occurrence: 2026-12-02, absent: [[['x']]]}]", "nested deeper than 6 levels"),
        ("[{occurrence: 2026-12-02, start: '13:00', end: '2026-12-02T17:00'}]", "give start and end both as times"),
        ("[{occurrence: 1999-12-01, cancelled: true}]", "is outside 2000-01-01 to 2199-12-31"),
        ("[{occurrence: 2026-12-02, start: '9999-12-31T23:00', end: '9999-12-31T23:59'}]", "is outside 2000-01-01"),
    ],
)
@pytest.mark.django_db
def test_a_hostile_changes_list_is_refused_by_the_files_limits(changes, error):
    text = GOOD.replace("    end: 12:00\n", f"    end: 12:00\n    changes: {changes}\n")
    with pytest.raises(ScheduleFormatError) as raised:
        import_schedule(parse_schedule(text, lenient=True))
    assert any(error in e for e in raised.value.errors), raised.value.errors[:3]
