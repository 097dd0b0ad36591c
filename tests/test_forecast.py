"""Call history per interval from RingCentral's call log, and the forecast built on it."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_celery_beat.models import PeriodicTask

from integrations.ringcentral.call_history import queue_calls
from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from integrations.ringcentral.schema import CallLogRecord
from queues.models import CallQueue
from scheduler.forecast.forecast import Past, forecast, interval_starts, staff
from scheduler.forecast.history import per_interval, refresh_call_volume
from scheduler.models import CallVolume
from scheduler.periodic import ensure_periodic_tasks
from scheduler.schedule.parse import DEMO_SCHEDULE
from tests.support.emulators import RingCentralProcess

NY = ZoneInfo("America/New_York")
SUPPORT = "1081167000"


def record(start: str, result: str = "Accepted", duration: int = 100) -> CallLogRecord:
    return CallLogRecord.from_api({"id": start, "startTime": start, "duration": duration, "result": result})


def test_calls_are_counted_in_their_interval():
    counts = per_interval(
        [record("2026-11-23T14:00:00.000Z"), record("2026-11-23T14:29:59.999Z", duration=200),
         record("2026-11-23T14:30:00.000Z", "Missed", 30), record("not a time")],
        30,
    )  # fmt: skip
    early, late = counts[datetime(2026, 11, 23, 14, tzinfo=UTC)], counts[datetime(2026, 11, 23, 14, 30, tzinfo=UTC)]
    assert (early.arrivals, early.handled, early.abandoned, early.handle_seconds) == (2, 2, 0, 300)
    assert (late.arrivals, late.handled, late.abandoned, late.handle_seconds) == (1, 0, 1, 0)
    assert len(counts) == 2  # the unreadable record is not placed anywhere


def weekly(start: datetime, arrivals_by_week: list[int], *, aht: int = 180) -> list[Past]:
    """The same local time on consecutive weeks, oldest first."""
    local = start.astimezone(NY)
    return [Past((local + timedelta(weeks=w)).astimezone(UTC), n, n, n * aht) for w, n in enumerate(arrivals_by_week)]


def expected_at(history, at, **kwargs):
    options = {"zone": NY, "minutes": 30, "target": 0.8, "answer_within": 20} | kwargs
    return forecast(history, starts=[at], **options)[0]


def test_the_latest_weeks_weigh_most():
    monday_nine = datetime(2026, 10, 5, 13, tzinfo=UTC)  # 09:00 in New York
    history = weekly(monday_nine, [10, 10, 20])
    at = (monday_nine.astimezone(NY) + timedelta(weeks=3)).astimezone(UTC)
    predicted = expected_at(history, at, weeks=3, decay=0.5)
    assert predicted.arrivals == pytest.approx((20 * 1 + 10 * 0.5 + 10 * 0.25) / 1.75)
    assert predicted.aht_seconds == 180
    assert (predicted.agents, predicted.service_level) == staff(predicted.arrivals * 2, 180, 0.8, 20)


def test_weeks_before_the_history_are_left_out_not_counted_as_silence():
    monday_nine = datetime(2026, 10, 5, 13, tzinfo=UTC)
    at = (monday_nine.astimezone(NY) + timedelta(weeks=1)).astimezone(UTC)
    assert expected_at(weekly(monday_nine, [12]), at, weeks=6).arrivals == 12


def test_a_week_without_calls_in_the_history_counts_as_none():
    monday_nine = datetime(2026, 10, 5, 13, tzinfo=UTC)
    other = Past(monday_nine + timedelta(hours=1), 5, 5, 900)  # history exists, but not at 09:00 in week 2
    history = [*weekly(monday_nine, [12]), other]
    at = (monday_nine.astimezone(NY) + timedelta(weeks=2)).astimezone(UTC)
    assert expected_at(history, at, weeks=2, decay=1.0).arrivals == 6  # (0 + 12) / 2


def test_weeks_are_counted_on_the_local_clock_across_dst():
    # 09:00 in New York is 13:00 UTC in October (EDT) and 14:00 UTC after 2026-11-01 (EST).
    before = datetime(2026, 10, 26, 13, tzinfo=UTC)
    after = datetime(2026, 11, 2, 14, tzinfo=UTC)
    predicted = expected_at([Past(before, 8, 8, 8 * 200)], after, weeks=1)
    assert (predicted.arrivals, predicted.aht_seconds) == (8, 200)
    assert expected_at([Past(before, 8, 8, 1600)], after + timedelta(hours=-1), weeks=1).arrivals == 0


def test_no_calls_need_no_agents():
    predicted = expected_at([], datetime(2026, 11, 2, 14, tzinfo=UTC))
    assert (predicted.arrivals, predicted.agents, predicted.service_level) == (0, 0, 1.0)
    assert len(interval_starts(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC), 30)) == 48


@pytest.fixture(scope="module")
def history_emulator():
    with RingCentralProcess(DEMO_SCHEDULE, "--history-weeks", "2", "--rate-window", "1") as running:
        yield running


def test_the_call_log_is_read_per_queue_into_intervals_then_only_whats_new(history_emulator, demo):
    rc = RingCentralClient(**history_emulator.client_kwargs(), store=InProcessStore())
    now = datetime.now(UTC)
    outcome = refresh_call_volume(rc, now=now, minutes=30)
    support = CallQueue.objects.get(provider_id=SUPPORT)
    stored = CallVolume.objects.filter(queue=support, minutes=30)
    logged = rc.read_call_log(extension_id=SUPPORT)
    assert sum(stored.values_list("arrivals", flat=True)) == len(logged) > 100
    assert sum(stored.values_list("handled", flat=True)) == sum(r.result == "Accepted" for r in logged)
    assert set(outcome) == set(CallQueue.objects.filter(shifts__isnull=False).values_list("provider_id", flat=True))
    last = stored.order_by("-start").first()
    history_emulator.clear_requests()
    refresh_call_volume(rc, now=now, minutes=30)
    reads = [r["path"] for r in history_emulator.requests() if SUPPORT in r["path"]]
    assert len(reads) == 1 and f"dateFrom={last.start:%Y-%m-%dT%H}%3A{last.start:%M}" in reads[0]
    assert "perPage=1000" in reads[0]  # RingCentral's largest page: the call log is Heavy
    assert sum(stored.values_list("arrivals", flat=True)) == len(logged)  # nothing counted twice


def test_beat_reads_the_call_history_nightly_after_the_calls_handled_count(db):
    ensure_periodic_tasks()
    entry = PeriodicTask.objects.get(task="scheduler.tasks.refresh_call_volume")
    assert (entry.crontab.hour, entry.crontab.minute) == ("2", "47")


def test_the_emulators_history_has_a_contact_centres_shape_and_repeats_itself():
    end = datetime(2026, 11, 23, 5, tzinfo=UTC)  # Monday 00:00 in New York
    calls = queue_calls([SUPPORT], end=end, weeks=2)
    assert calls == queue_calls([SUPPORT], end=end, weeks=2)  # the same seed, the same history
    local = [datetime.fromisoformat(c["startTime"].replace("Z", "+00:00")).astimezone(NY) for c in calls]
    weekday = sum(1 for t in local if t.weekday() == 0) / 2
    sunday = sum(1 for t in local if t.weekday() == 6) / 2
    assert weekday > 3 * sunday > 0
    assert all(7 <= t.hour <= 20 for t in local)  # nobody calls at night
    assert 0.02 < sum(c["result"] == "Missed" for c in calls) / len(calls) < 0.1


def test_the_forecast_command_staffs_the_next_day_from_the_stored_history(history_emulator, demo):
    rc = RingCentralClient(**history_emulator.client_kwargs(), store=InProcessStore())
    refresh_call_volume(rc, now=datetime.now(UTC), minutes=30)
    out = StringIO()
    call_command("forecast", "--queue", SUPPORT, "--json", stdout=out)
    rows = json.loads(out.getvalue())[SUPPORT]
    assert len(rows) == 48  # a day of 30-minute intervals
    busy = [r for r in rows if r["arrivals"] >= 1]
    assert busy and all(r["agents"] >= 1 and r["service_level"] >= 0.8 for r in busy)
    assert all(r["agents"] == 0 for r in rows if r["arrivals"] == 0)
    text = StringIO()
    call_command("forecast", "--queue", SUPPORT, stdout=text)
    assert "Support (1081167000), 80% in 20 s, 30-minute intervals in America/New_York" in text.getvalue()


def test_the_forecast_command_over_a_week_rests_on_the_read_weeks_not_on_unread_ones_as_silence(demo):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    for week in range(1, 7):  # 40 calls every Monday 09:00-09:30 in New York, three minutes each
        local = datetime(2026, 11, 30, 9, tzinfo=NY) - timedelta(weeks=week)
        CallVolume.objects.create(queue=support, minutes=30, start=local.astimezone(UTC), arrivals=40, handled=40,
                                  abandoned=0, handle_seconds=40 * 180)  # fmt: skip
    out = StringIO()
    call_command("forecast", "--queue", SUPPORT, "--from", "2026-11-30T05:00:00Z", "--days", "15", "--json", stdout=out)
    rows = {r["start"]: r for r in json.loads(out.getvalue())[SUPPORT]}
    mondays = [rows[(datetime(2026, 11, 30, 9, tzinfo=NY) + timedelta(weeks=w)).astimezone(UTC).isoformat()]
               for w in range(3)]  # fmt: skip
    # The second and third Mondays have no read weeks of their own past, only the ones before the 30th:
    # the same 40 calls, not a weighted mix with zeros.
    assert [m["arrivals"] for m in mondays] == [40, 40, 40]
    assert mondays[0]["agents"] == mondays[1]["agents"] == mondays[2]["agents"] > 0


@pytest.mark.parametrize(
    "args, message",
    [(["--days", "0"], "--days"), (["--timezone", "Mars/Base"], "--timezone"), (["--queue", "404"], "--queue")],
)
def test_the_forecast_command_names_a_bad_option(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("forecast", *args, stdout=StringIO())


def test_the_timeline_draws_need_beside_scheduled_and_reds_the_short_intervals(demo, client, bob):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    for week in range(1, 7):  # 40 calls every Monday 09:00-09:30 in New York, three minutes each
        local = datetime(2026, 11, 30, 9, tzinfo=NY) - timedelta(weeks=week)
        CallVolume.objects.create(queue=support, minutes=30, start=local.astimezone(UTC), arrivals=40, handled=40,
                                  abandoned=0, handle_seconds=40 * 180)  # fmt: skip
    page = client.get(
        f"/admin/scheduler/supervision/timeline/?queue={support.pk}&day=2026-11-30&days=1&tz=America/New_York"
    )
    text = page.content.decode()
    need = staff(80, 180, 0.8, 20)[0]
    assert f"need {need}, scheduled 2, service level " in text  # Support mornings: James and Maria
    assert "Mon 09:00–09:30" in text and 'class="bar short"' in text


def test_a_queue_without_history_has_no_need_lane(demo, client, bob):
    support = CallQueue.objects.get(provider_id=SUPPORT)
    text = client.get(
        f"/admin/scheduler/supervision/timeline/?queue={support.pk}&day=2026-11-30&days=1"
    ).content.decode()
    assert "<title>Taking calls</title>" not in text and "bar need" not in text
