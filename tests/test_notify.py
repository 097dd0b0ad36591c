"""Notifications: email through Django's backend, RingCentral Team Messaging through the emulator, mutes."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail

from integrations.base import ProviderError
from integrations.ringcentral.emulator import TEAM_CHAT_ID
from queues.models import Agent
from scheduler.models import NotificationMute, OccurrenceChange, Shift
from scheduler.notify import channels, notify
from scheduler.periodic import ENTRIES
from scheduler.requests.notices import remind_changed_shifts


@pytest.fixture
def ana(db):
    return User.objects.create_user("ana", email="ana@example.com", first_name="Ana", last_name="Ruiz")


def test_email_is_the_only_channel_until_a_team_chat_is_configured(settings):
    settings.RC_TEAM_MESSAGING_CHAT_ID = ""
    assert [c.name for c in channels()] == ["email"]
    settings.RC_TEAM_MESSAGING_CHAT_ID = TEAM_CHAT_ID
    assert [c.name for c in channels()] == ["email", "team_messaging"]


def test_a_configured_team_chat_gets_one_post_through_the_ringcentral_client(
    ana, demo_emulator, point_app_at, settings
):
    point_app_at(demo_emulator)
    settings.RC_TEAM_MESSAGING_CHAT_ID = TEAM_CHAT_ID
    notify(users=[ana], subject="Request approved", body="Tue 01 Dec is yours off.")
    [post] = demo_emulator.posts(TEAM_CHAT_ID)
    assert post["text"] == "For Ana Ruiz: **Request approved**\nTue 01 Dec is yours off."
    assert post["type"] == "TextMessage"
    [sent] = [r for r in demo_emulator.requests() if r["method"] == "POST" and "team-messaging" in r["path"]]
    assert (sent["path"], sent["status"], sent["group"]) == (f"/team-messaging/v1/chats/{TEAM_CHAT_ID}/posts", 201,
                                                            "medium")  # fmt: skip
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]


def test_a_muted_channel_is_skipped_for_that_person_only(ana, demo_emulator, point_app_at, settings):
    point_app_at(demo_emulator)
    settings.RC_TEAM_MESSAGING_CHAT_ID = TEAM_CHAT_ID
    bea = User.objects.create_user("bea", email="bea@example.com")
    NotificationMute.objects.create(user=ana, channel="email")
    NotificationMute.objects.create(user=bea, channel="team_messaging")
    notify(users=[ana, bea], subject="Hello", body="")
    assert [m.to for m in mail.outbox] == [["bea@example.com"]]
    assert [p["text"] for p in demo_emulator.posts(TEAM_CHAT_ID)] == ["For Ana Ruiz: **Hello**\n"]


def test_an_unknown_chat_fails_that_channel_only(ana, demo_emulator, point_app_at, settings, caplog):
    point_app_at(demo_emulator)
    settings.RC_TEAM_MESSAGING_CHAT_ID = "999"
    notify(users=[ana], subject="Hello", body="")
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]
    assert "notification by team_messaging failed: Hello" in caplog.text


def test_a_long_text_is_cut_to_the_post_limit_and_an_empty_one_is_refused(demo_emulator, demo_rc):
    demo_rc.post_to_chat(TEAM_CHAT_ID, "x" * 10_001)
    assert [len(p["text"]) for p in demo_emulator.posts(TEAM_CHAT_ID)] == [10_000]
    with pytest.raises(ProviderError) as refused:
        demo_rc.post_to_chat(TEAM_CHAT_ID, "")
    assert refused.value.status == 400
    assert len(demo_emulator.posts(TEAM_CHAT_ID)) == 1


@pytest.mark.parametrize(
    ("now", "told"),
    [
        (datetime(2026, 11, 30, 15, 7, tzinfo=UTC), 2),  # Monday 10:07 in New York: Tuesday's change is tomorrow
        (datetime(2026, 11, 29, 15, 7, tzinfo=UTC), 0),  # Sunday: two days ahead
        (datetime(2026, 12, 1, 15, 7, tzinfo=UTC), 0),  # the day itself
    ],
)
def test_the_day_before_a_changed_occurrence_its_agents_are_told(demo, now, told):
    maria, olena = Agent.objects.get(provider_id="222222222"), Agent.objects.get(provider_id="333333333")
    for agent, name in ((maria, "maria"), (olena, "olena")):
        agent.user = User.objects.create_user(name, email=f"{name}@example.com")
        agent.save()
    change = OccurrenceChange.objects.create(
        shift=Shift.objects.get(name="Support mornings"), occurrence=date(2026, 12, 1)
    )
    change.absent.add(maria)
    change.covering.add(olena)
    with time_machine.travel(now, tick=False):
        assert remind_changed_shifts(now=now) == told
    subjects = sorted(m.subject for m in mail.outbox)
    if told:
        assert subjects == ["Tomorrow you are off: Support mornings on Tue 01 Dec",
                            "Tomorrow you work: Support mornings on Tue 01 Dec"]  # fmt: skip


def test_the_reminder_is_a_daily_beat_entry():
    assert ENTRIES["requests: tomorrow's changed shifts"][0] == "scheduler.tasks.remind_tomorrows_changes"
