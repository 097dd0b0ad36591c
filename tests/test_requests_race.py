"""The last open seat, claimed by two agents at once: exactly one gets it.

Meant for PostgreSQL (DATABASE_URL=postgres://...), where the two claims really overlap; on SQLite the
writes are serialised by the database lock and the test still holds.
"""

import threading
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection

from queues.models import Agent, CallQueue, QueueMembership
from scheduler.models import OpenShift, RequestKind, ScheduleRequest, Shift
from scheduler.requests.services import RequestError, claim_open_shift, publish_open_shift

ROUNDS = 8


@pytest.fixture
def claimers(demo):
    olena = Agent.objects.get(provider_id="333333333")
    olena.user = User.objects.create_user("olena")
    olena.save()
    ana = Agent.objects.create(provider_id="444444444", name="Ana Ruiz", user=User.objects.create_user("ana"))
    QueueMembership.objects.create(queue=CallQueue.objects.get(name="Support"), agent=ana)
    return [olena, ana]


@pytest.mark.django_db(transaction=True)
@time_machine.travel(datetime(2026, 11, 30, 12, 0, tzinfo=UTC), tick=False)
def test_two_agents_claiming_the_last_seat_at_once_exactly_one_gets_it(claimers):
    boss = User.objects.create_user("boss")
    mornings = Shift.objects.get(name="Support mornings")
    days = [date(2026, 12, d) for d in (1, 2, 3, 4, 7, 8, 9, 10)][:ROUNDS]
    seats = [publish_open_shift(shift=mornings, occurrence=day, seats=1, by=boss) for day in days]
    refused: list[str] = []

    def claim(agent: Agent, start: threading.Barrier):
        assert agent.user is not None  # claimers links both to a login
        try:
            for seat in seats:
                start.wait(timeout=30)
                try:
                    claim_open_shift(open_shift=seat, agent=agent, by=agent.user)
                except RequestError as error:
                    refused.append(error.message)
        finally:
            connection.close()

    start = threading.Barrier(len(claimers))
    threads = [threading.Thread(target=claim, args=(agent, start)) for agent in claimers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    for seat in OpenShift.objects.all():
        assert seat.taken == 1
        assert ScheduleRequest.objects.filter(open_shift=seat, kind=RequestKind.CLAIM).count() == 1
    assert refused == ["every seat is taken: look for another open shift"] * ROUNDS
