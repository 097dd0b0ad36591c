"""Calls handled are counted by a background task from RingCentral's call log and stored;
the adherence page reads the stored figures only and never calls RingCentral itself."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask

from scheduler.celery import app
from scheduler.models import CallsHandled
from scheduler.periodic import ensure_periodic_tasks
from scheduler.tasks import refresh_calls_handled
from tests.support.emulators import RingostatProcess
from tests.support.personas import map_to_ringostat

MONDAY, TUESDAY = date(2026, 11, 23), date(2026, 11, 24)
JAMES, MARIA, OLENA = "111111111", "222222222", "333333333"
PAGE = "/admin/integrations/provideridentity/adherence/?day=2026-11-23&days=2&calls=1"
REFRESH = "/admin/integrations/provideridentity/adherence/refresh-calls/?day=2026-11-23&days=2"
CALLS = [
    {"id": "a", "startTime": "2026-11-24T14:00:00Z", "result": "Accepted", "extension": {"id": 111111111}},
    {"id": "b", "startTime": "2026-11-24T15:00:00Z", "result": "Missed", "extension": {"id": 111111111}},
    {"id": "c", "startTime": "2026-11-23T14:00:00Z", "result": "Accepted", "extension": {"id": 222222222}},
]


@pytest.fixture(scope="module")
def ringostat():
    with RingostatProcess() as running:
        yield running


@pytest.fixture
def rc(demo_emulator, ringostat, point_app_at, settings):
    """RingCentral with three calls in its log, Ringostat's demo week, and the agents mapped to its employees."""
    map_to_ringostat(ringostat, settings)
    demo_emulator.add_call_log(CALLS)
    point_app_at(demo_emulator)
    demo_emulator.clear_requests()
    return demo_emulator


def stored() -> dict[tuple[str, date], int]:
    return {(c.agent.provider_id, c.day): c.calls for c in CallsHandled.objects.select_related("agent")}


def calls_cells(page: str) -> list[str]:
    return [cell.split("</td>")[0] for cell in page.split('<td class="calls">')[1:]]


def test_the_page_with_calls_makes_no_ringcentral_call(rc, client, bob):
    page = client.get(PAGE)
    assert page.status_code == 200
    assert rc.requests() == []
    assert page.content.decode().count("not computed yet") == 3 * 2


def test_the_task_stores_calls_handled_per_agent_and_day_from_the_call_log(rc):
    result = refresh_calls_handled(MONDAY.isoformat(), TUESDAY.isoformat())
    assert result == {"stored": 3 * 2, "failed": []}
    assert stored() == {
        (JAMES, MONDAY): 0,
        (JAMES, TUESDAY): 1,
        (MARIA, MONDAY): 1,
        (MARIA, TUESDAY): 0,
        (OLENA, MONDAY): 0,
        (OLENA, TUESDAY): 0,
    }
    logs = [r["path"].split("?")[0] for r in rc.requests() if "/call-log" in r["path"]]
    assert [path.rsplit("/", 2)[-2] for path in logs] == [JAMES, MARIA, OLENA]  # one read per agent


def test_the_page_shows_the_stored_figures_and_when_they_were_counted(rc, client, bob):
    with time_machine.travel(datetime(2026, 11, 25, 7, 17, tzinfo=UTC), tick=False):
        refresh_calls_handled(MONDAY.isoformat(), TUESDAY.isoformat())
    rc.clear_requests()
    page = client.get(PAGE).content.decode()
    assert rc.requests() == []
    assert calls_cells(page) == ["0", "1", "1", "0", "0", "0"]  # James Mon, Tue; Maria Mon, Tue; Olena Mon, Tue
    # In the viewer's zone: bob has none of his own, so the one most demo shifts use.
    assert "2026-11-25 02:17 EST" in page and "not computed yet" not in page


def test_a_second_count_replaces_the_figures(rc):
    refresh_calls_handled(MONDAY.isoformat(), TUESDAY.isoformat())
    rc.add_call_log(
        [{"id": "d", "startTime": "2026-11-24T16:00:00Z", "result": "Accepted", "extension": {"id": 111111111}}]
    )
    refresh_calls_handled(MONDAY.isoformat(), TUESDAY.isoformat())
    assert stored()[JAMES, TUESDAY] == 2
    assert CallsHandled.objects.count() == 3 * 2


def test_a_failed_read_keeps_the_old_figures_and_says_which_agents_failed(rc):
    refresh_calls_handled(MONDAY.isoformat(), TUESDAY.isoformat())
    before = dict(CallsHandled.objects.values_list("pk", "computed_at"))
    rc.configure(fail_rate=1.0)
    result = refresh_calls_handled(MONDAY.isoformat(), TUESDAY.isoformat())
    assert result == {"stored": 0, "failed": [JAMES, MARIA, OLENA]}
    assert dict(CallsHandled.objects.values_list("pk", "computed_at")) == before


@pytest.fixture
def eager_celery():
    """Tasks run in the caller, as a worker would run them, so the test sees what the worker would store."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_refresh_now_enqueues_the_count_for_the_pages_days(
    rc, client, bob, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(REFRESH)
    assert answer.status_code == 302 and answer["Location"].endswith("?day=2026-11-23&days=2&calls=1")
    assert stored()[JAMES, TUESDAY] == 1 and len(stored()) == 3 * 2


def test_refresh_now_is_a_post_for_those_who_may_see_the_page(rc, client, carol):
    assert client.get(REFRESH).status_code == 405
    assert client.post(REFRESH).status_code == 403
    assert not CallsHandled.objects.exists()


def test_the_nightly_count_covers_the_last_eight_days(rc):
    with time_machine.travel(datetime(2026, 11, 25, 7, 17, tzinfo=UTC), tick=False):
        refresh_calls_handled()
    days = sorted({day for _, day in stored()})
    assert (days[0], days[-1], len(days)) == (date(2026, 11, 18), date(2026, 11, 25), 8)


def test_beat_runs_the_count_nightly(db):
    ensure_periodic_tasks()
    entry = PeriodicTask.objects.get(task="scheduler.tasks.refresh_calls_handled")
    assert (entry.crontab.minute, entry.crontab.hour) == ("17", "2")
    assert ensure_periodic_tasks() == 0  # idempotent
    every_minute = PeriodicTask.objects.get(name="reconcile: rolling sweep").crontab
    assert (every_minute.minute, every_minute.hour) == ("*", "*")
