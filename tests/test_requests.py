"""Agents' requests through scheduler/requests/services.py on the demo schedule (Support needs 2 agents)."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection, transaction
from django.db.utils import DatabaseError

from queues.models import Agent, AppendOnlyError, CallQueue, QueueMembership
from scheduler.models import (
    OccurrenceChange,
    OpenShift,
    RequestLogEntry,
    RequestRule,
    RequestStatus,
    Shift,
    TimeOff,
)
from scheduler.planning import desired_state
from scheduler.requests.coverage import coverage_effect, request_span, with_request
from scheduler.requests.services import (
    RequestError,
    accept_offer,
    claim_open_shift,
    decide_request,
    offer_occurrence,
    publish_open_shift,
    request_time_off,
    withdraw_request,
)
from scheduler.selectors import schedule_snapshot

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # Monday 07:00 in New York
TUESDAY = date(2026, 12, 1)
JAMES, MARIA, OLENA = "111111111", "222222222", "333333333"


def ny(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour + 5, minute, tzinfo=UTC)  # EST is UTC-5 in December


# Transactions commit for real: notices are sent after commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def rule_for_all_queues(**fields):
    for queue in CallQueue.objects.all():
        RequestRule.objects.create(queue=queue, **fields)


def test_a_day_off_shows_what_it_would_do_to_support_and_waits_for_a_supervisor(agents, boss):
    maria = agents["maria"]
    asked = request_time_off(agent=maria, start=ny(0), end=ny(0, day=2), tz="America/New_York", reason="dentist",
                             by=maria.user)  # fmt: skip
    assert asked.status == RequestStatus.PENDING
    effect = coverage_effect(asked)
    assert "Support would be 1 of 2 on Tue 01 Dec 08:00–12:00" in effect.lines
    assert "Support would be 0 of 2 on Tue 01 Dec 12:00–15:00" in effect.lines
    assert not effect.keeps
    entry = RequestLogEntry.objects.get(request=asked)
    assert (entry.action, entry.actor) == ("asked", maria.user)
    assert "Support would be 0 of 2" in entry.coverage
    assert [m.to for m in mail.outbox] == [["boss@example.com"]]
    assert "Maria Lopez: time off Tue 01 Dec 2026 00:00" in mail.outbox[0].subject


def test_approving_time_off_writes_it_with_who_asked_and_who_decided(agents, boss):
    maria = agents["maria"]
    asked = request_time_off(agent=maria, start=ny(0), end=ny(0, day=2), tz="America/New_York", reason="dentist",
                             by=maria.user)  # fmt: skip
    mail.outbox.clear()
    decide_request(request=asked, approve=True, note="get well", by=boss)
    off = TimeOff.objects.get(agent=maria, reason="dentist")
    assert (off.start, off.end) == (ny(0), ny(0, day=2))
    record = off.history.get()
    assert record.history_user == boss
    assert record.history_change_reason == f"request {asked.pk}: asked by maria, decided by boss"
    assert [e.action for e in RequestLogEntry.objects.filter(request=asked)] == ["asked", "approved"]
    assert [m.to for m in mail.outbox] == [["maria@example.com"]]
    assert "get well" in mail.outbox[0].body


def test_a_decided_request_cannot_be_decided_again_or_withdrawn(agents, boss):
    maria = agents["maria"]
    asked = request_time_off(agent=maria, start=ny(8), end=ny(9), tz="America/New_York", reason="", by=maria.user)
    decide_request(request=asked, approve=False, note="busy day", by=boss)
    with pytest.raises(RequestError, match="denied, not pending"):
        decide_request(request=asked, approve=True, note="", by=boss)
    with pytest.raises(RequestError, match="already denied"):
        withdraw_request(request=asked, agent=maria, by=maria.user)
    assert not TimeOff.objects.filter(agent=maria, start=ny(8)).exists()


def test_the_auto_rule_approves_a_request_that_keeps_coverage_and_leaves_one_that_does_not(agents, boss):
    rule_for_all_queues(auto_approve=True)
    CallQueue.objects.filter(name="Support").update(min_staff=1)
    james = agents["james"]
    # 08:00-09:00: Maria still staffs Support, and the Dr. Adams desk has not opened.
    kept = request_time_off(agent=james, start=ny(8), end=ny(9), tz="America/New_York", reason="", by=james.user)
    # 09:00-10:00: James is the Dr. Adams desk's only agent.
    short = request_time_off(agent=james, start=ny(9), end=ny(10), tz="America/New_York", reason="", by=james.user)
    assert kept.status == RequestStatus.APPROVED and kept.decided_by is None
    assert short.status == RequestStatus.PENDING
    assert "Dr. Adams would be 0 of 1 on Tue 01 Dec 09:00–10:00" in str(coverage_effect(short))
    assert list(TimeOff.objects.filter(agent=james).values_list("start", flat=True)) == [ny(8)]
    assert RequestLogEntry.objects.filter(request=kept).last().action == "approved by rule"


def test_time_off_in_the_past_or_ending_before_it_starts_is_refused_with_the_field(agents):
    james = agents["james"]
    with pytest.raises(RequestError) as refused:
        request_time_off(agent=james, start=ny(9), end=ny(8), tz="America/New_York", reason="", by=james.user)
    assert refused.value.field == "end"
    with pytest.raises(RequestError) as refused:
        past = datetime(2026, 11, 1, tzinfo=UTC)
        request_time_off(agent=james, start=past, end=ny(8), tz="America/New_York", reason="", by=james.user)
    assert refused.value.field == "start"


def test_a_trade_needs_the_colleagues_acceptance_then_a_supervisor_and_changes_one_occurrence(agents, boss):
    maria, olena = agents["maria"], agents["olena"]
    mornings = Shift.objects.get(name="Support mornings")
    offer = offer_occurrence(agent=maria, shift=mornings, occurrence=TUESDAY, colleague=olena, reason="school run",
                             by=maria.user)  # fmt: skip
    assert offer.status == RequestStatus.AWAITING_COLLEAGUE
    assert [m.to for m in mail.outbox] == [["olena@example.com"]]
    with pytest.raises(RequestError):
        decide_request(request=offer, approve=True, note="", by=boss)
    with pytest.raises(RequestError, match="not yours"):
        accept_offer(request=offer, agent=agents["james"], by=agents["james"].user)
    accepted = accept_offer(request=offer, agent=olena, by=olena.user)
    assert accepted.status == RequestStatus.PENDING
    assert "Every queue it touches stays at or above its min staff." in str(coverage_effect(accepted))
    mail.outbox.clear()
    decide_request(request=accepted, approve=True, note="", by=boss)
    change = OccurrenceChange.objects.get()
    assert (change.shift, change.occurrence) == (mornings, TUESDAY)
    assert list(change.absent.all()) == [maria] and list(change.covering.all()) == [olena]
    assert change.history.first().history_user == boss
    assert sorted(m.to[0] for m in mail.outbox) == ["maria@example.com", "olena@example.com"]


def test_an_offer_to_anyone_goes_to_every_eligible_colleague_and_the_first_to_accept_takes_it(agents, boss):
    maria, olena = agents["maria"], agents["olena"]
    mornings = Shift.objects.get(name="Support mornings")
    offer = offer_occurrence(agent=maria, shift=mornings, occurrence=TUESDAY, colleague=None, reason="",
                             by=maria.user)  # fmt: skip
    assert [m.to for m in mail.outbox] == [["olena@example.com"]]  # James is on the shift already
    accept_offer(request=offer, agent=olena, by=olena.user)
    offer.refresh_from_db()
    assert offer.colleague == olena


def test_an_offer_of_a_day_the_shift_does_not_run_names_the_field(agents):
    maria = agents["maria"]
    with pytest.raises(RequestError) as refused:
        offer_occurrence(agent=maria, shift=Shift.objects.get(name="Support mornings"), occurrence=date(2026, 12, 5),
                         colleague=None, reason="", by=maria.user)  # fmt: skip
    assert refused.value.field == "occurrence"
    assert "does not run on 2026-12-05" in refused.value.message


def test_a_pending_request_can_be_withdrawn_and_frees_its_open_seat(agents, boss):
    olena = agents["olena"]
    seat = publish_open_shift(shift=Shift.objects.get(name="Support mornings"), occurrence=TUESDAY, seats=1, by=boss)
    claim = claim_open_shift(open_shift=seat, agent=olena, by=olena.user)
    assert claim.status == RequestStatus.PENDING
    seat.refresh_from_db()
    assert seat.free == 0
    withdraw_request(request=claim, agent=olena, by=olena.user)
    seat.refresh_from_db()
    assert seat.free == 1
    assert [e.action for e in RequestLogEntry.objects.filter(request=claim)] == ["asked", "withdrawn"]


def test_a_claim_without_approval_is_the_schedule_at_once_first_come_first_served(agents, boss):
    rule_for_all_queues(claims_need_approval=False)
    olena = agents["olena"]
    seat = publish_open_shift(shift=Shift.objects.get(name="Support mornings"), occurrence=TUESDAY, seats=1, by=boss)
    claim = claim_open_shift(open_shift=seat, agent=olena, by=olena.user)
    assert claim.status == RequestStatus.APPROVED
    assert list(OccurrenceChange.objects.get().covering.all()) == [olena]
    with pytest.raises(RequestError, match="every seat is taken"):
        claim_open_shift(open_shift=seat, agent=olena, by=olena.user)


def test_one_agent_holds_one_seat_however_often_she_claims(agents, boss):
    olena = agents["olena"]
    seat = publish_open_shift(shift=Shift.objects.get(name="Support mornings"), occurrence=TUESDAY, seats=3, by=boss)
    claim_open_shift(open_shift=seat, agent=olena, by=olena.user)
    with pytest.raises(RequestError, match="already hold a seat"):
        claim_open_shift(open_shift=seat, agent=olena, by=olena.user)
    seat.refresh_from_db()
    assert seat.taken == 1


def test_request_log_rows_are_append_only_in_code_and_in_the_database(agents):
    james = agents["james"]
    asked = request_time_off(agent=james, start=ny(8), end=ny(9), tz="America/New_York", reason="", by=james.user)
    entry = RequestLogEntry.objects.get(request=asked)
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        RequestLogEntry.objects.all().delete()
    for sql in ("UPDATE scheduler_requestlogentry SET note = 'x'", "DELETE FROM scheduler_requestlogentry"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql)
    assert OpenShift.objects.count() == 0


def test_a_claim_on_an_already_changed_occurrence_keeps_that_change_in_its_coverage_effect(agents, boss):
    maria, olena = agents["maria"], agents["olena"]
    mornings = Shift.objects.get(name="Support mornings")
    change = OccurrenceChange.objects.create(shift=mornings, occurrence=TUESDAY)
    change.absent.add(maria)
    change.covering.add(olena)
    ana = Agent.objects.create(provider_id="444444444", name="Ana Ruiz", user=User.objects.create_user("ana"))
    QueueMembership.objects.create(queue=CallQueue.objects.get(name="Support"), agent=ana)
    seat = publish_open_shift(shift=mornings, occurrence=TUESDAY, seats=1, by=boss)
    claim = claim_open_shift(open_shift=seat, agent=ana, by=ana.user)
    start, end = request_span(claim)
    assert (start, end) == (ny(8), ny(12))
    state = desired_state(with_request(schedule_snapshot(start=start, end=end), claim), ny(9))
    support = "1081167000"
    assert [state.accept.get((support, a)) for a in (JAMES, MARIA, OLENA, "444444444")] == [
        True,
        False,
        True,
        True,
    ]
