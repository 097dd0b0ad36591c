"""Issue 15/16 follow-ups on requests: re-checks at approval, moved occurrences, the reminder sent once,
the projected service level of a decision, and a person muting a channel herself. Demo schedule: Support needs 2;
Support mornings (James, Maria) run 08:00-12:00 New York on weekdays."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.db import DatabaseError, IntegrityError, connection, transaction

from queues.append_only import AppendOnlyError
from queues.models import Agent, AuditEntry, CallQueue, QueueMembership
from scheduler.models import (
    CallVolume,
    NotificationMute,
    OccurrenceChange,
    RequestLogEntry,
    RequestStatus,
    ScheduleRequest,
    Shift,
    ShiftReminderSent,
)
from scheduler.notify import notify
from scheduler.requests.coverage import coverage_effect, request_span
from scheduler.requests.notices import remind_changed_shifts
from scheduler.requests.services import (
    RequestError,
    accept_offer,
    claim_open_shift,
    decide_request,
    offer_occurrence,
    publish_open_shift,
    request_time_off,
    set_muted_channels,
)

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # Monday 07:00 in New York
TUESDAY = date(2026, 12, 1)

pytestmark = pytest.mark.django_db(transaction=True)


def ny(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=NY).astimezone(UTC)


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def mornings() -> Shift:
    return Shift.objects.get(name="Support mornings")


def ana() -> Agent:
    """A fourth agent in Support (by membership only), so she may claim a seat on Support mornings."""
    agent = Agent.objects.create(provider_id="444444444", name="Ana Ruiz", user=User.objects.create_user("ana"))
    QueueMembership.objects.create(queue=CallQueue.objects.get(name="Support"), agent=agent)
    return agent


def traded(agents) -> ScheduleRequest:
    """Maria's Tuesday morning offered to Olena and accepted: pending for a supervisor."""
    maria, olena = agents["maria"], agents["olena"]
    offer = offer_occurrence(agent=maria, shift=mornings(), occurrence=TUESDAY, colleague=olena, reason="",
                             by=maria.user)  # fmt: skip
    return accept_offer(request=offer, agent=olena, by=olena.user)


def claimed(boss) -> ScheduleRequest:
    seat = publish_open_shift(shift=mornings(), occurrence=TUESDAY, seats=1, by=boss)
    claimer = ana()
    assert claimer.user is not None
    return claim_open_shift(open_shift=seat, agent=claimer, by=claimer.user)


def move_tuesday(start: datetime, end: datetime) -> OccurrenceChange:
    return OccurrenceChange.objects.create(shift=mornings(), occurrence=TUESDAY, start=start, end=end)


# --- 1. approval re-checks --------------------------------------------------------------------------------------


def _rostered_since(request, agents):
    mornings().agents.add(agents["olena"])


def _left_the_queues(request, agents):
    QueueMembership.objects.filter(agent=request.requester).delete()


def _covering_since(request, agents):
    change, _ = OccurrenceChange.objects.get_or_create(shift=mornings(), occurrence=TUESDAY)
    change.covering.add(request.colleague or request.requester)


def _cancelled_since(request, agents):
    OccurrenceChange.objects.update_or_create(shift=mornings(), occurrence=TUESDAY, defaults={"cancelled": True})


@pytest.mark.parametrize(
    ("kind", "approve_at", "meanwhile", "refusal"),
    [
        ("trade", NOW, None, None),
        ("claim", NOW, None, None),
        ("trade", ny(8), None, "started at Tue 01 Dec 08:00: too late to approve"),
        ("trade", ny(10), None, "started at Tue 01 Dec 08:00: too late to approve"),
        ("claim", ny(9, day=2), None, "started at Tue 01 Dec 08:00: too late to approve"),
        ("trade", NOW, _rostered_since, "Olena Kovalenko is no longer eligible"),
        ("claim", NOW, _left_the_queues, "Ana Ruiz is no longer eligible"),
        ("trade", NOW, _covering_since, "Olena Kovalenko already covers Support mornings on 2026-12-01"),
        ("claim", NOW, _covering_since, "Ana Ruiz already covers Support mornings on 2026-12-01"),
        ("claim", NOW, _cancelled_since, "was cancelled since"),
    ],
)
def test_an_offer_or_claim_is_re_checked_when_approved(agents, boss, kind, approve_at, meanwhile, refusal):
    asked = traded(agents) if kind == "trade" else claimed(boss)
    assert asked.status == RequestStatus.PENDING
    if meanwhile:
        meanwhile(asked, agents)
    with time_machine.travel(approve_at, tick=False):
        if refusal is None:
            assert decide_request(request=asked, approve=True, note="", by=boss).status == RequestStatus.APPROVED
            return
        with pytest.raises(RequestError, match=refusal) as refused:
            decide_request(request=asked, approve=True, note="", by=boss)
        assert refused.value.field == "request"
        asked.refresh_from_db()
        assert asked.status == RequestStatus.PENDING
        # Denying stays possible, so the supervisor can close it.
        assert decide_request(request=asked, approve=False, note="too late", by=boss).status == RequestStatus.DENIED


