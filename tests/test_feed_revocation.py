"""Calendar links can be listed and revoked in admin, and issuing a new link revokes the old one."""

from django.contrib.auth import get_user_model

from queues.models import Agent
from scheduler.feeds import feed_path, issue_feed
from scheduler.models import FeedToken

JAMES, MARIA = "111111111", "222222222"
CHANGELIST = "/admin/scheduler/feedtoken/"


def test_reissuing_a_link_revokes_the_old_one_with_410(demo, client):
    james = Agent.objects.get(provider_id=JAMES)
    old = issue_feed(agent=james)
    assert client.get(feed_path("agent", old)).status_code == 200
    new = issue_feed(agent=james)
    assert client.get(feed_path("agent", old)).status_code == 410
    assert client.get(feed_path("agent", new)).status_code == 200


def test_reissuing_leaves_other_agents_links_working(demo, client):
    maria = issue_feed(agent=Agent.objects.get(provider_id=MARIA))
    issue_feed(agent=Agent.objects.get(provider_id=JAMES))
    issue_feed(agent=Agent.objects.get(provider_id=JAMES))
    assert client.get(feed_path("agent", maria)).status_code == 200


def test_a_used_link_records_when_it_was_last_used(demo, client):
    token = issue_feed(agent=Agent.objects.get(provider_id=JAMES))
    assert FeedToken.objects.get().last_used_at is None
    client.get(feed_path("agent", token))
    assert FeedToken.objects.get().last_used_at is not None


def test_the_supervisor_lists_links_by_prefix_only_and_revokes_one(bob, client):
    token = issue_feed(agent=Agent.objects.get(provider_id=JAMES))
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    text = page.content.decode()
    assert "James Smith" in text and f"{token[:6]}…" in text
    assert token not in text and token[:10] not in text
    feed = FeedToken.objects.get()
    answer = client.post(CHANGELIST, {"action": "revoke", "_selected_action": [feed.pk]}, follow=True)
    assert "Revoked 1 calendar link" in answer.content.decode()
    assert client.get(feed_path("agent", token)).status_code == 410
    assert FeedToken.objects.get().revoked_at is not None


def test_links_are_never_added_or_deleted_in_admin(demo, client):
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    issue_feed(agent=Agent.objects.get(provider_id=JAMES))
    feed = FeedToken.objects.get()
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.get(f"{CHANGELIST}{feed.pk}/delete/").status_code == 403


def test_the_issue_action_still_shows_the_link_once(bob, client):
    james = Agent.objects.get(provider_id=JAMES)
    answer = client.post(
        "/admin/queues/agent/", {"action": "issue_calendar_feed", "_selected_action": [james.pk]}, follow=True
    )
    assert "older links are revoked" in answer.content.decode()
    assert "/feeds/agent/" in answer.content.decode()
