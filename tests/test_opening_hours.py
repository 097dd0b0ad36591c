"""Opening hours: is a queue open at t, and its open intervals in [start, end), on DST days, overnight, on holidays."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from integrations.base import WeeklyRange
from queues.models import CallQueue
from queues.opening_hours import ALL_WEEK, OpeningHours
from scheduler.schedule.exporter import dump_schedule, export_document
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import ScheduleFormatError, parse_schedule

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = range(5)


def hours(*ranges, closed=(), tz=NEW_YORK):
    return OpeningHours(tuple(WeeklyRange(*r) for r in ranges), tz, frozenset(closed))


def weekdays(opens, closes, days=WEEKDAYS):
    return [(d, opens, closes) for d in days]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def ny(*args):
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)


@pytest.mark.parametrize(
    ("ranges", "at", "is_open"),
    [
        (weekdays(time(8), time(20)), ny(2026, 11, 24, 8, 0), True),  # Tue 08:00 opens
        (weekdays(time(8), time(20)), ny(2026, 11, 24, 7, 59), False),
        (weekdays(time(8), time(20)), ny(2026, 11, 24, 20, 0), False),  # closing time is not open
        (weekdays(time(8), time(20)), ny(2026, 11, 29, 10, 0), False),  # Sunday
        (weekdays(time(22), time(6)), ny(2026, 11, 25, 4, 0), True),  # Wed 04:00, opened Tue 22:00
        (weekdays(time(22), time(6)), ny(2026, 11, 28, 4, 0), True),  # Sat 04:00, opened Fri 22:00
        (weekdays(time(22), time(6)), ny(2026, 11, 29, 4, 0), False),  # Sun 04:00: Saturday does not open
        ([(0, time(8), time(12)), (0, time(13), time(17))], ny(2026, 11, 23, 12, 30), False),  # lunch break
        ([(0, time(8), time(12)), (0, time(13), time(17))], ny(2026, 11, 23, 13, 30), True),
    ],
)
def test_a_queue_is_open_in_its_weekly_ranges(ranges, at, is_open):
    assert hours(*ranges).is_open(at) is is_open


def test_several_ranges_a_day_give_several_intervals_and_touching_ones_merge():
    found = hours((0, time(8), time(12)), (0, time(12), time(14)), (0, time(15), time(17))).intervals(
        ny(2026, 11, 23, 0, 0), ny(2026, 11, 24, 0, 0)
    )
    assert found == [(ny(2026, 11, 23, 8, 0), ny(2026, 11, 23, 14, 0)), (ny(2026, 11, 23, 15, 0), ny(2026, 11, 23, 17))]


def test_intervals_are_cut_to_the_window():
    found = hours(*weekdays(time(8), time(20))).intervals(ny(2026, 11, 24, 10, 0), ny(2026, 11, 24, 12, 0))
    assert found == [(ny(2026, 11, 24, 10, 0), ny(2026, 11, 24, 12, 0))]


def test_an_overnight_range_runs_into_the_next_day_and_the_next_week():
    sunday_night = hours((6, time(22), time(6)))
    found = sunday_night.intervals(ny(2026, 11, 23, 0, 0), ny(2026, 11, 24, 0, 0))  # Monday
    assert found == [(ny(2026, 11, 23, 0, 0), ny(2026, 11, 23, 6, 0))]


def test_a_closed_date_closes_the_whole_local_day():
    christmas = hours(*weekdays(time(8), time(20)), closed=[date(2026, 12, 25)])  # a Friday
    assert not christmas.is_open(ny(2026, 12, 25, 12, 0))
    assert christmas.is_open(ny(2026, 12, 24, 12, 0))
    assert christmas.intervals(ny(2026, 12, 25, 0, 0), ny(2026, 12, 26, 0, 0)) == []


def test_a_closed_date_cuts_an_overnight_range_at_midnight():
    nights = hours(*weekdays(time(22), time(6)), closed=[date(2026, 12, 25)])
    found = nights.intervals(ny(2026, 12, 24, 12, 0), ny(2026, 12, 26, 12, 0))
    # Thursday night until midnight; all of Friday shut; Saturday's early hours (of Friday's range) open again.
    assert found == [(ny(2026, 12, 24, 22, 0), ny(2026, 12, 25, 0, 0)), (ny(2026, 12, 26, 0, 0), ny(2026, 12, 26, 6))]


def test_closed_dates_alone_mean_open_around_the_clock_but_those_days():
    holiday_only = OpeningHours(ALL_WEEK, NEW_YORK, frozenset({date(2026, 11, 26)}))
    found = holiday_only.intervals(ny(2026, 11, 25, 0, 0), ny(2026, 11, 28, 0, 0))
    assert found == [(ny(2026, 11, 25, 0, 0), ny(2026, 11, 26, 0, 0)), (ny(2026, 11, 27, 0, 0), ny(2026, 11, 28))]


# DST days, New York: 2026-03-08 02:00 jumps to 03:00; 2026-11-01 02:00 falls back to 01:00.


def test_a_range_on_the_spring_forward_day_is_an_hour_shorter():
    sunday = hours((6, time(0), time(6)))
    [(since, until)] = sunday.intervals(utc(2026, 3, 8, 0, 0), utc(2026, 3, 9, 0, 0))
    assert (since, until) == (utc(2026, 3, 8, 5, 0), utc(2026, 3, 8, 10, 0))  # 00:00 EST to 06:00 EDT
    assert until - since == timedelta(hours=5)


def test_a_range_opening_in_the_spring_gap_opens_with_the_offset_from_before_the_gap():
    sunday = hours((6, time(2, 30), time(8)))  # 02:30 does not exist that day
    [(since, _)] = sunday.intervals(utc(2026, 3, 8, 0, 0), utc(2026, 3, 9, 0, 0))
    assert since == utc(2026, 3, 8, 7, 30)  # 02:30 EST (RFC 5545), i.e. 03:30 EDT


def test_a_range_closing_at_an_ambiguous_time_closes_at_its_first_occurrence():
    sunday = hours((6, time(0), time(1, 30)))  # 01:30 happens twice on 2026-11-01
    [(since, until)] = sunday.intervals(utc(2026, 11, 1, 0, 0), utc(2026, 11, 2, 0, 0))
    assert (since, until) == (utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 5, 30))  # 01:30 EDT, the first


def test_a_range_on_the_fall_back_day_is_an_hour_longer():
    sunday = hours((6, time(0), time(6)))
    [(since, until)] = sunday.intervals(utc(2026, 11, 1, 0, 0), utc(2026, 11, 2, 0, 0))
    assert until - since == timedelta(hours=7)


def test_a_closed_dst_day_is_closed_for_its_23_hours():
    spring = OpeningHours(ALL_WEEK, NEW_YORK, frozenset({date(2026, 3, 8)}))
    found = spring.intervals(ny(2026, 3, 7, 12, 0), ny(2026, 3, 9, 12, 0))
    assert [until - since for since, until in found] == [timedelta(hours=12), timedelta(hours=12)]
    assert found[1][0] - found[0][1] == timedelta(hours=23)


# The data migration: the one staffed range each queue had becomes its weekly ranges.


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("days", "weekdays"), [("mon,tue,wed,thu,fri", [0, 1, 2, 3, 4]), ("", [0, 1, 2, 3, 4, 5, 6])])
def test_staffed_hours_become_weekly_ranges_entered_in_admin(days, weekdays):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        ("queues", "0013_actual_value_change_log"),
        ("queues", "0014_opening_hours_replace_staffed_hours"),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps.get_model("queues", "CallQueue")
    old.objects.create(
        provider_id="1", name="Support", staffed_from=time(22), staffed_until=time(6), staffed_days=days,
        staffed_timezone="America/New_York",
    )  # fmt: skip
    old.objects.create(provider_id="2", name="Always")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([after])
    new = executor.loader.project_state([after]).apps
    support = new.get_model("queues", "CallQueue").objects.get(provider_id="1")
    ranges = new.get_model("queues", "OpeningRange").objects.filter(queue=support).order_by("weekday")
    assert [(r.weekday, r.opens, r.closes) for r in ranges] == [(d, time(22), time(6)) for d in weekdays]
    assert (support.hours_timezone, support.hours_source) == ("America/New_York", "admin")
    assert not new.get_model("queues", "OpeningRange").objects.filter(queue__provider_id="2").exists()
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


# The schedule file: `opening_hours`, `closed_dates` and `hours_timezone` on a queue, all optional.

FILE = """
timezone: America/New_York
queues:
  - id: "1"
    name: Support
    min_staff: 2
    opening_hours:
      - {days: [mon, tue, wed, thu, fri], opens: "08:00", closes: "20:00"}
      - {days: [sat], opens: "22:00", closes: "02:00"}
    closed_dates:
      - {date: 2026-12-25, name: Christmas Day}
