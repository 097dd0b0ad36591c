"""A database lease: one holder at a time, with an expiry kept fresh by a heartbeat.

Works on SQLite and PostgreSQL alike (one conditional UPDATE), and a holder that is
killed stops renewing, so its lease lapses after TTL instead of blocking for ever.
"""

import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, connection
from django.db.models import Q
from django.utils import timezone

from scheduler.models import Lease

TTL = timedelta(seconds=30)
RECONCILE = "reconcile"  # the lease of reconcile runs and of overrides being written


class LeaseBusy(Exception):
    """Someone else holds the lease."""


@contextmanager
def lease(name: str, *, wait: float = 10.0, ttl: timedelta = TTL):
    """Hold lease `name` for the block; LeaseBusy if it cannot be had within `wait` seconds."""
    holder = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while not _take(name, holder, ttl):
        if time.monotonic() >= deadline:
            raise LeaseBusy(name)
        time.sleep(0.05)
    stop = threading.Event()
    heartbeat = threading.Thread(target=_renew, args=(name, holder, ttl, stop), daemon=True)
    heartbeat.start()
    try:
        yield
    finally:
        stop.set()
        heartbeat.join()
        Lease.objects.filter(name=name, holder=holder).update(holder="", expires_at=None)


def _take(name: str, holder: str, ttl: timedelta) -> bool:
    now = timezone.now()
    try:
        Lease.objects.get_or_create(name=name)
    except IntegrityError:
        pass  # created by a concurrent first taker
    free = Q(expires_at__isnull=True) | Q(expires_at__lt=now)
    return Lease.objects.filter(free, name=name).update(holder=holder, expires_at=now + ttl) == 1


def _renew(name: str, holder: str, ttl: timedelta, stop: threading.Event):
    try:
        while not stop.wait(ttl.total_seconds() / 3):
            Lease.objects.filter(name=name, holder=holder).update(expires_at=timezone.now() + ttl)
    finally:
        connection.close()  # this thread's own connection
