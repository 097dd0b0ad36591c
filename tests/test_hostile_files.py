"""Hostile schedule files through both doors, `manage.py import_schedule` and the admin's schedule page:
each gets a brief error naming where it is, nothing is written, and reading it stays small."""

import html
import os
import resource
import subprocess
import sys
import tracemalloc
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from queues.models import Agent, CallQueue
from scheduler.models import Shift, TimeOff
from scheduler.schedule import importer
from scheduler.schedule.exporter import dump_schedule
from scheduler.schedule.parse import MAX_MESSAGE, MAX_NODES, ScheduleFormatError, parse_schedule
from tests.hostile.schedules.corpus import GOOD, GOOD_JSON, HOSTILE

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "hostile" / "schedules"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".yaml", ".json"))
ROSTER = "/admin/scheduler/supervision/schedule-file/"
MEMORY_CAP = 64 * 2**20  # bytes traced while one file is refused; the alias bomb took 2.2 GB before
ADDRESS_SPACE = 1_500 * 2**20  # a whole manage.py process, Django and all


def _rows():
    return (CallQueue.objects.count(), Agent.objects.count(), Shift.objects.count(), TimeOff.objects.count(),
            Shift.history.count())  # fmt: skip


def _peak(work):
    """Run `work`; return (its result, the peak bytes Python allocated meanwhile)."""
    tracemalloc.start()
    try:
        return work(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _refused_by_the_command(path) -> list[str]:
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_schedule", str(path), stdout=StringIO(), stderr=err)
    assert raised.value.returncode == 1
    assert str(raised.value).endswith(f"in {path}; nothing was written.")
    return err.getvalue().splitlines()


def _refused_by_the_admin(client, name: str, data: bytes) -> str:
    response = client.post(ROSTER, {"schedule": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Nothing was imported" in page and "Confirm import" not in page
    return page


def test_the_corpus_is_the_one_its_script_writes():
    assert len(FILES) >= 40
    assert set(FILES) == set(HOSTILE)
    assert all((CORPUS / name).read_bytes() == HOSTILE[name][0] for name in FILES)


@pytest.mark.parametrize("name", FILES)
def test_the_command_refuses_a_hostile_file_briefly_and_writes_nothing(demo, name):
    before = _rows()
    lines, peak = _peak(lambda: _refused_by_the_command(CORPUS / name))
    assert any(HOSTILE[name][1] in line for line in lines), lines
    assert all(len(line) <= MAX_MESSAGE for line in lines), max(lines, key=len)
    assert _rows() == before
    assert peak < MEMORY_CAP, f"{peak:,} bytes"


@pytest.mark.parametrize("name", FILES)
def test_the_admin_page_refuses_a_hostile_file_as_a_form_error(demo, admin_client, name):
    before = _rows()
    page, peak = _peak(lambda: _refused_by_the_admin(admin_client, name, (CORPUS / name).read_bytes()))
    assert HOSTILE[name][1] in page
    assert _rows() == before
    assert peak < MEMORY_CAP, f"{peak:,} bytes"


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["alias_bomb_in_a_value.yaml", "deep_nesting.json", "deep_flow_sequence.yaml", "huge_integer.json"]
)
def test_a_real_process_refuses_a_bomb_within_a_memory_limit(transactional_db, name):
    done = subprocess.run(
        [sys.executable, "manage.py", "import_schedule", str(CORPUS / name)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _database_url()},
        preexec_fn=_limit_address_space,  # the child alone runs under the limit
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "nothing was written" in done.stderr
    assert HOSTILE[name][1] in done.stderr


@pytest.mark.parametrize("door", ["command", "admin"])
def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(demo, admin_client, tmp_path, settings, door):
    settings.SCHEDULE_FILE_MAX_BYTES = 1_000
    path = tmp_path / "schedule.yaml"
    path.write_bytes(GOOD.encode() + b"#" * 1_000 + b"\n")
    if door == "command":
        assert (
            _refused_by_the_command(path)[0] == "file: larger than the limit of 1,000 bytes (SCHEDULE_FILE_MAX_BYTES)"
        )
    else:
        assert "file: larger than the limit of 1,000 bytes" in _refused_by_the_admin(
            admin_client, "s.yaml", path.read_bytes()
        )


@pytest.mark.parametrize("text", ["x: [" + "1," * MAX_NODES + "1]\n", '{"x": [' + "1," * MAX_NODES + "1]}"])
def test_a_file_of_too_many_values_is_refused(text):
    with pytest.raises(ScheduleFormatError) as raised:
        parse_schedule(text, json_only=text.startswith("{"))
    assert raised.value.errors[0].endswith(f"more than {MAX_NODES:,} values; split the schedule into several files")


def test_every_message_is_cut_short_and_at_most_a_hundred_are_listed():
    many = "shifts:\n" + "- {}\n" * 200
    with pytest.raises(ScheduleFormatError) as raised:
        parse_schedule(many)
    assert len(raised.value.errors) == 101 and raised.value.errors[-1].startswith("... and ")
    with pytest.raises(ScheduleFormatError) as raised:
        parse_schedule(GOOD.replace("timezone: UTC", "timezone: Europe/" + "K" * 400))
    assert all(len(e) <= MAX_MESSAGE for e in raised.value.errors)


@pytest.mark.parametrize(
    "name, data", [("bom.yaml", b"\xef\xbb\xbf" + GOOD.encode()), ("bom.json", b"\xef\xbb\xbf" + GOOD_JSON.encode())]
)
def test_a_utf8_file_with_a_byte_order_mark_imports(db, tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    call_command("import_schedule", str(tmp_path / name), stdout=StringIO(), stderr=StringIO())
    assert Shift.objects.get().name == "Mornings"


def test_a_json_file_is_previewed_then_confirmed_as_json_in_the_admin(db, admin_client):
    page = admin_client.post(ROSTER, {"schedule": SimpleUploadedFile("s.json", GOOD_JSON.encode())}).content.decode()
    assert "shifts: 1 created" in page and 'name="json"' in page
    response = admin_client.post(ROSTER, {"text": GOOD_JSON, "json": "1", "confirm": "1"}, follow=True)
    assert "Schedule imported" in response.content.decode()
    assert Shift.objects.get().name == "Mornings"


def test_an_exported_schedule_writes_a_value_used_twice_twice_so_it_reads_back():
    document = parse_schedule(GOOD)
    twin = document.shifts[0].model_copy(update={"name": "Twin"})  # the same lists of ids, the same objects
    document.shifts.append(twin)
    text = dump_schedule(document)
    assert "&" not in text and "*" not in text
    assert [s.name for s in parse_schedule(text).shifts] == ["Mornings", "Twin"]


def _shifts_on_one_agent(count: int) -> str:
    shifts = "".join(
        f"  - {{name: S{i}, queues: [q1], agents: [a1], days: [mon], start: '08:00', end: '12:00'}}\n"
        for i in range(count)
    )
    return GOOD.split("shifts:")[0] + "shifts:\n" + shifts


def test_the_overlap_check_compares_a_bounded_number_of_pairs_and_says_when_it_stops(db, monkeypatch):
    monkeypatch.setattr(importer, "OVERLAP_PAIRS", 3)
    warnings = importer.import_schedule(parse_schedule(_shifts_on_one_agent(4)), dry_run=True).warnings
    assert [w.split(" at overlapping")[0] for w in warnings[:3]] == [
        f"shifts[{i}]: agent a1 is also on 'S0' for queue q1" for i in (1, 2, 3)
    ]
    assert warnings[3:] == ["the overlap check stopped after 3 pairs of shifts"]
