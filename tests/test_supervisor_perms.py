"""What the README promises the Supervisor group, as bob (staff, in the group, not a superuser)."""

import pytest
from django.contrib.auth import get_user_model

from tests.support.emulators import RingostatProcess
from tests.support.personas import link_receptionist

LOGIN_LOOKUP = "/admin/autocomplete/?app_label=queues&model_name=agent&field_name=user&term=jam"


@pytest.fixture
def ringostat(settings):
    with RingostatProcess() as running:
        settings.RINGOSTAT_API_URL, settings.RINGOSTAT_AUTH_KEY = running.rpc_url, "emulator-ringostat-key"
        yield running


def test_a_supervisor_finds_a_login_to_link_to_an_agent(bob, client):
    link_receptionist("111111111", "james")
    answer = client.get(LOGIN_LOOKUP)
    assert answer.status_code == 200
    assert [r["text"] for r in answer.json()["results"]] == ["james"]


def test_a_supervisor_sees_logins_but_cannot_change_them(bob, client):
    james = link_receptionist("111111111", "james")
    url = f"/admin/auth/user/{james.pk}/change/"
    assert client.post(url, {"username": "renamed"}).status_code == 403
    assert get_user_model().objects.get(pk=james.pk).username == "james"


def test_a_supervisor_opens_the_adherence_page(bob, client, ringostat):
    answer = client.get("/admin/integrations/provideridentity/adherence/?day=2026-11-23&days=1")
    assert answer.status_code == 200
    assert '<table id="adherence">' in answer.content.decode()


def test_a_supervisor_lists_calendar_links(bob, client):
    assert client.get("/admin/scheduler/feedtoken/").status_code == 200


def test_staff_without_the_group_get_none_of_it(carol, client):
    assert client.get(LOGIN_LOOKUP).status_code == 403
    assert client.get("/admin/integrations/provideridentity/adherence/").status_code == 403
    assert client.get("/admin/scheduler/feedtoken/").status_code == 403
