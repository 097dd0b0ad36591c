"""Both post limits (My queues: the audit; My schedule: the request log) measure the minute by the database's clock.

A minute is made to pass the only way the database's clock allows in a test: every row of the log is dated
in the past by the database itself, with the log's append-only guard lifted for that one update (inside the
test's transaction, so nothing outlives the test). The web process's clock is moved with time_machine, and
must change nothing.
"""

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType

import pytest
import time_machine
from django.db import connection
from django.db.models import Model, QuerySet
from django.db.models.functions import Now
from django.test import Client
from django.utils import timezone

from queues import audit_guard
from queues.models import AuditEntry
from scheduler.models import RequestLogEntry
from scheduler.receptionist.views import CHANGES_PER_MINUTE
from scheduler.requests import log_guard
from scheduler.requests.views import REQUESTS_PER_MINUTE
from tests.support.personas import link_receptionist

JAMES, MARIA = "111111111", "222222222"
_later_days = itertools.count(30)  # days from today, one per time-off post, so no two asks overlap


def act_for_a_colleague() -> dict[str, str]:
    """Refused (403), and audited."""
    return {"agent": MARIA, "status": "TakeAllCalls"}


def ask_for_a_day_off() -> dict[str, str]:
    """Waits for a supervisor (302), and logged."""
    return {"first_day": (timezone.localdate() + timedelta(days=next(_later_days))).isoformat()}


@dataclass(frozen=True)
class Page:
    log: type[Model]
    guard: ModuleType  # the log's append-only guard: remove() and install()
    limit: int
    url: str
    form: Callable[[], dict[str, str]]
    answer: int  # the status of a post the limit lets through
    title: str  # of the page a refusal sends the person back to


MY_QUEUES = Page(AuditEntry, audit_guard, CHANGES_PER_MINUTE, "/away/", act_for_a_colleague, 403, "My queues")
MY_SCHEDULE = Page(
    RequestLogEntry, log_guard, REQUESTS_PER_MINUTE, "/my-schedule/time-off/", ask_for_a_day_off, 302, "My schedule"
)


@pytest.fixture(params=[MY_QUEUES, MY_SCHEDULE], ids=["my queues", "my schedule"])
def page(request, demo) -> Page:
    return request.param


@pytest.fixture
def james(demo) -> Client:
    client = Client()
    client.force_login(link_receptionist(JAMES, "james"))
    return client


def post(client: Client, page: Page) -> int:
    return client.post(page.url, page.form()).status_code


def reach_the_limit(client: Client, page: Page) -> None:
    assert [post(client, page) for _ in range(page.limit)] == [page.answer] * page.limit
    assert page.log._default_manager.count() == page.limit


def age(page: Page, seconds: int) -> None:
    """Date every row of the log `seconds` ago by the database's clock, as if the posts had been made then."""
    page.guard.remove(connection)
    try:
        QuerySet(page.log).update(created_at=Now() - timedelta(seconds=seconds))
    finally:
        page.guard.install(connection)


@pytest.mark.parametrize(("seconds", "limited"), [(59, True), (61, False)])
def test_only_the_last_minute_by_the_database_clock_counts(page, james, seconds, limited):
    reach_the_limit(james, page)
    age(page, seconds)
    assert post(james, page) == (429 if limited else page.answer)


def test_a_process_clock_running_ahead_does_not_lift_the_limit(page, james):
    reach_the_limit(james, page)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert post(james, page) == 429


def test_a_process_clock_running_behind_does_not_tighten_the_limit(page, james):
    reach_the_limit(james, page)
    age(page, 61)
    with time_machine.travel(timezone.now() - timedelta(minutes=5)):
        assert post(james, page) == page.answer


def test_the_refusal_is_logged_with_the_login(page, james, caplog):
    reach_the_limit(james, page)
    with caplog.at_level(logging.WARNING, logger="scheduler.post_limit"):
        post(james, page)
    said = [r.getMessage() for r in caplog.records if r.name == "scheduler.post_limit"]
    user, counted_in = james.session["_auth_user_id"], page.log._meta.verbose_name_plural
    assert said == [f"user {user} refused (429): already {page.limit} posts in the last minute ({counted_in})"]


def test_the_refusal_sends_the_person_back_to_the_page_she_posted_from(page, james):
    reach_the_limit(james, page)
    refusal = james.post(page.url, page.form())
    assert refusal.status_code == 429
    back = {"My queues": "/", "My schedule": "/my-schedule/"}[page.title]
    assert f'try again from <a href="{back}">{page.title}</a>' in refusal.content.decode()
