"""The supervisor's console at a glance: plans that cannot apply, opening hours, readable lists."""

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from queues.models import (
    Agent,
    AuditEntry,
    AuditField,
    CallQueue,
    OpeningRange,
    Override,
    QueueMembership,
    ReconcileRun,
)
from scheduler.admin import repeats_of
from scheduler.models import Shift
from scheduler.reconcile.run import reconcile_locked
from scheduler.recurrence import WEEKDAYS
from scheduler.schedule.membership import cannot_apply, current_shift_pairs
from scheduler.supervisor.board import now_board
from scheduler.supervisor.coverage import coverage_report
from scheduler.supervisor.timeline import queue_timeline
from tests.support.personas import link_receptionist

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tue 10:00 New York
SUPPORT, ADAMS, JAMES, MARIA, OLENA = "1081167000", "62284876000", "111111111", "222222222", "333333333"


def member(queue_id, *agent_ids):
    queue = CallQueue.objects.get(provider_id=queue_id)
    for agent_id in agent_ids:
        QueueMembership.objects.get_or_create(queue=queue, agent=Agent.objects.get(provider_id=agent_id))


@pytest.fixture
def support_read(demo):
    """Support's members as the provider lists them: James and Maria, not Olena (who has a night shift on it)."""
    member(SUPPORT, JAMES, MARIA)


def warnings_of(response):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


def test_a_rostered_pair_the_provider_lacks_is_found_with_its_shift(support_read):
    found = cannot_apply(current_shift_pairs(today=date(2026, 11, 24)))
    assert [str(p) for p in found] == [
        "Olena Kovalenko is not a member of Support at the provider (shift Support night (Kyiv))"
    ]


def test_a_queue_whose_members_were_never_read_is_not_judged(demo):
    assert cannot_apply(current_shift_pairs(today=date(2026, 11, 24))) == []


def test_saving_a_shift_with_a_non_member_warns_naming_the_pair_and_still_saves(bob, client, support_read):
    support, olena = CallQueue.objects.get(provider_id=SUPPORT), Agent.objects.get(provider_id=OLENA)
    form = {
        "name": "Olena mornings", "queues": [support.pk], "agents": [olena.pk], "timezone": "America/New_York",
        "start_time": "08:00", "end_time": "12:00", "repeats": "days", "days": ["mon"], "rrule": "", "dtstart": "",
        "valid_from": "", "valid_until": "", "_save": "Save",
    }  # fmt: skip
    response = client.post(reverse("admin:scheduler_shift_add"), form, follow=True)
    assert Shift.objects.filter(name="Olena mornings").exists()
    assert warnings_of(response) == [
        "Saved, but this cannot apply: Olena Kovalenko is not a member of Support at the provider "
        "(shift Olena mornings). Add her to the queue at the provider, then sync queues, or take her off the shift."
    ]


def test_saving_a_shift_of_members_says_nothing_more(bob, client, support_read):
    shift = Shift.objects.get(name="Support mornings")
    form = {
        "name": shift.name, "queues": [q.pk for q in shift.queues.all()], "agents": [a.pk for a in shift.agents.all()],
        "timezone": shift.timezone, "start_time": "08:00", "end_time": "12:00", "repeats": "days",
        "days": ["mon", "tue"], "rrule": "", "dtstart": "", "valid_from": "", "valid_until": "", "_save": "Save",
    }  # fmt: skip
    response = client.post(reverse("admin:scheduler_shift_change", args=[shift.pk]), form, follow=True)
    assert warnings_of(response) == []


def test_a_csv_import_warns_of_each_pair_it_cannot_apply(bob, client, support_read):
    url = reverse("admin:scheduler_shift_import")
    csv = (
        "name,timezone,start_time,end_time,days,rrule,dtstart,valid_from,valid_until,queues,agents\n"
        f"Olena cover,America/New_York,09:00,10:00,sat,,,,,{SUPPORT},{OLENA}\n"
    )
    upload = io.BytesIO(csv.encode())
    upload.name = "roster.csv"
    preview = client.post(url, {"import_file": upload, "format": "0"})
    assert preview.status_code == 200, preview.content[:2000]
    confirm = preview.context["confirm_form"].initial
    response = client.post(reverse("admin:scheduler_shift_process_import"), confirm, follow=True)
    assert Shift.objects.filter(name="Olena cover").exists()
    assert any("Olena Kovalenko is not a member of Support" in w for w in warnings_of(response))