def test_the_pending_page_names_why_a_late_approval_is_refused(agents, boss, client):
    asked = traded(agents)
    client.force_login(boss)
    with time_machine.travel(ny(9), tick=False):
        page = client.post(f"/admin/scheduler/schedulerequest/{asked.pk}/decide/", {"decision": "approve"},
                           follow=True).content.decode()  # fmt: skip
    assert "too late to approve, deny it" in page
    asked.refresh_from_db()
    assert asked.status == RequestStatus.PENDING


# --- 2. a moved occurrence's own times --------------------------------------------------------------------------


def test_a_moved_occurrence_is_judged_at_its_moved_times(agents, boss):
    move_tuesday(ny(14), ny(16))
    asked = traded(agents)
    assert request_span(asked) == (ny(14), ny(16))
    # 12:00 in New York: the rule's 08:00 start has passed, the moved 14:00 start has not.
    with time_machine.travel(ny(12), tick=False):
        assert decide_request(request=asked, approve=True, note="", by=boss).status == RequestStatus.APPROVED
    again = offer_occurrence(agent=agents["james"], shift=mornings(), occurrence=TUESDAY, colleague=None,
                             reason="", by=agents["james"].user)  # fmt: skip
    ana_agent = ana()
    again = accept_offer(request=again, agent=ana_agent, by=ana_agent.user)
    with time_machine.travel(ny(14, 30), tick=False):
        with pytest.raises(RequestError, match="started at Tue 01 Dec 14:00"):
            decide_request(request=again, approve=True, note="", by=boss)


def test_a_claim_on_a_moved_occurrence_shows_its_coverage_at_the_moved_times(agents, boss):
    move_tuesday(ny(14), ny(16))
    tuesday_history(CallQueue.objects.get(name="Support"), hours=(8, 9, 14, 15))
    asked = claimed(boss)
    levels = coverage_effect(asked).levels
    assert [line.split(" level ")[1].split(" ")[0] for line in levels] == [
        "14:00–14:30",
        "14:30–15:00",
        "15:00–15:30",
        "15:30–16:00",
    ]
    assert all(" rises from " in line for line in levels)


# --- 3. the day-before reminder, once ---------------------------------------------------------------------------


def test_the_reminder_run_twice_the_same_day_tells_each_person_once(agents):
    change = OccurrenceChange.objects.create(shift=mornings(), occurrence=TUESDAY)
    change.absent.add(agents["maria"])
    change.covering.add(agents["olena"])
    monday = datetime(2026, 11, 30, 10, tzinfo=NY)
    assert remind_changed_shifts(now=monday) == 2
    assert remind_changed_shifts(now=monday + timedelta(hours=5)) == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["maria@example.com", "olena@example.com"]
    assert ShiftReminderSent.objects.count() == 2
    # A colleague added after the first run is still told, once.
    change.covering.add(agents["james"])
    assert remind_changed_shifts(now=monday + timedelta(hours=6)) == 1
    assert [m.to[0] for m in mail.outbox[2:]] == ["james@example.com"]


