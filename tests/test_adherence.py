"""The adherence table for the demo week, checked against values computed by hand.

Schedule (America/New_York, scheduler/demo/schedule.yaml), Mon-Fri:
  James 08-12 mornings + 09-17 front desk = 08:00-17:00 once = 540 min
  Maria 08-12 mornings + 12-20 evenings = 720 min
  Olena 12-16 demo queue + 22:00-06:00 Kyiv (15:00-23:00 New York) = 12:00-23:00 = 660 min
Ringostat (integrations/ringostat/demo_seed.yaml):
  James Mon: desk 08-12 + mobile 11-17 online = 08-17 = 540 (overlap counted once)
  James Tue: desk online 08-10 and speaking 10-10:30; mobile DnD 09-13 loses to both = 150
  Maria Mon 08-20 = 720; Tue online 08-14 = 360 (offline 14-20 does not count)
  Olena Mon 12-23 = 660; Tue 12-18 online + 18-19 speaking = 420;
        Wed 22:00 - Thu 01:00 online = 120 on Wed, 60 on Thu
"""

import json
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from integrations.models import ProviderIdentity
from integrations.ringostat.client import RingostatClient
from queues.models import Agent
from scheduler.models import TimeOff
from scheduler.reports.adherence import adherence_report
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from tests.support.emulators import RingostatProcess
from tests.support.personas import map_to_ringostat

MONDAY, SUNDAY = date(2026, 11, 23), date(2026, 11, 29)
JAMES, MARIA, OLENA = "111111111", "222222222", "333333333"

# agent -> (scheduled, online) per day Mon..Sun
EXPECTED = {
    JAMES: [(540, 540), (540, 150), (540, 0), (540, 0), (540, 0), (0, 0), (0, 0)],
    MARIA: [(720, 720), (720, 360), (720, 0), (720, 0), (720, 0), (0, 0), (0, 0)],
    OLENA: [(660, 660), (660, 420), (660, 120), (660, 60), (660, 0), (0, 0), (0, 0)],
}
EXPECTED_PERCENT = {
    JAMES: [100.0, 27.8, 0.0, 0.0, 0.0, None, None],
    MARIA: [100.0, 50.0, 0.0, 0.0, 0.0, None, None],
    OLENA: [100.0, 63.6, 18.2, 9.1, 0.0, None, None],
}


@pytest.fixture(scope="module")
def ringostat():
    with RingostatProcess() as running:
        yield running


@pytest.fixture
def demo(db, ringostat, settings):
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    map_to_ringostat(ringostat, settings)


def table(report):
    result = {}
    for row in report.rows:
        result.setdefault(row.agent_id, []).append((row.scheduled_minutes, row.online_minutes))
    return result


def test_the_demo_week_matches_the_hand_computed_table(demo):
    report = adherence_report(first=MONDAY, last=SUNDAY)
    assert table(report) == EXPECTED
    percents = {}
    for row in report.rows:
        percents.setdefault(row.agent_id, []).append(row.adherence)
    assert percents == EXPECTED_PERCENT
    assert [r.day for r in report.rows if r.agent_id == JAMES] == [MONDAY + timedelta(days=n) for n in range(7)]


def test_employees_without_a_mapping_are_listed_not_guessed(demo):
    report = adherence_report(first=MONDAY, last=MONDAY)
    assert report.unmatched_employees == ["Reception tablet"]
    ProviderIdentity.objects.filter(external_id="Maria Lopez").delete()
    report = adherence_report(first=MONDAY, last=MONDAY)
    assert report.unmatched_employees == ["Maria Lopez", "Reception tablet"]
    assert MARIA not in {r.agent_id for r in report.rows}


def test_time_off_is_not_scheduled(demo):
    from datetime import UTC, datetime

    maria = Agent.objects.get(provider_id=MARIA)
    # Tue 14:00-20:00 New York off: 360 scheduled, 360 online -> 100%.
    TimeOff.objects.create(
        agent=maria, start=datetime(2026, 11, 24, 19, tzinfo=UTC), end=datetime(2026, 11, 25, 1, tzinfo=UTC)
    )
    (row,) = [r for r in adherence_report(first=MONDAY, last=SUNDAY).rows if r.agent_id == MARIA][1:2]
    assert (row.scheduled_minutes, row.online_minutes, row.adherence) == (360, 360, 100.0)


