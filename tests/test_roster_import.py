"""CSV rosters through django-import-export: preview first, row-level errors, nothing saved on a bad file."""

import pytest
import tablib
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from scheduler.models import Shift
from scheduler.roles import SUPERVISOR
from scheduler.roster_import import ShiftResource, import_roster
from scheduler.schedule.parse import DEMO_SCHEDULE

HEADER = "name,timezone,start_time,end_time,days,rrule,dtstart,valid_from,valid_until,queues,agents\n"
GOOD = 'Late desk,Europe/Kyiv,18:00,02:00,"mon,fri",,,,,1081167000,111111111|222222222\n'


def csv(*rows) -> tablib.Dataset:
    return tablib.Dataset().load(HEADER + "".join(rows), format="csv")


def test_a_new_shift_is_created_with_its_queues_and_agents(demo):
    result = import_roster(csv(GOOD))
    assert not result.has_errors() and not result.has_validation_errors()
    shift = Shift.objects.get(name="Late desk")
    assert sorted(shift.agents.values_list("provider_id", flat=True)) == ["111111111", "222222222"]
    assert shift.days == "mon,fri"


def test_a_dry_run_previews_and_saves_nothing(demo):
    result = import_roster(csv(GOOD), dry_run=True)
    assert [r.import_type for r in result.rows] == ["new"]
    assert not Shift.objects.filter(name="Late desk").exists()


def test_export_then_import_changes_nothing(demo):
    exported = ShiftResource().export()
    result = ShiftResource().import_data(tablib.Dataset().load(exported.csv, format="csv"), dry_run=True)
    assert {r.import_type for r in result.rows} == {"skip"}


@pytest.mark.parametrize(
    "row, field, message",
    [
        ("Bad,Europe/Kyiv,18:00,18:00,mon,,,,,1081167000,111111111\n", "end_time", "a shift cannot end when it starts"),
        ("Bad,Mars/Base,18:00,19:00,mon,,,,,1081167000,111111111\n", "timezone", "unknown timezone"),
        ("Bad,UTC,18:00,19:00,mon,,,,,1081167000,999\n", "agents", "unknown agent provider id(s) 999"),
    ],
)
def test_a_bad_row_is_reported_with_its_field_and_nothing_is_saved(demo, row, field, message):
    result = import_roster(csv(GOOD, row))
    text = str(result.invalid_rows[0].error_dict if result.invalid_rows else result.row_errors()[0][1][0].error)
    assert field in text or message in text
    assert message in text
    assert not Shift.objects.filter(name__in=["Late desk", "Bad"]).exists()


def test_the_admin_import_shows_a_preview_before_saving(demo, client):
    user = get_user_model().objects.create_user("bob", password="pw-bob-123", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    client.force_login(user)
    upload = SimpleUploadedFile("roster.csv", (HEADER + GOOD).encode(), content_type="text/csv")
    response = client.post("/admin/scheduler/shift/import/", {"import_file": upload, "format": "0", "resource": "0"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Late desk" in page and "Confirm import" in page
    assert not Shift.objects.filter(name="Late desk").exists()


def test_staff_without_the_group_cannot_import(demo, client):
    client.force_login(get_user_model().objects.create_user("carol", password="pw-carol-123", is_staff=True))
    assert client.get("/admin/scheduler/shift/import/").status_code == 403


ROSTER_YAML = "/admin/scheduler/supervision/schedule-file/"


def test_the_yaml_export_is_the_schedule_format(bob, client):
    response = client.get(ROSTER_YAML + "?export=1")
    assert response["Content-Disposition"] == 'attachment; filename="schedule.yaml"'
    assert "Support mornings" in response.content.decode()


def test_a_yaml_import_is_previewed_then_confirmed(bob, client):
    text = DEMO_SCHEDULE.read_text().replace("name: Support mornings", "name: Support early mornings")
    upload = SimpleUploadedFile("schedule.yaml", text.encode())
    page = client.post(ROSTER_YAML, {"schedule": upload}).content.decode()
    assert "shifts: 1 created" in page and "Confirm import" in page
    assert not Shift.objects.filter(name="Support early mornings").exists()
    response = client.post(ROSTER_YAML, {"text": text, "confirm": "1"}, follow=True)
    assert "Schedule imported" in response.content.decode()
    shift = Shift.objects.get(name="Support early mornings")
    assert shift.history.first().history_user == bob


def test_a_bad_yaml_file_lists_each_mistake_with_its_path_and_saves_nothing(bob, client):
    text = DEMO_SCHEDULE.read_text().replace('end: "12:00"', 'end: "25:00"', 1)
    page = client.post(ROSTER_YAML, {"text": text, "confirm": "1"}).content.decode()
    assert "Nothing was imported" in page and "shifts[0].end" in page
    assert Shift.objects.get(name="Support mornings").end_time.hour == 12