def test_the_schedule_file_preview_and_import_name_the_pairs(bob, client, support_read):
    url = reverse("admin:scheduler_supervision_roster")
    text = (
        "shifts:\n  - name: Olena Saturday\n    queues: ['1081167000']\n    agents: ['333333333']\n"
        "    days: [sat]\n    start: '09:00'\n    end: '10:00'\n    timezone: America/New_York\n"
    )
    preview = client.post(url, {"text": text})
    assert "this cannot apply: Olena Kovalenko is not a member of Support at the provider" in preview.text
    assert "Olena Saturday" in preview.text
    done = client.post(url, {"text": text, "confirm": "1"}, follow=True)
    assert any("Olena Kovalenko is not a member of Support" in w for w in warnings_of(done))


@time_machine.travel(NOW, tick=False)
def test_the_board_lists_the_pairs_it_cannot_apply(bob, client, support_read):
    page = client.get(reverse("admin:scheduler_supervision_board")).text
    assert "Can't apply: 1 rostered pair the provider does not have" in page
    assert "Olena Kovalenko is not a member of Support at the provider (shift Support night (Kyiv))" in page


def test_the_run_report_says_its_problems_in_words(bob, client, admin_user):
    run = ReconcileRun.objects.create(
        at=NOW, trigger="beat", problems=["queue 1081167000: agent 333333333 is not a member at the provider"]
    )
    client.force_login(admin_user)
    page = client.get(reverse("admin:queues_reconcilerun_change", args=[run.pk])).text
    assert "<li>queue 1081167000: agent 333333333 is not a member at the provider</li>" in page
    assert "[&quot;" not in page and '["' not in page


# Opening hours: min staff counts only while a queue is open (the pure rules: tests/test_opening_hours.py).

WEEK_START = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # Mon 00:00 New York
WEEKDAYS_8_TO_8 = {"days": range(5), "opens": time(8), "closes": time(20)}


def open_hours(queue_id, *, days, opens, closes):
    """The queue's hours, entered in admin, replaced by one range on each of `days` in New York."""
    queue = CallQueue.objects.get(provider_id=queue_id)
    queue.opening_ranges.all().delete()
    queue.closed_dates.all().delete()
    OpeningRange.objects.bulk_create(OpeningRange(queue=queue, weekday=d, opens=opens, closes=closes) for d in days)
    CallQueue.objects.filter(pk=queue.pk).update(hours_timezone="America/New_York", hours_source="admin")


def test_a_queue_open_around_the_clock_has_gaps_at_night_and_on_weekends(demo):
    open_hours(SUPPORT, days=(), opens=time(0), closes=time(0))  # no ranges, no closed dates: always open
    gaps = [s for s, _ in coverage_report(start=WEEK_START, end=WEEK_START + timedelta(days=7))]
    assert any(s.queue_id == SUPPORT and s.start.astimezone(NEW_YORK).hour < 8 for s in gaps)


def test_gaps_are_counted_only_in_a_queues_opening_hours(demo):
    open_hours(SUPPORT, **WEEKDAYS_8_TO_8)
    gaps = [
        s for s, _ in coverage_report(start=WEEK_START, end=WEEK_START + timedelta(days=7)) if s.queue_id == SUPPORT
    ]
    for gap in gaps:
        start, end = gap.start.astimezone(NEW_YORK), gap.end.astimezone(NEW_YORK)
        assert start.weekday() < 5 and time(8) <= start.time() and end.time() <= time(20) and end.date() == start.date()


