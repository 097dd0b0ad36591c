"""The My queues page while the listener's session is live: what it heard is shown, nothing is read."""

from queues.heard import dnd_heard, queue_presence_heard, session_started
from queues.models import Agent, QueueMembership
from scheduler.receptionist import selectors

from . import test_receptionist_views as views
from .test_receptionist_views import JAMES

# The same fixtures: James's receptionist login, the emulator matching the schedule on a Tuesday morning.
emulator, rc, tuesday_morning, james = views.emulator, views.rc, views.tuesday_morning, views.james


def hear_everything_of(agent_id: str) -> None:
    """The listener's session starts, and it hears the agent's status in each of her queues and her DnD."""
    session_started("ringcentral")
    for m in QueueMembership.objects.filter(agent__provider_id=agent_id).select_related("queue"):
        queue_presence_heard("ringcentral", m.queue.provider_id, {agent_id: bool(m.accepting)})
    dnd_heard("ringcentral", agent_id, Agent.objects.get(provider_id=agent_id).dnd_status, sequence=None)


def test_a_live_session_shows_what_it_heard_without_reading_the_provider(
    tuesday_morning,
    james,
    emulator,
    monkeypatch,
):
    hear_everything_of(JAMES)
    monkeypatch.setattr(selectors, "LIVE_TIMEOUT", 0.3)
    emulator.configure(latency=1.0)  # a read now would miss the page's timeout and fall back
    emulator.clear_requests()
    page = james.get("/").content.decode()
    emulator.configure(latency=0)
    assert "Last known" not in page and "did not answer in time" not in page
    assert "Stop taking Support calls" in page
    assert emulator.requests() == []


def test_without_a_live_session_the_page_reads_the_provider(tuesday_morning, james, emulator):
    emulator.clear_requests()
    page = james.get("/").content.decode()
    assert "Last known" not in page
    assert sorted(r["path"].rsplit("/", 1)[1] for r in emulator.requests()) == ["call-queue-presence", "presence"]
