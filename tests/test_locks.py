"""The reconcile lease: one holder at a time, on the database's clock, never held for ever."""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db.models.functions import Now
from django.utils import timezone

from scheduler.models import Lease
from scheduler.reconcile.locks import LeaseBusy, lease

SKEW = timedelta(seconds=60)


def take_now(name: str = "reconcile"):
    """Try to take the lease at once, as a second process would."""
    with lease(name, wait=0):
        pass


@pytest.mark.django_db
def test_a_process_whose_clock_runs_ahead_cannot_take_a_live_lease():
    with lease("reconcile"):
        with time_machine.travel(timezone.now() + SKEW), pytest.raises(LeaseBusy):
            take_now()


@pytest.mark.django_db
def test_a_holder_whose_clock_runs_behind_still_holds_its_lease():
    with time_machine.travel(timezone.now() - SKEW), lease("reconcile"):
        with time_machine.travel(timezone.now() + SKEW), pytest.raises(LeaseBusy):
            take_now()  # a process on the right time


@pytest.mark.django_db
def test_the_lease_expires_by_the_databases_clock_whatever_the_process_thinks():
    with time_machine.travel(timezone.now() + SKEW), lease("reconcile", ttl=timedelta(seconds=30)):
        held = Lease.objects.get(name="reconcile").expires_at
    assert held is not None
    real = timezone.now()
    assert real + timedelta(seconds=25) < held < real + timedelta(seconds=35)  # not a minute later


@pytest.mark.django_db
def test_a_released_lease_is_free_at_once():
    with lease("reconcile"):
        pass
    take_now()
    assert Lease.objects.get(name="reconcile").holder == ""


@pytest.mark.django_db(transaction=True)  # the heartbeat renews from its own thread and connection
def test_a_holder_stuck_past_the_maximum_hold_stops_renewing_and_the_lease_lapses():
    ttl, max_hold = timedelta(seconds=1), timedelta(seconds=2)
    with lease("reconcile", ttl=ttl, max_hold=max_hold):
        time.sleep(1.5)  # past the first TTL: only the heartbeat's renewals keep it
        with pytest.raises(LeaseBusy):
            take_now()
        with lease("reconcile", wait=10):  # the stuck holder gave up renewing; a second holder gets it
            pass


@pytest.mark.django_db
def test_a_holder_knows_when_its_lease_is_no_longer_its_own():
    with lease("reconcile") as held:
        assert held.still_ours()
        Lease.objects.filter(name="reconcile").update(expires_at=Now() - timedelta(seconds=1))
        assert not held.still_ours()  # lapsed by the database's clock: another may take it any moment
        Lease.objects.filter(name="reconcile").update(holder="another", expires_at=Now() + timedelta(seconds=30))
        assert not held.still_ours()
    assert Lease.objects.get(name="reconcile").holder == "another"  # releasing never frees another's lease


@pytest.mark.django_db(transaction=True)  # the heartbeat renews from its own thread and connection
def test_a_holder_is_told_when_a_renewal_finds_its_lease_taken():
    lost = threading.Event()
    with lease("listener", ttl=timedelta(seconds=0.6), on_lost=lost.set):
        Lease.objects.filter(name="listener").update(holder="another", expires_at=Now() + timedelta(seconds=30))
        assert lost.wait(timeout=5)
    assert Lease.objects.get(name="listener").holder == "another"