@time_machine.travel(datetime(2026, 11, 24, 3, 0, tzinfo=UTC), tick=False)  # Mon 22:00 NY: Support closed
def test_a_closed_queue_is_not_below_min_staff_on_the_board(bob, client):
    open_hours(SUPPORT, **WEEKDAYS_8_TO_8)
    support = next(q for q in now_board(at=timezone.now()) if q.queue.provider_id == SUPPORT)
    assert (support.open, support.below_min) == (False, False)
    page = client.get(reverse("admin:scheduler_supervision_board")).text
    assert "closed now: min staff applies in its opening hours only" in page


@time_machine.travel(NOW, tick=False)
def test_an_open_queue_below_min_staff_is_still_red(demo):
    open_hours(SUPPORT, **WEEKDAYS_8_TO_8)
    support = next(q for q in now_board(at=NOW) if q.queue.provider_id == SUPPORT)
    assert (support.open, support.below_min) == (True, True)  # nobody was read taking calls yet


def test_opening_hours_need_a_zone_the_system_knows(demo):
    queue = CallQueue.objects.get(provider_id=SUPPORT)
    queue.hours_timezone = "Mars/Olympus"
    with pytest.raises(ValidationError) as error:
        queue.full_clean()
    assert "unknown timezone 'Mars/Olympus'" in str(error.value)


def test_the_timeline_draws_no_gaps_while_the_queue_is_closed(bob, client):
    open_hours(SUPPORT, **WEEKDAYS_8_TO_8)
    support = CallQueue.objects.get(provider_id=SUPPORT)
    found = queue_timeline(support, day=date(2026, 11, 28), days=1, tz=NEW_YORK)  # a Saturday
    assert found.gaps == []


# A receptionist about to take an open queue below its min staff is told so, before and after.

TUESDAY_0930 = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # Support mornings: James and Maria, min staff 2


@pytest.fixture
def james_on_tuesday_morning(demo_emulator, point_app_at):
    point_app_at(demo_emulator)
    rc = RingCentralClient(**demo_emulator.client_kwargs(), store=InProcessStore())
    client = Client()
    client.force_login(link_receptionist(JAMES, "james"))
    with time_machine.travel(TUESDAY_0930, tick=True):
        reconcile_locked(provider=rc, at=TUESDAY_0930, trigger="test")
        yield client


SHORT = "Support needs 2 taking its calls now; without you 1 other is, below its min staff."


def test_her_page_says_stopping_would_leave_an_open_queue_short(james_on_tuesday_morning):
    assert SHORT in james_on_tuesday_morning.get("/").text


def test_stopping_below_min_staff_asks_her_to_confirm_first_and_changes_nothing_yet(james_on_tuesday_morning):
    form = {"agent": JAMES, "queue": SUPPORT, "accept": "off", "duration": "30"}
    response = james_on_tuesday_morning.post("/toggle/", form)
    assert response.status_code == 200 and SHORT in response.text
    assert '<input type="hidden" name="confirmed" value="on">' in response.text
    assert '<input type="hidden" name="duration" value="30">' in response.text
    assert "Stop taking Support calls anyway" in response.text
    assert not Override.objects.exists()


def test_stopping_below_min_staff_once_confirmed_says_so_after_the_change(james_on_tuesday_morning):
    form = {"agent": JAMES, "queue": SUPPORT, "accept": "off", "duration": "", "confirmed": "on"}
    response = james_on_tuesday_morning.post("/toggle/", form, follow=True)
    assert warnings_of(response) == [f"You stopped taking Support calls. {SHORT}"]
    assert Override.objects.filter(queue__provider_id=SUPPORT, accept=False).exists()


def test_stepping_away_below_min_staff_asks_her_to_confirm_first(james_on_tuesday_morning):
    form = {"agent": JAMES, "status": "DoNotAcceptDepartmentCalls", "duration": ""}
    response = james_on_tuesday_morning.post("/away/", form)
    assert SHORT in response.text and "Step away anyway" in response.text
    assert not Override.objects.exists()


def test_no_confirm_step_while_the_queue_is_closed(james_on_tuesday_morning):
    open_hours(SUPPORT, days=range(7), opens=time(12), closes=time(20))
    form = {"agent": JAMES, "queue": SUPPORT, "accept": "off", "duration": ""}
    response = james_on_tuesday_morning.post("/toggle/", form, follow=True)
    assert response.redirect_chain and warnings_of(response) == []


