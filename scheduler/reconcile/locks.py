"""A database lease: one holder at a time, with an expiry kept fresh by a heartbeat.

Works on SQLite and PostgreSQL alike (one conditional UPDATE). Expiry is read and written
with the database's clock, never a process's: a process whose clock runs ahead must not see
a live lease as lapsed. A holder that is killed, or stuck past `max_hold`, stops renewing,
so its lease lapses after TTL instead of blocking for ever.
"""

import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, connection
from django.db.models import Q
from django.db.models.functions import Now

from scheduler.models import Lease

TTL = timedelta(seconds=30)
# Longer than any run is allowed to take (the reconcile task's hard time limit is 5 minutes):
# a holder stuck beyond this stops renewing, and the lease lapses TTL later.
MAX_HOLD = timedelta(minutes=10)
RECONCILE = "reconcile"  # the lease of reconcile runs and of overrides being written


class LeaseBusy(Exception):
    """Someone else holds the lease."""


@contextmanager
def lease(name: str, *, wait: float = 10.0, ttl: timedelta = TTL, max_hold: timedelta = MAX_HOLD):
    """Hold lease `name` for the block; LeaseBusy if it cannot be had within `wait` seconds.

    The heartbeat renews it until the block ends, or for at most `max_hold`.
    """
    holder = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while not _take(name, holder, ttl):
        if time.monotonic() >= deadline:
            raise LeaseBusy(name)
        time.sleep(0.05)
    stop = threading.Event()
    heartbeat = threading.Thread(target=_renew, args=(name, holder, ttl, max_hold, stop), daemon=True)
    heartbeat.start()
    try:
        yield
    finally:
        stop.set()
        heartbeat.join()
        Lease.objects.filter(name=name, holder=holder).update(holder="", expires_at=None)


def _take(name: str, holder: str, ttl: timedelta) -> bool:
    try:
        Lease.objects.get_or_create(name=name)
    except IntegrityError:
        pass  # created by a concurrent first taker
    free = Q(expires_at__isnull=True) | Q(expires_at__lt=Now())
    return Lease.objects.filter(free, name=name).update(holder=holder, expires_at=Now() + ttl) == 1


def _renew(name: str, holder: str, ttl: timedelta, max_hold: timedelta, stop: threading.Event):
    give_up = time.monotonic() + max_hold.total_seconds()
    try:
        while not stop.wait(ttl.total_seconds() / 3) and time.monotonic() < give_up:
            Lease.objects.filter(name=name, holder=holder).update(expires_at=Now() + ttl)
    finally:
        connection.close()  # this thread's own connection