def test_the_reminder_marker_is_a_database_constraint_not_a_check(agents):
    change = OccurrenceChange.objects.create(shift=mornings(), occurrence=TUESDAY)
    user = agents["maria"].user
    ShiftReminderSent.objects.create(change=change, user=user, occurrence=TUESDAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShiftReminderSent.objects.create(change=change, user=user, occurrence=TUESDAY)


# --- 4. the projected service level of a decision ---------------------------------------------------------------


def tuesday_history(queue: CallQueue, *, hours=(8,), arrivals: int = 10, aht: int = 180) -> None:
    """The same calls in each half hour of these New York hours on the six Tuesdays before 2026-12-01."""
    for week in range(1, 7):
        for hour in hours:
            for minute in (0, 30):
                local = datetime(2026, 12, 1, hour, minute, tzinfo=NY) - timedelta(weeks=week)
                CallVolume.objects.create(queue=queue, minutes=30, start=local.astimezone(UTC), arrivals=arrivals,
                                          handled=arrivals, abandoned=0, handle_seconds=arrivals * aht)  # fmt: skip


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (
            True,
            [
                "Support's projected service level 08:00–08:30 falls from",
                "Support's projected service level 08:30–09:00 falls from",
            ],
        ),
        (False, ["Support: no forecast (no call history), so no projected service level."]),
    ],
)
def test_time_off_shows_the_projected_service_level_of_each_interval_it_touches(agents, boss, history, expected):
    if history:
        tuesday_history(CallQueue.objects.get(name="Support"))
    maria = agents["maria"]
    asked = request_time_off(agent=maria, start=ny(8), end=ny(9), tz="America/New_York", reason="", by=maria.user)
    levels = coverage_effect(asked).levels
    assert len(levels) == len(expected)
    assert all(line.startswith(words) for line, words in zip(levels, expected, strict=True))
    logged = RequestLogEntry.objects.get(request=asked, action="asked").coverage
    assert all(words in logged for words in expected)


def test_a_trade_between_two_agents_of_the_same_queue_changes_no_level(agents, boss):
    tuesday_history(CallQueue.objects.get(name="Support"))
    assert coverage_effect(traded(agents)).levels == ()


def test_the_pending_page_shows_the_projected_service_level(agents, boss, client):
    tuesday_history(CallQueue.objects.get(name="Support"))
    maria = agents["maria"]
    request_time_off(agent=maria, start=ny(8), end=ny(9), tz="America/New_York", reason="", by=maria.user)
    client.force_login(boss)
    page = client.get("/admin/scheduler/schedulerequest/pending/").content.decode()
    assert 'class="level errornote">Support&#x27;s projected service level 08:00–08:30 falls from' in page


# --- 5. a person mutes a channel herself ------------------------------------------------------------------------


def test_she_mutes_and_unmutes_email_on_my_schedule(agents, client):
    maria = agents["maria"]
    client.force_login(maria.user)
    page = client.get("/my-schedule/").content.decode()
    assert 'name="hear" value="email" id="hear-email" checked' in page
    answer = client.post("/my-schedule/notifications/", {}, follow=True).content.decode()
    assert "Muted: Email." in answer
    assert 'id="hear-email">' in answer  # unticked now
    notify(users=[maria.user], subject="Hello", body="")
    assert mail.outbox == []
    answer = client.post("/my-schedule/notifications/", {"hear": ["email"]}, follow=True).content.decode()
    assert "Muted: nothing." in answer
    assert not NotificationMute.objects.filter(user=maria.user).exists()
    notify(users=[maria.user], subject="Hello", body="")
    assert [m.to for m in mail.outbox] == [["maria@example.com"]]


def test_muting_an_unknown_channel_names_the_field_and_the_choices(agents):
    with pytest.raises(RequestError) as refused:
        set_muted_channels(user=agents["maria"].user, muted={"pigeon"})
    assert refused.value.field == "channels"
    assert "no channel named pigeon: pick from email" in refused.value.message


def test_the_mute_form_is_post_only_and_needs_a_login(client, demo):
    assert client.get("/my-schedule/notifications/").status_code in (302, 405)
    assert client.post("/my-schedule/notifications/", {}).status_code == 302  # to the login page
    assert not NotificationMute.objects.exists()


# --- 6. one append-only mechanism for the audit and the request log ---------------------------------------------


def _audit_row():
    return AuditEntry.objects.create(field="dnd", old_value="a", new_value="b", outcome=AuditEntry.Outcome.APPLIED)


def _log_row(agents):
    james = agents["james"]
    asked = request_time_off(agent=james, start=ny(8), end=ny(9), tz="America/New_York", reason="", by=james.user)
    return RequestLogEntry.objects.get(request=asked)


@pytest.mark.parametrize(
    ("table", "make", "words"),
    [
        ("queues_auditentry", lambda agents: _audit_row(), "audit rows are append-only"),
        ("scheduler_requestlogentry", _log_row, "request log rows are append-only"),
    ],
)
def test_both_logs_refuse_change_by_the_same_mechanism_in_their_own_words(agents, table, make, words):
    row = make(agents)
    model = type(row)
    for attempt in (row.save, row.delete, lambda: model.objects.update(), lambda: model.objects.all().delete()):
        with pytest.raises(AppendOnlyError, match=words):
            attempt()
    for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):  # noqa: S608 - test constants
        with pytest.raises(DatabaseError, match=words), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert model.objects.filter(pk=row.pk).exists()
