"""The schedule commands print the documented shapes."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from queues.models import Agent
from scheduler.schedule.parse import DEMO_SCHEDULE


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def demo(db):
    run("import_schedule", str(DEMO_SCHEDULE))


def test_plan_json_has_the_documented_shape(demo):
    plan = json.loads(run("plan", "--at", "2026-11-24T13:00:00Z", "--json"))
    assert plan["at"] == "2026-11-24T13:00:00+00:00"
    assert plan["queues"]["1081167000"] == {"111111111": True, "222222222": True, "333333333": False}
    assert plan["dnd"] == {"111111111": "TakeAllCalls", "222222222": "TakeAllCalls"}


def test_plan_table_names_queues_and_agents(demo):
    table = run("plan", "--at", "2026-11-24T18:00:00Z")
    assert "Support (1081167000)" in table
    assert "ON   Maria Lopez (222222222)" in table
    assert "off  James Smith (111111111)" in table


def test_time_off_in_the_demo_turns_maria_off(demo):
    plan = json.loads(run("plan", "--at", "2026-12-24T14:00:00Z", "--json"))
    assert plan["queues"]["1081167000"]["222222222"] is False
    assert plan["dnd"]["222222222"] == "DoNotAcceptDepartmentCalls"


def test_boundaries_list_utc_and_local_times(demo):
    text = run("boundaries", "--from", "2026-11-24T00:00:00Z", "--to", "2026-11-25T00:00:00Z")
    assert "2026-11-24T13:00:00+00:00" in text
    assert "shift start     Support mornings  at 2026-11-24 08:00 EST (America/New_York)" in text
    assert "shift end       Support night (Kyiv)  at 2026-11-24 06:00 EET (Europe/Kyiv)" in text
    found = json.loads(run("boundaries", "--from", "2026-11-24T00:00:00Z", "--to", "2026-11-25T00:00:00Z", "--json"))
    assert [b["at"] for b in found][:2] == ["2026-11-24T01:00:00+00:00", "2026-11-24T04:00:00+00:00"]


def test_boundaries_refuse_an_empty_window(demo):
    with pytest.raises(CommandError, match="--to must be after --from"):
        run("boundaries", "--from", "2026-11-25T00:00:00Z", "--to", "2026-11-24T00:00:00Z")


@pytest.mark.parametrize("command", ["boundaries", "coverage"])
def test_the_window_defaults_to_the_week_from_now(demo, command, time_machine):
    time_machine.move_to("2026-11-24T00:00:00Z", tick=False)
    week = run(command, "--json")
    assert json.loads(week)  # the demo has boundaries and gaps every week
    assert week == run(command, "--from", "2026-11-24T00:00:00Z", "--to", "2026-12-01T00:00:00Z", "--json")
    assert run(command, "--from", "2026-11-25T00:00:00Z", "--json") == run(
        command, "--from", "2026-11-25T00:00:00Z", "--to", "2026-12-02T00:00:00Z", "--json"
    )


def test_a_default_week_past_the_end_of_time_asks_for_to(demo):
    with pytest.raises(CommandError, match="give --to"):
        run("coverage", "--from", "9999-12-30T00:00:00Z")


def test_a_bad_instant_is_a_usage_error_not_a_traceback(demo):
    with pytest.raises(CommandError, match="is not an ISO 8601 time"):
        run("plan", "--at", "tomorrow")


def test_export_writes_what_import_reads(demo, tmp_path):
    path = tmp_path / "out.yaml"
    run("export_schedule", "-o", str(path))
    assert "shifts: 0 created, 0 updated, 7 unchanged" in run("import_schedule", str(path))


def test_setup_demo_prints_a_login_that_works(db, client):
    out = run("setup_demo")
    password = out.rsplit("password ", 1)[1].strip()
    response = client.post("/admin/login/?next=/admin/", {"username": "supervisor", "password": password})
    assert response.status_code == 302
    assert client.get("/admin/scheduler/shift/").status_code == 200


def test_setup_demo_links_a_demo_receptionist_to_james(db, client):
    out = run("setup_demo")
    password = out.rsplit("password ", 1)[1].strip()
    assert f"user james  password {password}" in out
    response = client.post("/accounts/login/", {"username": "james", "password": password})
    assert response.status_code == 302
    assert Agent.objects.get(provider_id="111111111").user.get_username() == "james"
