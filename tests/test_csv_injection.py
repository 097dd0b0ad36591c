"""Roster files are formula-safe (OWASP CSV injection), round-trip exactly, and come in only in formats that work."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from queues.models import Agent, CallQueue
from scheduler.models import Shift
from scheduler.roster_import import SafeCSV, SafeTSV, ShiftResource, escape_cell, import_roster, unescape_cell

IMPORT = "/admin/scheduler/shift/import/"
EXPORT = "/admin/scheduler/shift/export/"
NAMES = [
    '=HYPERLINK("http://example.invalid","x")',
    "+SUM(1,2)",
    "-2+3",
    "@cmd",
    "\tTabbed",
    "\rCarriage",
    "'quoted",
    "'=typed escape",
    "Plain desk",
    "Desk = main",
]


@pytest.fixture
def hostile_shifts(demo):
    queue, agent = CallQueue.objects.get(provider_id="1081167000"), Agent.objects.get(provider_id="111111111")
    for name in NAMES:
        shift = Shift.objects.create(name=name, timezone="UTC", start_time="08:00", end_time="12:00", days="mon")
        shift.queues.add(queue)
        shift.agents.add(agent)


@pytest.mark.parametrize(
    "value, escaped",
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'x", "''x"),
        ("x=1", "x=1"),
        ("", ""),
        (None, None),
    ],
)
def test_a_cell_is_escaped_as_owasp_advises_and_unescaped_exactly(value, escaped):
    assert escape_cell(value) == escaped
    assert unescape_cell(escaped) == value


def test_a_quote_typed_by_a_person_is_kept_unless_it_guards_a_formula():
    assert unescape_cell("'quoted") == "'quoted"
    assert unescape_cell("'=typed") == "=typed"


@pytest.mark.parametrize("fmt, delimiter", [(SafeCSV, ","), (SafeTSV, "\t")])
def test_no_exported_cell_starts_a_formula(hostile_shifts, fmt, delimiter):
    exported = fmt().export_data(ShiftResource().export())
    cells = [cell for row in csv.reader(io.StringIO(exported, newline=""), delimiter=delimiter) for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert {f"'{name}" for name in NAMES[:8]} <= set(cells)
    assert {"Plain desk", "Desk = main"} <= set(cells)


@pytest.mark.parametrize("fmt", [SafeCSV, SafeTSV])
def test_an_exported_roster_imports_back_unchanged(hostile_shifts, fmt):
    exported = fmt().export_data(ShiftResource().export())
    result = import_roster(fmt().create_dataset(exported), dry_run=True)
    assert not result.has_errors() and not result.has_validation_errors()
    assert {r.import_type for r in result.rows} == {"skip"}  # every name matched its own shift


def test_the_admin_export_is_escaped_and_its_file_imports_back(hostile_shifts, bob, client):
    fields = {f"shiftresource_{name}": "on" for name in ShiftResource().get_export_order()}
    response = client.post(EXPORT, {"format": "0", "resource": "0", **fields})
    exported = response.content.decode()
    assert response.status_code == 200 and "'=HYPERLINK" in exported and "'-2+3" in exported
    Shift.objects.filter(name__in=NAMES).update(days="tue")
    upload = SimpleUploadedFile("roster.csv", exported.encode(), content_type="text/csv")
    page = client.post(IMPORT, {"import_file": upload, "format": "0", "resource": "0"})
    assert page.status_code == 200 and "Confirm import" in page.content.decode()
    assert "=HYPERLINK" in page.content.decode() and "'=HYPERLINK" not in page.content.decode()


def test_the_admin_offers_only_import_formats_that_work(bob, client):
    page = client.get(IMPORT).content.decode()
    assert ">csv<" in page and ">tsv<" in page
    assert ">html<" not in page and ">json<" not in page and ">yaml<" not in page


@pytest.mark.parametrize(
    "filename, content, fmt",
    [
        ("roster.html", b"<table><tr><th>name</th></tr><tr><td>x</td></tr></table>", "4"),  # HTML, as offered before
        ("roster.csv", b"\xff\xfe\x00n\x00a\x00m\x00e", "0"),
        ("roster.csv", b"name,timezone\n\x00\x00\x00,UTC\n", "0"),
        ("roster.csv", b"", "0"),
        ("roster.tsv", b"\x80\x81\x82", "1"),
    ],
)
def test_a_hostile_roster_upload_is_refused_without_a_500(bob, client, filename, content, fmt):
    shifts = Shift.objects.count()
    upload = SimpleUploadedFile(filename, content)
    response = client.post(IMPORT, {"import_file": upload, "format": fmt, "resource": "0"})
    assert response.status_code == 200
    assert "Confirm import" not in response.content.decode()
    assert Shift.objects.count() == shifts
