"""iCalendar feeds per agent and per queue, behind a secret token."""

from datetime import UTC, datetime

import pytest
import time_machine
from icalendar import Calendar

from queues.models import Agent, CallQueue
from scheduler.feeds import feed_path, issue_feed
from scheduler.models import FeedToken

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