def test_the_command_prints_the_table_and_json(demo):
    out = StringIO()
    call_command("adherence", "--from", "2026-11-23", "--to", "2026-11-24", stdout=out)
    text = out.getvalue()
    assert "James Smith" in text and "27.8%" in text and "Reception tablet" in text
    out = StringIO()
    call_command("adherence", "--from", "2026-11-23", "--to", "2026-11-24", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["unmatched_employees"] == ["Reception tablet"]
    assert {"agent": "Olena Kovalenko", "day": "2026-11-24", "adherence": 63.6}.items() <= data["rows"][-1].items()


def test_the_command_refuses_a_backwards_range(demo):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--to .* before --from"):
        call_command("adherence", "--from", "2026-11-24", "--to", "2026-11-23")


def test_a_client_can_be_passed_in(demo, ringostat):
    client = RingostatClient(ringostat.rpc_url, "emulator-ringostat-key")
    assert len(adherence_report(first=MONDAY, last=MONDAY, client=client).rows) == 3


def test_calls_handled_are_shown_beside_adherence(demo, point_app_at):
    from tests.support.emulators import RingCentralProcess

    with RingCentralProcess(DEMO_SCHEDULE, "--rate-limits", "off") as rc:
        rc.add_call_log(
            [
                {"id": "a", "startTime": "2026-11-24T14:00:00Z", "result": "Accepted", "extension": {"id": 111111111}},
                {"id": "b", "startTime": "2026-11-24T15:00:00Z", "result": "Missed", "extension": {"id": 111111111}},
                {"id": "c", "startTime": "2026-11-23T14:00:00Z", "result": "Accepted", "extension": {"id": 222222222}},
            ]
        )
        point_app_at(rc)
        out = StringIO()
        call_command("adherence", "--from", "2026-11-23", "--to", "2026-11-24", "--calls", "--json", stdout=out)
    calls = {(r["agent_id"], r["day"]): r["calls_handled"] for r in json.loads(out.getvalue())["rows"]}
    assert calls == {
        (JAMES, "2026-11-23"): 0,
        (JAMES, "2026-11-24"): 1,
        (MARIA, "2026-11-23"): 1,
        (MARIA, "2026-11-24"): 0,
        (OLENA, "2026-11-23"): 0,
        (OLENA, "2026-11-24"): 0,
    }


@pytest.fixture
def supervisor(demo, client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-not-used"))
    return client


def test_the_admin_page_shows_the_table_and_the_unmatched(supervisor):
    response = supervisor.get("/admin/integrations/provideridentity/adherence/?day=2026-11-23&days=7")
    page = response.content.decode()
    assert response.status_code == 200
    assert "27.8%" in page and "63.6%" in page and "Reception tablet" in page
    assert "manage.py adherence --from 2026-11-23 --to 2026-11-29" in page
    start = page.index('<table id="adherence">')
    table = page[start : page.index("</table>", start)]
    assert table.count("<tr>") == 1 + 3 * 7


def test_the_admin_page_explains_bad_input_and_shows_a_default(supervisor):
    response = supervisor.get("/admin/integrations/provideridentity/adherence/?day=soon&days=99")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Day: &#x27;soon&#x27; is not a date; use YYYY-MM-DD" in page
    assert "Days: &#x27;99&#x27; must be a whole number from 1 to 31" in page


def test_the_admin_page_reports_a_provider_failure(supervisor, settings):
    settings.RINGOSTAT_AUTH_KEY = "wrong"
    page = supervisor.get("/admin/integrations/provideridentity/adherence/?day=2026-11-23").content.decode()
    assert (
        "Could not read the providers" in page and "Auth-key" in page and "wrong" not in page.split("Auth-key")[0][-50:]
    )


def test_the_mappings_page_links_to_the_report(supervisor):
    page = supervisor.get("/admin/integrations/provideridentity/").content.decode()
    assert "/admin/integrations/provideridentity/adherence/" in page
