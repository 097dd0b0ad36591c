"""Side by side per queue and interval: agents needed, scheduled and taking calls, and the projected service level."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from integrations.ringcentral.call_history import queue_calls
from queues.heard import queue_presence_heard
from queues.models import ActualChange, ActualSource, Agent, AuditEntry, AuditField, CallQueue, QueueMembership
from scheduler.forecast.erlang import service_level, traffic
from scheduler.forecast.forecast import Expected, Past, forecast, staff
from scheduler.forecast.side_by_side import (
    LevelChange,
    fall_in_words,
    level_falls,
    service_level_change,
    side_by_side,
)
from scheduler.models import CallVolume
from scheduler.receptionist.selectors import projected_if_stopped
from scheduler.supervisor.need import need_shortfalls, projected_service_level_change, taking_calls_counts
from tests.test_receptionist_views import emulator, james, rc, tuesday_morning  # noqa: F401 - fixtures

NY = ZoneInfo("America/New_York")
SUPPORT, JAMES, MARIA = "1081167000", "111111111", "222222222"
MONDAY_0900 = datetime(2026, 11, 30, 14, tzinfo=UTC)  # 09:00 in New York: Support mornings has James and Maria


def expected(start: datetime, arrivals: float, aht: float = 180.0) -> Expected:
    agents, level = staff(arrivals * 2, aht, 0.8, 20)
    return Expected(start, arrivals, aht, agents, level)


def lay_out(rows, scheduled=None, floor=lambda at: 0):
    return side_by_side(rows, minutes=30, answer_within=20, scheduled=scheduled or {}, taking_calls={}, floor=floor)


def test_needed_is_the_forecast_with_min_staff_as_a_floor_while_open():
    quiet, busy = MONDAY_0900, MONDAY_0900 + timedelta(minutes=30)
    rows = lay_out([expected(quiet, 1), expected(busy, 40)], floor=lambda at: 2 if at == quiet else 0)
    need = staff(80, 180, 0.8, 20)[0]  # 4 Erlangs
    assert [(i.forecast_need, i.min_staff, i.needed) for i in rows] == [(1, 2, 2), (need, 0, need)]


def test_an_interval_short_of_need_carries_the_service_level_its_scheduled_agents_give():
    (row,) = lay_out([expected(MONDAY_0900, 40)], scheduled={MONDAY_0900: 5})
    assert row.short and row.needed == 7 and row.scheduled == 5
    assert row.service_level == pytest.approx(service_level(5, traffic(80, 180), 180, 20))
    assert row.as_json()["short"] is True and row.as_json()["taking_calls"] is None
    (met,) = lay_out([expected(MONDAY_0900, 40)], scheduled={MONDAY_0900: 7})
    assert not met.short and met.service_level >= 0.8


def test_an_interval_without_calls_has_no_service_level_to_project():
    (row,) = lay_out([expected(MONDAY_0900, 0)], floor=lambda at: 1)
    assert row.service_level is None and row.short  # min staff still applies while open


def test_one_scheduled_agent_fewer_lowers_each_intervals_projected_level():
    rows = lay_out([expected(MONDAY_0900, 40)], scheduled={MONDAY_0900: 6})
    (change,) = service_level_change(rows, scheduled_delta=-1, minutes=30, answer_within=20)
    assert (change.scheduled_before, change.scheduled_after) == (6, 5)
    assert change.before == pytest.approx(service_level(6, 4.0, 180, 20))
    assert change.after == pytest.approx(service_level(5, 4.0, 180, 20))
    assert change.after < change.before
    assert level_falls([change]) == [change]
    (floor,) = service_level_change(rows, scheduled_delta=-10, minutes=30, answer_within=20)
    assert floor.scheduled_after == 0 and floor.after == 0.0


def test_a_fall_in_service_level_reads_in_words_in_her_zone():
    change = LevelChange(datetime(2026, 11, 30, 17, tzinfo=UTC), datetime(2026, 11, 30, 17, 30, tzinfo=UTC),
                         2, 1, 0.844, 0.612)  # fmt: skip
    assert fall_in_words("Support", change, NY) == "Support's projected service level 12:00–12:30 falls from 84% to 61%"


def busy_mondays(queue: CallQueue, *, arrivals: int = 10, aht: int = 180, local_time: tuple[int, int] = (9, 0)) -> None:
    """The same number of calls at this local time on each of the six Mondays before 2026-11-30."""
    for week in range(1, 7):
        local = datetime(2026, 11, 30, *local_time, tzinfo=NY) - timedelta(weeks=week)
        CallVolume.objects.create(queue=queue, minutes=30, start=local.astimezone(UTC), arrivals=arrivals,
                                  handled=arrivals, abandoned=0, handle_seconds=arrivals * aht)  # fmt: skip


def test_projected_service_level_change_reads_the_queues_forecast_and_plan(demo):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    busy_mondays(support)  # 20 calls an hour of 3 minutes: one Erlang
    (change,) = projected_service_level_change(
        queue=support, start=MONDAY_0900, end=MONDAY_0900 + timedelta(minutes=30), scheduled_delta=-1
    )
    assert (change.start, change.end) == (MONDAY_0900, MONDAY_0900 + timedelta(minutes=30))
    assert (change.scheduled_before, change.scheduled_after) == (2, 1)  # James and Maria, then one of them
    assert change.before == pytest.approx(service_level(2, 1.0, 180, 20))
    assert change.after == 0.0  # one agent cannot keep up with one Erlang


def test_projected_service_level_change_is_empty_without_call_history(demo):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    end = MONDAY_0900 + timedelta(hours=1)
    assert projected_service_level_change(queue=support, start=MONDAY_0900, end=end, scheduled_delta=-1) == []


def test_the_receptionist_reads_which_intervals_fall_if_she_stops(demo):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    busy_mondays(support)
    busy_mondays(support, local_time=(9, 30))
    lines = projected_if_stopped(support, at=MONDAY_0900 + timedelta(minutes=10), until=None, zone=NY)
    before = service_level(2, 1.0, 180, 20)
    assert lines == [
        f"Support's projected service level 09:00–09:30 falls from {before:.0%} to 0%",
        f"Support's projected service level 09:30–10:00 falls from {before:.0%} to 0%",
    ]  # the later intervals expect no calls: nothing falls


def test_a_change_heard_from_the_phone_counts_in_the_past_interval(demo):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    jim, maria = Agent.objects.get(provider_id=JAMES), Agent.objects.get(provider_id=MARIA)
    nine = datetime(2026, 11, 24, 14, tzinfo=UTC)
    for agent in (jim, maria):
        QueueMembership.objects.create(queue=support, agent=agent, accepting=False)
    ActualChange.objects.bulk_create(
        ActualChange(queue=support, agent=a, field=AuditField.QUEUE_CALLS, value="false", at=nine - timedelta(days=1),
                     source=ActualSource.READ)
        for a in (jim, maria)
    )  # fmt: skip
    # Maria turns her queue switch on at the phone at 09:05; Callrota never wrote it, it only heard it.
    queue_presence_heard(support.provider, SUPPORT, {MARIA: True}, at=nine + timedelta(minutes=5))
    assert not AuditEntry.objects.filter(agent=maria).exists()
    starts = [nine - timedelta(minutes=30), nine, nine + timedelta(minutes=30), nine + timedelta(hours=2)]
    counts = taking_calls_counts(support, starts, minutes=30, now=nine + timedelta(hours=1))
    assert counts == {starts[0]: 0, nine: 1, starts[2]: 1}  # 25 of 30 minutes rounds to one agent; none after now


def test_taking_calls_needs_dnd_to_let_queue_calls_through_and_averages_the_interval(demo):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    jim, maria = Agent.objects.get(provider_id=JAMES), Agent.objects.get(provider_id=MARIA)
    nine = datetime(2026, 11, 24, 14, tzinfo=UTC)
    for agent in (jim, maria):
        QueueMembership.objects.create(queue=support, agent=agent, accepting=True)
    before = nine - timedelta(days=1)
    ActualChange.objects.bulk_create(
        [ActualChange(queue=support, agent=a, field=AuditField.QUEUE_CALLS, value="true", at=before,
                      source=ActualSource.READ) for a in (jim, maria)]
        + [ActualChange(agent=jim, field=AuditField.DND, value="DoNotAcceptDepartmentCalls", at=before,
                        source=ActualSource.READ),
           ActualChange(agent=jim, field=AuditField.DND, value="TakeAllCalls", at=nine + timedelta(minutes=20),
                        source=ActualSource.HEARD),
           ActualChange(agent=maria, field=AuditField.DND, value="DoNotAcceptAnyCalls", at=nine + timedelta(minutes=40),
                        source=ActualSource.HEARD)]
    )  # fmt: skip
    starts = [nine, nine + timedelta(minutes=30)]
    counts = taking_calls_counts(support, starts, minutes=30, now=nine + timedelta(hours=2))
    # 09:00: Maria all 30 minutes, James 10 (his DnD let queue calls in at 09:20): 40/30 rounds to 1.
    # 09:30: James all 30, Maria 10 (DnD at 09:40): 1.33 rounds to 1.
    assert counts == {nine: 1, starts[1]: 1}
    assert taking_calls_counts(support, starts, minutes=30, now=nine + timedelta(minutes=10)) == {nine: 1}


def test_the_coverage_command_adds_shortfalls_against_need_after_min_staff(demo):
    busy_mondays(CallQueue.objects.get(provider_id=SUPPORT), arrivals=40)
    window = ["--from", "2026-11-30T14:00:00Z", "--to", "2026-11-30T15:00:00Z"]
    out = StringIO()
    call_command("coverage", *window, "--json", stdout=out)
    (row,) = [r for r in json.loads(out.getvalue()) if r.get("kind") == "need"]
    need = staff(80, 180, 0.8, 20)[0]
    assert (row["name"], row["staffed"], row["needed"], row["forecast_need"], row["min_staff"]) == (
        "Support", 2, need, need, 2)  # fmt: skip
    assert (row["start"], row["end"]) == ("2026-11-30T14:00:00+00:00", "2026-11-30T14:30:00+00:00")
    assert row["missing"] == need - 2 and row["service_level"] == 0.0
    text = StringIO()
    call_command("coverage", *window, stdout=text)
    assert f"Support ({SUPPORT}): 2 of {need} needed scheduled (forecast {need}, min staff 2)" in text.getvalue()
    assert text.getvalue().rstrip().endswith("1 interval(s) short of need")


def test_the_coverage_page_lists_shortfalls_against_need(demo, client, bob):
    busy_mondays(CallQueue.objects.get(provider_id=SUPPORT), arrivals=40)
    page = client.get("/admin/scheduler/supervision/coverage/?day=2026-11-30&days=1&tz=America/New_York")
    text = page.content.decode()
    assert "Short of need (forecast)" in text and "Mon 2026-11-30 09:00" in text


def test_the_timeline_draws_needed_scheduled_and_taking_calls_with_short_intervals_in_words(demo, client, bob):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    busy_mondays(support, arrivals=40)
    page = client.get(
        f"/admin/scheduler/supervision/timeline/?queue={support.pk}&day=2026-11-30&days=1&tz=America/New_York"
    )
    text = page.content.decode()
    need = staff(80, 180, 0.8, 20)[0]
    assert "Needed (80% in 20 s)" in text and "Scheduled" in text and "Taking calls" in text
    assert f"<li>need {need}, scheduled 2, service level 0% (Mon 09:00–09:30)</li>" in text  # in words, not colour
    assert 'class="bar short"' in text and "short of need" in text


def tuesdays(queue: CallQueue, local_times, *, arrivals: int = 10, aht: int = 180) -> None:
    """The same calls at these local times on each of the six Tuesdays before 2026-11-24."""
    for week in range(1, 7):
        for hour, minute in local_times:
            local = datetime(2026, 11, 24, hour, minute, tzinfo=NY) - timedelta(weeks=week)
            CallVolume.objects.create(queue=queue, minutes=30, start=local.astimezone(UTC), arrivals=arrivals,
                                      handled=arrivals, abandoned=0, handle_seconds=arrivals * aht)  # fmt: skip


def test_her_page_shows_the_projected_service_level_before_she_stops_or_steps_away(tuesday_morning, james):  # noqa: F811
    tuesdays(CallQueue.objects.get(provider_id=SUPPORT), [(9, 30), (10, 0)])
    page = james.get("/").content.decode()
    before = f"{service_level(2, 1.0, 180, 20):.0%}"
    line = f"Support&#x27;s projected service level 09:30–10:00 falls from {before} to 0%"
    assert 'id="sl-1081167000"' in page and 'id="sl-away"' in page
    assert page.count(line) == 2  # beside "Stop taking Support calls" and beside "Step away"
    assert "10:00–10:30 falls" in page


def test_setup_demo_stores_the_call_history_the_demo_emulator_serves(db):
    with time_machine.travel(datetime(2026, 11, 26, 7, 40, tzinfo=UTC), tick=False):
        call_command("setup_demo", stdout=StringIO())
    support = CallQueue.objects.get(provider_id=SUPPORT)
    served = queue_calls([SUPPORT], end=datetime(2026, 11, 26, 7, tzinfo=UTC), weeks=8)
    stored = CallVolume.objects.filter(queue=support, minutes=30)
    assert sum(stored.values_list("arrivals", flat=True)) == len(served) > 1000
    assert CallVolume.objects.values("queue").distinct().count() == 4  # every demo queue has shifts


def test_a_start_weeks_ahead_rests_on_the_known_weeks_not_on_silence():
    history = [Past((datetime(2026, 11, 30, 9, tzinfo=NY) - timedelta(weeks=w)).astimezone(UTC), 20, 20, 3600)
               for w in range(1, 7)]  # fmt: skip
    three_weeks_ahead = (datetime(2026, 11, 30, 9, tzinfo=NY) + timedelta(weeks=2)).astimezone(UTC)
    options = {"starts": [three_weeks_ahead], "zone": NY, "minutes": 30, "target": 0.8, "answer_within": 20}
    (known,) = forecast(history, **options, known_until=MONDAY_0900)
    assert known.arrivals == pytest.approx(20)
    (silent,) = forecast(history, **options)  # without it, the two unread weeks count as no calls
    assert silent.arrivals < 20


def test_short_neighbours_with_the_same_figures_are_one_shortfall_at_their_lowest_level():
    starts = [MONDAY_0900 + timedelta(minutes=30 * n) for n in range(4)]
    rows = lay_out([expected(starts[0], 40), expected(starts[1], 45), expected(starts[2], 1), expected(starts[3], 40)],
                   scheduled=dict.fromkeys(starts, 5))  # fmt: skip
    found = need_shortfalls(SUPPORT, rows)
    assert [(s.start, s.end, s.needed) for s in found] == [
        (starts[0], starts[2], 7),  # 40 and 45 calls both need 7: one run, at the busier one's level
        (starts[3], starts[3] + timedelta(minutes=30), 7),  # the quiet interval between is not short
    ]
    assert found[0].service_level == rows[1].service_level < rows[0].service_level
