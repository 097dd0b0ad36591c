"""iCalendar feeds per agent and per queue, behind a secret token."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from icalendar import Calendar

from queues.models import Agent, CallQueue
from scheduler.feeds import feed_path, issue_feed
from scheduler.models import FeedToken, OccurrenceChange, Shift

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def events(response) -> list:
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content).walk("VEVENT")


@time_machine.travel(NOW, tick=False)
def test_an_agents_feed_parses_back_with_their_shifts_and_time_off(demo, client):
    maria = Agent.objects.get(provider_id="222222222")
    found = events(client.get(feed_path("agent", issue_feed(agent=maria))))
    morning = [e for e in found if e["dtstart"].dt == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)]
    assert [str(e["summary"]) for e in morning] == ["Support mornings (Support)"]
    assert morning[0]["dtend"].dt == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    assert any(str(e["summary"]) == "Time off: Holiday" for e in found)
    assert len({str(e["uid"]) for e in found}) == len(found)  # UIDs are unique, so calendars update in place


@time_machine.travel(NOW, tick=False)
def test_a_queues_feed_names_the_agents_on_each_shift(demo, client):
    support = CallQueue.objects.get(provider_id="1081167000")
    found = events(client.get(feed_path("queue", issue_feed(queue=support))))
    summaries = {str(e["summary"]) for e in found}
    assert "Support mornings: James Smith, Maria Lopez" in summaries
    assert "Support night (Kyiv): Olena Kovalenko" in summaries
    assert not any("Dr. Adams" in s for s in summaries)


@pytest.mark.parametrize("kind", ["agent", "queue"])
def test_a_wrong_token_is_404(demo, client, kind):
    issue_feed(agent=Agent.objects.first())
    assert client.get(feed_path(kind, "not-the-token")).status_code == 404


def test_an_agent_token_does_not_open_a_queue_feed(demo, client):
    token = issue_feed(agent=Agent.objects.first())
    assert client.get(feed_path("queue", token)).status_code == 404


def test_only_the_tokens_digest_is_stored(demo):
    token = issue_feed(agent=Agent.objects.first())
    assert not FeedToken.objects.filter(digest__contains=token).exists()
    assert len(FeedToken.objects.get().digest) == 64


def _support_mornings_change(day, **fields):
    return OccurrenceChange.objects.create(shift=Shift.objects.get(name="Support mornings"), occurrence=day, **fields)


@time_machine.travel(NOW, tick=False)
def test_an_agents_feed_shows_the_occurrence_she_covers_and_not_the_one_she_sits_out(demo, client):
    james, olena = Agent.objects.get(provider_id="111111111"), Agent.objects.get(provider_id="333333333")
    change = _support_mornings_change(date(2026, 12, 2), reason="dentist")
    change.absent.set([james])
    change.covering.set([olena])
    olenas = events(client.get(feed_path("agent", issue_feed(agent=olena))))
    covered = [e for e in olenas if e["dtstart"].dt == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)]
    assert [str(e["summary"]) for e in covered] == ["Support mornings (Support) (changed: dentist)"]
    assert covered[0]["sequence"] == 1
    assert str(covered[0]["uid"]) == "shift-Support-mornings-2026-12-02-agent-333333333@callrota"
    assert "recurrence-id" not in covered[0]  # no master event: an orphaned override is hidden by some clients
    james_starts = {e["dtstart"].dt for e in events(client.get(feed_path("agent", issue_feed(agent=james))))}
    assert datetime(2026, 12, 2, 13, 0, tzinfo=UTC) not in james_starts
    assert datetime(2026, 12, 3, 13, 0, tzinfo=UTC) in james_starts


@time_machine.travel(NOW, tick=False)
def test_a_queues_feed_omits_a_cancelled_occurrence_and_moves_a_moved_one_keeping_its_uid(demo, client):
    _support_mornings_change(date(2026, 12, 2), cancelled=True)
    _support_mornings_change(
        date(2026, 12, 3), start=datetime(2026, 12, 3, 18, 0, tzinfo=UTC), end=datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
    )
    support = CallQueue.objects.get(provider_id="1081167000")
    found = events(client.get(feed_path("queue", issue_feed(queue=support))))
    mornings = {str(e["uid"]): e for e in found if str(e["summary"]).startswith("Support mornings")}
    assert "shift-Support-mornings-2026-12-02-queue-1081167000@callrota" not in mornings
    moved = mornings["shift-Support-mornings-2026-12-03-queue-1081167000@callrota"]
    assert (moved["dtstart"].dt, moved["dtend"].dt) == (
        datetime(2026, 12, 3, 18, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 22, 0, tzinfo=UTC),
    )
    assert str(moved["summary"]) == "Support mornings: James Smith, Maria Lopez (changed)"
    assert "shift-Support-mornings-2026-12-04-queue-1081167000@callrota" in mornings