def test_no_warning_while_the_queue_is_closed(james_on_tuesday_morning):
    open_hours(SUPPORT, days=range(7), opens=time(12), closes=time(20))
    assert "Support needs 2" not in james_on_tuesday_morning.get("/").text


# Lists that fit and speak in words, in the viewer's zone.


@pytest.fixture
def in_new_york(client):
    session = client.session
    session["callrota_tz"] = "America/New_York"
    session.save()


def test_the_audit_list_has_four_columns_in_words_and_the_viewers_zone(bob, client, in_new_york):
    AuditEntry.objects.create(
        reason="shift end: Support mornings", queue=CallQueue.objects.get(provider_id=SUPPORT),
        agent=Agent.objects.get(provider_id=JAMES), field=AuditField.QUEUE_CALLS, old_value="True",
        new_value="False", outcome="failed", error_code="CMN-102",
    )  # fmt: skip
    AuditEntry.objects.create(
        reason="drift", agent=Agent.objects.get(provider_id=MARIA), field="dndStatus",
        old_value="TakeAllCalls", new_value="DoNotAcceptDepartmentCalls", outcome="applied",
    )  # fmt: skip
    response = client.get(reverse("admin:queues_auditentry_changelist"))
    assert list(response.context["cl"].list_display) == ["when", "who", "what", "outcome_words", "actor_name"]
    page = response.text
    assert "James Smith in Support" in page
    assert "Takes queue calls: on → off" in page and "failed (CMN-102)" in page
    assert "Do Not Disturb: Take all calls → Do not accept queue calls" in page
    assert " EST</a>" in page  # times in her zone, named
    assert "acceptCurrentQueueCalls" not in page and "dndStatus" not in page


def test_the_shift_list_shows_queues_agents_and_days_in_words(bob, client):
    page = client.get(reverse("admin:scheduler_shift_changelist")).text
    assert '<td class="field-queue_names">Demo call queue, Support</td>' in page
    assert "James Smith, Maria Lopez" in page
    assert "08:00–12:00 America/New_York" in page and "every weekday" in page


@time_machine.travel(NOW, tick=False)
def test_an_agents_page_shows_her_shifts_time_off_and_next_boundary(bob, client, in_new_york):
    olena = Agent.objects.get(provider_id=OLENA)
    page = client.get(reverse("admin:queues_agent_change", args=[olena.pk])).text
    assert "Support night (Kyiv)" in page and "Demo queue afternoons" in page
    assert "2026-11-24 12:00 EST: Demo queue afternoons starts" in page


def test_a_time_off_list_shows_times_with_their_zone(bob, client, in_new_york):
    page = client.get(reverse("admin:scheduler_timeoff_changelist")).text
    assert "2026-12-24 00:00 EST" in page


def test_the_schedule_import_preview_says_what_each_entry_will_become(bob, client):
    text = (
        "queues:\n  - id: '1081167000'\n    name: Support\n    min_staff: 3\n"
        "shifts:\n  - name: Support mornings\n    queues: ['1081167000']\n    agents: ['111111111', '222222222']\n"
        "    days: [mon, tue, wed, thu, fri]\n    start: '08:00'\n    end: '12:00'\n    timezone: America/New_York\n"
        "  - name: Saturday desk\n    queues: ['1081167000']\n    agents: ['111111111']\n"
        "    days: [sat]\n    start: '09:00'\n    end: '10:00'\n    timezone: America/New_York\n"
    )
    preview = client.post(reverse("admin:scheduler_supervision_roster"), {"text": text})
    assert preview.context["report"].entries == [
        ("updated", "queues", "Support"),
        ("unchanged", "shifts", "Support mornings"),
        ("created", "shifts", "Saturday desk"),
    ]
    page = preview.text
    assert '<tr class="import-created"><td>added</td><td>shifts</td><td>Saturday desk</td></tr>' in page
    assert '<tr class="import-unchanged"><td>left alone</td><td>shifts</td><td>Support mornings</td></tr>' in page
    assert '<tr class="import-updated"><td>changed</td><td>queues</td><td>Support</td></tr>' in page