"""


def stored_hours(provider_id):
    queue = CallQueue.objects.get(provider_id=provider_id)
    ranges = sorted((r.weekday, r.opens, r.closes) for r in queue.opening_ranges.all())
    return queue.hours_timezone, queue.hours_source, ranges, {c.date: c.name for c in queue.closed_dates.all()}


@pytest.mark.django_db
def test_a_schedule_file_sets_a_queues_opening_hours_and_closed_dates():
    import_schedule(parse_schedule(FILE))
    zone, source, ranges, closed = stored_hours("1")
    assert (zone, source) == ("America/New_York", "admin")
    assert ranges == [(d, time(8), time(20)) for d in range(5)] + [(5, time(22), time(2))]
    assert closed == {date(2026, 12, 25): "Christmas Day"}


@pytest.mark.django_db
def test_a_file_without_the_hours_keys_leaves_the_stored_hours_alone():
    import_schedule(parse_schedule(FILE))
    report = import_schedule(parse_schedule('queues:\n  - {id: "1", name: Support, min_staff: 2}\n'))
    assert len(stored_hours("1")[2]) == 6 and len(stored_hours("1")[3]) == 1
    assert report.unchanged["queues"] == 1


@pytest.mark.django_db
def test_changed_hours_count_the_queue_as_updated():
    import_schedule(parse_schedule(FILE))
    report = import_schedule(parse_schedule(FILE.replace('"20:00"', '"19:00"')))
    assert report.updated["queues"] == 1
    assert (0, time(8), time(19)) in stored_hours("1")[2]


@pytest.mark.django_db
def test_the_export_writes_the_hours_back_in_the_same_form():
    import_schedule(parse_schedule(FILE))
    text = dump_schedule(export_document())
    assert "opening_hours:\n  - days: [mon, tue, wed, thu, fri]\n    opens: 08:00\n    closes: '20:00'\n" in text
    assert "closed_dates:\n  - date: 2026-12-25\n    name: Christmas Day\n" in text
    CallQueue.objects.all().delete()
    import_schedule(parse_schedule(text))
    assert stored_hours("1")[2] == [(d, time(8), time(20)) for d in range(5)] + [(5, time(22), time(2))]


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ('opens: "25:00"', "queues[0].opening_hours[0].opens: '25:00' is not a time (HH:MM)"),
        ("days: [mon, funday]", "queues[0].opening_hours[0].days: unknown weekday 'funday'"),
        ('from: "08:00"', "queues[0].opening_hours[0].from: unknown key: expected one of closes, days, opens"),
    ],
)
def test_a_bad_opening_range_is_refused_naming_its_place(mistake, message):
    key = mistake.split(":")[0]
    line = {"opens": 'opens: "08:00"', "days": "days: [mon, tue, wed, thu, fri]", "from": 'opens: "08:00"'}[key]
    text = FILE.replace(line, mistake, 1)
    with pytest.raises(ScheduleFormatError) as error:
        parse_schedule(text)
    assert any(e.startswith(message) for e in error.value.errors), error.value.errors


def test_a_bad_closed_date_and_zone_are_refused_naming_their_place():
    text = FILE.replace("date: 2026-12-25", 'date: "2026-02-30"').replace(
        "min_staff: 2", "min_staff: 2\n    hours_timezone: Mars/Olympus"
    )
    with pytest.raises(ScheduleFormatError) as error:
        parse_schedule(text)
    assert any(e.startswith("queues[0].closed_dates[0].date: '2026-02-30' is not a date") for e in error.value.errors)
    assert any(e.startswith("queues[0].hours_timezone: unknown timezone 'Mars/Olympus'") for e in error.value.errors)


# The admin: weekly ranges and closed dates as inlines of the queue, in a zone from the list.


def queue_form(queue, **changes):
    data = {
        "provider": "ringcentral", "provider_id": queue.provider_id, "name": queue.name, "min_staff": "1",
        "enforce": "on", "editable_member_status": "on", "hours_timezone": "America/New_York",
        "hours_source": "provider",
        "opening_ranges-TOTAL_FORMS": "1", "opening_ranges-INITIAL_FORMS": "0",
        "opening_ranges-0-weekday": "0", "opening_ranges-0-opens": "08:00", "opening_ranges-0-closes": "20:00",
        "closed_dates-TOTAL_FORMS": "1", "closed_dates-INITIAL_FORMS": "0",
        "closed_dates-0-date": "2026-12-25", "closed_dates-0-name": "Christmas Day",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
    }  # fmt: skip
    return data | changes


def test_hours_entered_in_admin_are_the_admins_and_the_sync_leaves_them(bob, client):
    queue = CallQueue.objects.create(provider_id="9", name="Fresh")
    url = reverse("admin:queues_callqueue_change", args=[queue.pk])
    response = client.post(url, queue_form(queue))
    assert response.status_code == 302, response.context and response.context["errors"]
    queue.refresh_from_db()
    assert (queue.hours_source, queue.hours_timezone) == ("admin", "America/New_York")
    assert [str(r) for r in queue.opening_ranges.all()] == ["Monday 08:00–20:00"]
    assert [str(c) for c in queue.closed_dates.all()] == ["2026-12-25 Christmas Day"]
    listed = client.get(reverse("admin:queues_callqueue_changelist")).text
    assert "Monday 08:00–20:00 America/New_York; 1 closed date (from entered here)" in listed


def test_weekly_ranges_without_a_zone_are_refused_with_the_fix(bob, client):
    queue = CallQueue.objects.create(provider_id="9", name="Fresh")
    url = reverse("admin:queues_callqueue_change", args=[queue.pk])
    response = client.post(url, queue_form(queue, hours_timezone=""))
    assert response.status_code == 200
    assert "Choose the opening hours zone above: the weekly ranges are local times in that zone." in response.text
    assert not queue.opening_ranges.exists()


def test_the_zone_is_chosen_from_the_iana_list(bob, client):
    queue = CallQueue.objects.create(provider_id="9", name="Fresh")
    url = reverse("admin:queues_callqueue_change", args=[queue.pk])
    page = client.get(url).text
    assert '<option value="America/New_York">America/New_York</option>' in page
    response = client.post(url, queue_form(queue, hours_timezone="Mars/Olympus"))
    assert "Select a valid choice. Mars/Olympus is not one of the available choices." in response.text
