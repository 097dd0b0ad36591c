"""Edge values in the supervisors' pages and forms: a message naming the value, never a 500."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from queues.models import Agent
from scheduler.models import TimeOff

PAGES = [
    "/admin/scheduler/supervision/board/",
    "/admin/scheduler/supervision/board/panel/",
    "/admin/scheduler/supervision/timeline/",
    "/admin/scheduler/supervision/coverage/",
    "/admin/scheduler/supervision/preview/",
    "/admin/scheduler/supervision/hold/",
    "/admin/integrations/provideridentity/adherence/",
]
EDGES = [
    "day=9999-12-31",
    "day=0001-01-01",
    "day=9999-12-31&days=7",
    "day=0001-01-01&days=62",
    "day=2026-13-45",
    "day=-2026-01-01",
    "day=" + "9" * 5000,
    "days=" + "9" * 5000,
    "days=-99999999999999999999",
    "days=0",
    "days=1e9",
    "refresh=-1",
    "refresh=" + "9" * 400,
    "queue=-1",
    "queue=" + "9" * 400,
    "tz=Not/AZone",
    "tz=../../../etc/passwd",
    "tz=" + "A" * 5000,
    "tz=%00",
    "tz=UTC%00",
    "tz=Etc/GMT%2B12&day=9999-12-31",
    "tz=Etc/GMT-14&day=0001-01-01",
    "until=9999-12-31T23:59&agent=-1",
]


@pytest.fixture
def admin_client(demo, client):
    """A superuser, so that every page answers and nothing is hidden behind a 403."""
    client.force_login(get_user_model().objects.create_superuser("root", password="pw-root-123"))
    return client


@pytest.mark.parametrize("query", EDGES)
def test_edge_values_on_every_supervisor_page_never_give_a_500(admin_client, query):
    for page in PAGES:
        response = admin_client.get(f"{page}?{query}")
        assert response.status_code in (200, 302), f"{page}?{query[:60]} answered {response.status_code}"


@pytest.mark.parametrize(
    "query, message",
    [
        ("day=9999-12-31", "day: '9999-12-31' is outside the dates the pages can show"),
        ("day=0001-01-01", "day: '0001-01-01' is outside the dates the pages can show"),
        ("day=2026-13-45", "day: '2026-13-45' is not a date; use YYYY-MM-DD"),
        ("days=-5", "days: '-5' must be a whole number from 1 to 62"),
    ],
)
def test_an_edge_value_is_named_in_a_message(admin_client, query, message):
    response = admin_client.get(f"/admin/scheduler/supervision/coverage/?{query}")
    assert message in [str(m) for m in response.context["messages"]][0]


def test_a_very_long_value_is_quoted_briefly(admin_client):
    response = admin_client.get("/admin/scheduler/supervision/coverage/?day=" + "9" * 5000)
    shown = [str(m) for m in response.context["messages"]][0]
    assert len(shown) < 200


@pytest.mark.parametrize("zone, until", [("Etc/GMT%2B12", "9999-12-31 23:59"), ("Etc/GMT-14", "0001-01-01 00:00")])
def test_a_hold_until_past_the_calendar_is_a_form_error(admin_client, zone, until):
    agent = Agent.objects.get(provider_id="111111111")
    form = {"agent": agent.pk, "dnd_status": "TakeAllCalls", "until": until}
    response = admin_client.post(f"/admin/scheduler/supervision/hold/?tz={zone}", form)
    assert response.status_code == 200
    assert "choose a time in the next few years" in response.context["form"].errors["until"][0]


# ---------------------------------------------------------------------------- the TimeOff form

TIME_OFF_ADD = "/admin/scheduler/timeoff/add/"


def _time_off(**values) -> dict:
    form = {
        "agent": Agent.objects.get(provider_id="111111111").pk, "start": "2026-12-24 00:00",
        "end": "2026-12-27 00:00", "timezone": "Europe/Kyiv", "reason": "Edge test",
    }  # fmt: skip
    return form | values


@pytest.mark.parametrize(
    "zone, message",
    [
        ("Not/AZone", "unknown timezone 'Not/AZone'"),
        ("../../etc/passwd", "unknown timezone"),
        ("A" * 64, "unknown timezone"),
        ("UTC\x00", "unknown timezone 'UTC\\x00'"),
    ],
)
def test_an_unknown_timezone_on_the_time_off_form_is_a_form_error(admin_client, zone, message):
    response = admin_client.post(TIME_OFF_ADD, _time_off(timezone=zone))
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors["timezone"][0]
    assert not TimeOff.objects.filter(reason="Edge test").exists()


@pytest.mark.parametrize(
    "start, end, zone",
    [("9999-12-31 23:00", "9999-12-31 23:30", "Etc/GMT+12"), ("0001-01-01 00:00", "0001-01-01 00:30", "Etc/GMT-14")],
)
def test_time_off_past_the_calendar_in_utc_is_a_form_error(admin_client, start, end, zone):
    response = admin_client.post(TIME_OFF_ADD, _time_off(start=start, end=end, timezone=zone))
    assert response.status_code == 200
    assert "outside the calendar" in response.context["adminform"].form.errors["start"][0]
    assert not TimeOff.objects.filter(reason="Edge test").exists()


def test_good_time_off_is_still_saved_in_its_zone(admin_client):
    response = admin_client.post(TIME_OFF_ADD, _time_off())
    assert response.status_code == 302
    assert TimeOff.objects.get(reason="Edge test").start.date() == date(2026, 12, 23)  # Kyiv midnight is 22:00 UTC
