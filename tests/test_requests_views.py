"""My schedule and the pending requests page, through Django's test client."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import User

from queues.models import Agent
from scheduler.models import OccurrenceChange, OpenShift, RequestStatus, ScheduleRequest, Shift, TimeOff

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # Monday 07:00 in New York
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def login_as(client, provider_id: str, name: str) -> Agent:
    agent = Agent.objects.get(provider_id=provider_id)
    agent.user = User.objects.create_user(name, email=f"{name}@example.com")
    agent.save()
    client.force_login(agent.user)
    return agent


def test_my_schedule_lists_her_shifts_for_the_next_weeks_in_her_zone(demo, client):
    login_as(client, "222222222", "maria")
    page = client.get("/my-schedule/").content.decode()
    assert "Tue 01 Dec 08:00–12:00</strong> Support mornings" in page
    assert "Fri 18 Dec 12:00–20:00</strong> Support evenings" in page
    assert "times in America/New_York" in page


def test_after_an_approved_trade_the_occurrence_moves_from_her_list_to_the_colleagues(demo, client):
    maria, olena = Agent.objects.get(provider_id="222222222"), Agent.objects.get(provider_id="333333333")
    change = OccurrenceChange.objects.create(
        shift=Shift.objects.get(name="Support mornings"), occurrence=date(2026, 12, 1)
    )
    change.absent.add(maria)
    change.covering.add(olena)
    login_as(client, "222222222", "maria")
    assert "Tue 01 Dec 08:00–12:00</strong> Support mornings" not in client.get("/my-schedule/").content.decode()
    assert "Wed 02 Dec 08:00–12:00</strong> Support mornings" in client.get("/my-schedule/").content.decode()
    login_as(client, "333333333", "olena")
    page = client.get("/my-schedule/").content.decode()
    assert "Tue 01 Dec 08:00–12:00</strong> Support mornings" in page
    assert "Wed 02 Dec 08:00–12:00</strong> Support mornings" not in page


def test_asking_for_a_whole_day_off_covers_local_midnight_to_midnight(demo, client):
    maria = login_as(client, "222222222", "maria")
    answer = client.post("/my-schedule/time-off/", {"first_day": "2026-12-01", "reason": "dentist"}, follow=True)
    assert "Time off asked for: waiting for a supervisor." in answer.content.decode()
    asked = ScheduleRequest.objects.get(requester=maria)
    assert (asked.start, asked.end) == (datetime(2026, 12, 1, 5, tzinfo=UTC), datetime(2026, 12, 2, 5, tzinfo=UTC))


def test_a_day_off_over_the_dst_change_is_23_hours(demo, client):
    with time_machine.travel(datetime(2027, 3, 1, 12, tzinfo=UTC), tick=False):
        maria = login_as(client, "222222222", "maria")  # a session of November's would have expired
        client.post("/my-schedule/time-off/", {"first_day": "2027-03-14"})
    asked = ScheduleRequest.objects.get(requester=maria)
    assert (asked.end - asked.start).total_seconds() == 23 * 3600


def test_bad_time_off_input_names_the_field_and_writes_nothing(demo, client):
    login_as(client, "222222222", "maria")
    answer = client.post(
        "/my-schedule/time-off/", {"first_day": "2026-12-03", "last_day": "2026-12-01"}, follow=True
    ).content.decode()
    assert "last day: the last day is before the first" in answer
    answer = client.post("/my-schedule/time-off/", {"first_day": "2026-12-03", "from_time": "09:00"}, follow=True)
    assert "to time: part of a day needs both a from and a to time" in answer.content.decode()
    assert client.post("/my-schedule/time-off/", {"first_day": "not a date"}).status_code == 302
    assert not ScheduleRequest.objects.exists()


def test_she_cannot_withdraw_anothers_request(demo, client):
    maria = Agent.objects.get(provider_id="222222222")
    theirs = ScheduleRequest.objects.create(kind="time_off", requester=maria, start=NOW, end=NOW)
    login_as(client, "111111111", "james")
    assert client.post(f"/my-schedule/requests/{theirs.pk}/withdraw/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == RequestStatus.PENDING


def test_a_login_without_an_agent_is_told_so(db, client):
    client.force_login(User.objects.create_user("nobody"))
    assert client.get("/my-schedule/").status_code == 200
    assert client.post("/my-schedule/time-off/", {"first_day": "2026-12-01"}).status_code == 404


def test_the_supervisor_sees_the_coverage_effect_and_approves(bob, client):
    maria = Agent.objects.get(provider_id="222222222")
    maria.user = User.objects.create_user("maria")
    maria.save()
    client.force_login(maria.user)
    client.post("/my-schedule/time-off/", {"first_day": "2026-12-01", "reason": "dentist"})
    client.force_login(bob)
    page = client.get("/admin/scheduler/schedulerequest/pending/").content.decode()
    assert "Support would be 0 of 2 on Tue 01 Dec 12:00–15:00" in page
    asked = ScheduleRequest.objects.get()
    client.post(f"/admin/scheduler/schedulerequest/{asked.pk}/decide/", {"decision": "approve", "note": "ok"})
    assert TimeOff.objects.filter(agent=maria, reason="dentist").exists()


def test_the_supervisor_publishes_an_open_shift_an_agent_claims(bob, client):
    mornings = Shift.objects.get(name="Support mornings")
    client.post(
        "/admin/scheduler/schedulerequest/publish/", {"shift": mornings.pk, "occurrence": "2026-12-01", "seats": 1}
    )
    seat = OpenShift.objects.get()
    login_as(client, "333333333", "olena")
    assert "Claim a seat" in client.get("/my-schedule/").content.decode()
    answer = client.post(f"/my-schedule/open-shifts/{seat.pk}/claim/", follow=True).content.decode()
    assert "Seat claimed: waiting for a supervisor." in answer


def test_staff_without_the_group_cannot_decide(carol, client):
    assert client.get("/admin/scheduler/schedulerequest/pending/").status_code == 403


def test_a_login_asking_faster_than_a_person_gets_429_and_nothing_is_written(demo, client):
    maria = login_as(client, "222222222", "maria")
    for day in range(1, 21):
        client.post("/my-schedule/time-off/", {"first_day": f"2026-12-{day:02}"})
    answer = client.post("/my-schedule/time-off/", {"first_day": "2026-12-22"})
    assert answer.status_code == 429
    assert ScheduleRequest.objects.filter(requester=maria).count() == 20
