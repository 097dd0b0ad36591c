"""A receptionist's posts are bounded: CHANGES_PER_MINUTE audited posts a minute, and posted text quoted briefly.

Which minute counts (the database's, not the web process's) is tested for both post limits in test_post_limit.py.
"""

import pytest
from django.test import Client

from queues.models import AuditEntry, Override
from scheduler.receptionist.views import CHANGES_PER_MINUTE, QUOTED_LENGTH
from tests.support.personas import link_receptionist

JAMES, MARIA, SUPPORT = "111111111", "222222222", "1081167000"


@pytest.fixture
def james(demo):
    client = Client()
    client.force_login(link_receptionist(JAMES, "james"))
    return client


def refused_posts(client: Client, count: int, agent: str = MARIA) -> list[int]:
    return [client.post("/away/", {"agent": agent, "status": "TakeAllCalls"}).status_code for _ in range(count)]


def test_refused_attempts_stop_writing_audit_rows_after_the_limit(james):
    statuses = refused_posts(james, CHANGES_PER_MINUTE + 5)
    assert statuses == [403] * CHANGES_PER_MINUTE + [429] * 5
    assert AuditEntry.objects.count() == CHANGES_PER_MINUTE


def test_the_limit_answers_in_words_and_places_nothing(demo_emulator, point_app_at, james):
    point_app_at(demo_emulator)
    refused_posts(james, CHANGES_PER_MINUTE)
    demo_emulator.clear_requests()
    answer = james.post("/toggle/", {"agent": JAMES, "queue": SUPPORT, "accept": "off"})
    assert answer.status_code == 429
    assert f"You have made {CHANGES_PER_MINUTE} changes in the last minute" in answer.content.decode()
    assert not Override.objects.exists()
    assert AuditEntry.objects.count() == CHANGES_PER_MINUTE
    assert [r for r in demo_emulator.requests() if r["method"] == "PUT"] == []


def test_one_receptionists_limit_does_not_stop_another(demo, james):
    refused_posts(james, CHANGES_PER_MINUTE)
    maria = Client()
    maria.force_login(link_receptionist(MARIA, "maria"))
    assert refused_posts(maria, 1, agent=JAMES) == [403]


def test_posted_text_is_quoted_briefly_without_control_characters(james):
    hostile = "\x00\x1b[31m" + "A" * 5000 + "\u202e\r\n"
    james.post("/toggle/", {"agent": hostile, "queue": SUPPORT, "accept": "\x07on" + "B" * 500})
    entry = AuditEntry.objects.get()
    assert len(entry.error_message) <= len("james tried to act for agent ''") + QUOTED_LENGTH
    assert len(entry.new_value) <= QUOTED_LENGTH
    for text in (entry.error_message, entry.new_value):
        assert not any(c in text for c in "\x00\x1b\x07\r\n\u202e")