def shift_form(**changes):
    support, james = CallQueue.objects.get(provider_id=SUPPORT), Agent.objects.get(provider_id=JAMES)
    form = {
        "name": "Front desk", "queues": [support.pk], "agents": [james.pk], "timezone": "America/New_York",
        "start_time": "09:00", "end_time": "17:00", "repeats": "weekdays", "days": [], "rrule": "", "dtstart": "",
        "valid_from": "", "valid_until": "", "_save": "Save",
    }  # fmt: skip
    return {**form, **changes}


@pytest.mark.parametrize(
    ("choice", "ticked", "days", "rule"),
    [
        ("weekdays", [], "mon,tue,wed,thu,fri", ""),
        ("every_day", [], "mon,tue,wed,thu,fri,sat,sun", ""),
        ("days", ["sat", "mon"], "mon,sat", ""),
        ("other_week", ["tue", "thu"], "", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH"),
        ("monthly", ["mon"], "", "FREQ=MONTHLY;BYDAY=1MO"),
    ],
)
def test_the_shift_form_writes_each_repeat_choice_without_a_raw_rule(bob, client, choice, ticked, days, rule):
    response = client.post(reverse("admin:scheduler_shift_add"), shift_form(repeats=choice, days=ticked))
    assert response.status_code == 302, response.context["adminform"].form.errors
    shift = Shift.objects.get(name="Front desk")
    assert (shift.days, shift.rrule, shift.dtstart is not None or not rule) == (days, rule, True)
    form = client.get(reverse("admin:scheduler_shift_change", args=[shift.pk])).context["adminform"].form
    assert (form.initial["repeats"], form.initial["days"]) == (
        choice,
        sorted(ticked, key=WEEKDAYS.index) or days.split(","),
    )


def test_a_stored_rule_reads_back_as_the_choice_that_wrote_it(demo):
    shift = Shift(rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH")
    assert repeats_of(shift) == ("other_week", ["tue", "thu"])
    assert repeats_of(Shift(rrule="FREQ=MONTHLY;BYSETPOS=-1;BYDAY=FR")) == ("rule", [])


def test_monthly_needs_exactly_one_day_ticked(bob, client):
    response = client.post(reverse("admin:scheduler_shift_add"), shift_form(repeats="monthly", days=["mon", "tue"]))
    assert "tick exactly one day: the shift runs on its first of each month" in response.text
    assert not Shift.objects.filter(name="Front desk").exists()


def test_the_advanced_rule_is_kept_as_written(bob, client):
    form = shift_form(repeats="rule", rrule="FREQ=MONTHLY;BYSETPOS=-1;BYDAY=FR", dtstart="2026-11-01")
    assert client.post(reverse("admin:scheduler_shift_add"), form).status_code == 302
    assert Shift.objects.get(name="Front desk").rrule == "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=FR"


@time_machine.travel(NOW, tick=False)
def test_the_timeline_shows_every_queue_with_a_now_line(bob, client):
    page = client.get(reverse("admin:scheduler_supervision_timeline") + "?day=2026-11-24&tz=America/New_York").text
    assert page.count('<svg id="timeline" class="timeline"') + page.count('<svg class="timeline"') == 4
    assert page.count('<line class="now" x1="41.667"') == 4  # 10:00 of a New York day


@time_machine.travel(NOW, tick=False)
def test_the_timeline_shows_the_queues_chosen(bob, client):
    adams, baker = (CallQueue.objects.get(name=n).pk for n in ("Dr. Adams", "Dr. Baker"))
    url = reverse("admin:scheduler_supervision_timeline") + f"?queue={adams}&queue={baker}&day=2026-11-30"
    response = client.get(url)
    assert [t.queue.name for t in response.context["timelines"]] == ["Dr. Adams", "Dr. Baker"]
    assert '<line class="now"' not in response.text  # another day
