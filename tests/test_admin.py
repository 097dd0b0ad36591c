"""Supervisors' admin pages for the schedule: they render, validate, and keep history."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from queues.models import Agent, CallQueue
from scheduler.models import Shift, TimeOff
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file


@pytest.fixture
def alice(db, client):
    user = get_user_model().objects.create_superuser("alice", "alice@example.com", "pw-alice-123")
    client.force_login(user)
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    return user


@pytest.mark.parametrize(
    "url",
    [
        "/admin/queues/callqueue/",
        "/admin/queues/agent/",
        "/admin/queues/queuemembership/",
        "/admin/scheduler/shift/",
        "/admin/scheduler/timeoff/",
        "/admin/scheduler/shift/add/",
        "/admin/scheduler/timeoff/add/",
        "/admin/scheduler/shift/?q=Support",
        "/admin/queues/agent/?off_shift_dnd__exact=DoNotAcceptDepartmentCalls",
    ],
)
def test_admin_pages_render(alice, client, url):
    assert client.get(url).status_code == 200


def _shift_form(**overrides):
    data = {
        "name": "Late desk",
        "queues": [CallQueue.objects.get(provider_id="1081167000").pk],
        "agents": [Agent.objects.get(provider_id="111111111").pk],
        "timezone": "Europe/Kyiv",
        "start_time": "18:00",
        "end_time": "02:00",
        "days": ["mon", "fri"],
        "rrule": "",
        "dtstart": "",
        "valid_from": "",
        "valid_until": "",
    }
    return data | overrides


def test_shift_form_saves_weekday_checkboxes_and_history(alice, client):
    response = client.post("/admin/scheduler/shift/add/", _shift_form())
    assert response.status_code == 302
    shift = Shift.objects.get(name="Late desk")
    assert shift.days == "mon,fri"
    assert shift.history.first().history_user == alice
    assert client.get(f"/admin/scheduler/shift/{shift.pk}/history/").status_code == 200


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"end_time": "18:00"}, "end_time", "a shift cannot end when it starts"),
        ({"timezone": "Europe/Kiev2"}, "timezone", "unknown timezone"),
        ({"days": [], "rrule": "FREQ=HOURLY", "dtstart": "2026-01-01"}, "rrule", "FREQ must be DAILY or coarser"),
        ({"valid_from": "2026-06-01", "valid_until": "2026-05-01"}, "valid_until", "is before valid from"),
        ({"days": []}, "days", "give the weekdays"),
    ],
)
def test_shift_form_shows_the_model_errors_by_field(alice, client, overrides, field, message):
    response = client.post("/admin/scheduler/shift/add/", _shift_form(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert not Shift.objects.filter(name="Late desk").exists()


@pytest.mark.parametrize("url", ["/admin/scheduler/shift/add/", "/admin/scheduler/timeoff/add/"])
def test_the_zone_is_picked_from_a_list_the_schedules_zones_first(alice, client, url):
    field = client.get(url).context["adminform"].form.fields["timezone"]
    zones = [value for value, _ in field.choices if value]
    used = sorted(set(Shift.objects.values_list("timezone", flat=True)))
    assert sorted(zones[: len(used)]) == used  # the demo's own zones lead
    assert {"Europe/Kyiv", "Asia/Tokyo", "UTC"} <= set(zones)
    assert len(zones) == len(set(zones)) > 300


def test_a_stored_zone_this_system_no_longer_knows_is_shown_marked_and_refused_on_save(alice, client):
    shift = Shift.objects.first()
    Shift.objects.filter(pk=shift.pk).update(timezone="Europe/Atlantis")
    field = client.get(f"/admin/scheduler/shift/{shift.pk}/change/").context["adminform"].form.fields["timezone"]
    assert ("Europe/Atlantis", "Europe/Atlantis (not a time zone: choose another)") in field.choices
    response = client.post("/admin/scheduler/shift/add/", _shift_form(timezone="Europe/Atlantis"))
    assert "unknown timezone 'Europe/Atlantis'" in " ".join(response.context["adminform"].form.errors["timezone"])


def test_time_off_is_entered_in_local_time_and_stored_in_utc(alice, client):
    agent = Agent.objects.get(provider_id="333333333")
    form = {"agent": agent.pk, "start": "2026-03-08 02:30", "end": "2026-03-09 00:00", "timezone": "America/New_York"}
    assert client.post("/admin/scheduler/timeoff/add/", form | {"reason": "Dentist"}).status_code == 302
    off = TimeOff.objects.get(agent=agent)
    assert off.start == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # nonexistent 02:30 taken with EST (RFC 5545)
    page = client.get(f"/admin/scheduler/timeoff/{off.pk}/change/").content.decode()
    assert 'value="2026-03-08 03:30:00"' in page  # shown back as the wall time that exists


def test_time_off_must_end_after_it_starts(alice, client):
    agent = Agent.objects.get(provider_id="333333333")
    form = {"agent": agent.pk, "start": "2026-03-09 00:00", "end": "2026-03-08 00:00", "timezone": "UTC"}
    response = client.post("/admin/scheduler/timeoff/add/", form)
    assert "time off must end after it starts" in " ".join(response.context["adminform"].form.errors["end"])


def test_the_admin_says_callrota_and_the_favicon_is_served(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root-123"))
    page = client.get("/admin/")
    assert b"Callrota administration" in page.content and b"Django administration" not in page.content
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert icon.content.lstrip().startswith(b"<svg")
