"""Each person's time zone: her own setting, else the schedule's; every page in it; never a silent fallback."""

from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from queues.models import Agent, AuditEntry
from scheduler.models import PersonZone
from scheduler.people import set_zone, viewer_zone
from tests.support.personas import link_receptionist

JAMES = "111111111"
SETTINGS = "/settings/"
AUDIT = "/admin/queues/auditentry/"
COVERAGE = "/admin/scheduler/supervision/coverage/"


def test_without_a_setting_a_person_sees_the_zone_most_shifts_use(bob, client):
    assert viewer_zone(bob).tz == ZoneInfo("America/New_York")
    response = client.get(COVERAGE)
    assert response.context["tz"].key == "America/New_York"
    assert "Times in America/New_York" in response.text  # the admin header says which zone


def test_her_own_zone_is_used_by_the_supervisor_pages_and_the_admin_lists(bob, client):
    AuditEntry.objects.create(reason="drift", agent=Agent.objects.get(provider_id=JAMES), field="dndStatus",
                              old_value="TakeAllCalls", new_value="DoNotAcceptAnyCalls", outcome="applied")  # fmt: skip
    response = client.post(SETTINGS, {"timezone": "Europe/Kyiv", "next": COVERAGE})
    assert response.status_code == 302 and response["Location"] == COVERAGE
    assert PersonZone.objects.get(user=bob).timezone == "Europe/Kyiv"
    assert client.get(COVERAGE).context["tz"].key == "Europe/Kyiv"
    entry = AuditEntry.objects.get()
    shown = timezone.localtime(entry.created_at, ZoneInfo("Europe/Kyiv")).strftime("%Y-%m-%d %H:%M %Z")
    page = client.get(AUDIT).text
    assert shown in page and "Times in Europe/Kyiv" in page


def test_a_zone_picked_on_a_page_lasts_until_she_saves_her_setting(bob, client):
    set_zone(bob, "Europe/Kyiv")
    client.get(COVERAGE + "?tz=Asia/Tokyo")
    assert client.get(COVERAGE).context["tz"].key == "Asia/Tokyo"  # remembered, as before
    client.post(SETTINGS, {"timezone": "America/Chicago"})
    assert client.get(COVERAGE).context["tz"].key == "America/Chicago"


def test_a_bad_zone_on_the_settings_page_is_refused_naming_the_field(bob, client):
    response = client.post(SETTINGS, {"timezone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "Time zone: Select a valid choice. Mars/Olympus" in response.text
    assert not PersonZone.objects.filter(user=bob).exists()


def test_an_unknown_stored_zone_is_an_error_on_every_page_not_a_silent_fallback(bob, client):
    PersonZone.objects.create(user=bob, timezone="Mars/Olympus")  # e.g. a zone gone from tzdata
    for url in [COVERAGE, AUDIT, "/admin/", SETTINGS]:
        page = client.get(url).text
        assert "Time zone (My settings): unknown timezone &#x27;Mars/Olympus&#x27;" in page, url
        assert "Showing times in America/New_York until it is fixed." in page, url
    assert "is not a time zone any more" in client.get(SETTINGS).text


def test_the_settings_page_goes_back_only_to_this_site(bob, client):
    response = client.post(SETTINGS, {"timezone": "", "next": "https://evil.example/"})
    assert response["Location"] == SETTINGS
    assert PersonZone.objects.get(user=bob).timezone == ""


def test_a_supervisor_sets_a_receptionists_zone_in_admin(bob, client, demo_emulator, point_app_at):
    point_app_at(demo_emulator)
    james = link_receptionist(JAMES, "james")
    response = client.post(reverse("admin:scheduler_personzone_add"), {"user": james.pk, "timezone": "Europe/Kyiv"})
    assert response.status_code == 302, response.text[:2000]
    receptionist = Client()
    receptionist.force_login(james)
    page = receptionist.get("/").text
    assert "times in Europe/Kyiv" in page and "My settings (Europe/Kyiv)" in page


def test_a_receptionist_without_a_setting_sees_her_shifts_zone_and_may_change_it(demo, demo_emulator, point_app_at):
    point_app_at(demo_emulator)
    receptionist = Client()
    receptionist.force_login(link_receptionist(JAMES, "james"))
    assert "times in America/New_York" in receptionist.get("/").text
    receptionist.post(SETTINGS, {"timezone": "Europe/Kyiv"})
    assert "times in Europe/Kyiv" in receptionist.get("/").text


@pytest.mark.parametrize("zone", ["", "UTC", "Pacific/Chatham"])
def test_set_zone_keeps_any_iana_zone_or_the_default(db, zone):
    user = get_user_model().objects.create_user("x")
    assert set_zone(user, zone).timezone == zone


def test_set_zone_refuses_a_name_that_is_no_zone(db):
    user = get_user_model().objects.create_user("x")
    with pytest.raises(ValueError, match="unknown timezone"):
        set_zone(user, "Nowhere/Land")
