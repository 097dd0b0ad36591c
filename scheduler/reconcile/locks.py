"""Database leases: one holder at a time per name, with an expiry kept fresh by a heartbeat.

Works on SQLite and PostgreSQL alike. Expiry is read and written with the database's clock,
never a process's: a process whose clock runs ahead must not see a live lease as lapsed. A
holder that is killed, or stuck past `max_hold`, stops renewing, so its leases lapse after
TTL instead of blocking for ever.

Runs lease the values they touch, not the installation: one lease per queue (its members'
queue status) and one per agent (her DnD), so runs on different queues never wait for each
other and two runs on the same queue take turns.

A holder that stalls (paused, swapped out, stuck past `max_hold`) can lose its leases to another
run while it still believes it holds them. So a run asks `Held.still_ours()` before each write, and
a listener is told (`on_lost`) when a renewal finds its lease taken, and stops.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Now

from scheduler.models import Lease

from .diff import Target

TTL = timedelta(seconds=30)
# Longer than any run is allowed to take (the reconcile task's hard time limit is 5 minutes):
# a holder stuck beyond this stops renewing, and the lease lapses TTL later.
MAX_HOLD = timedelta(minutes=10)


log = logging.getLogger(__name__)


class LeaseBusy(Exception):
    """Someone else holds the lease."""


@dataclass(frozen=True)
class Held:
    """Leases taken together by one holder."""

    holder: str
    names: tuple[str, ...]

    def still_ours(self) -> bool:
        """Whether every lease is this holder's and unexpired by the database's clock, so no one else can
        have taken it: one query, asked before each write."""
        live = Lease.objects.filter(holder=self.holder, name__in=self.names, expires_at__gt=Now())
        return live.count() == len(self.names)


def lease_names(provider: str, targets: Iterable[Target]) -> set[str]:
    """The leases guarding `targets`: a queue's for its members' status, an agent's for her DnD."""
    return {f"{provider}:agent:{t.agent_id}" if t.is_dnd else f"{provider}:queue:{t.queue_id}" for t in targets}


@contextmanager
def lease(
    name: str,
    *,
    wait: float = 10.0,
    ttl: timedelta = TTL,
    max_hold: timedelta = MAX_HOLD,
    on_lost: Callable[[], None] | None = None,
) -> Iterator[Held]:
    """Hold lease `name` for the block; LeaseBusy if it cannot be had within `wait` seconds."""
    with leases([name], wait=wait, ttl=ttl, max_hold=max_hold, on_lost=on_lost) as held:
        yield held


@contextmanager
def leases(
    names: Iterable[str],
    *,
    wait: float = 10.0,
    ttl: timedelta = TTL,
    max_hold: timedelta = MAX_HOLD,
    on_lost: Callable[[], None] | None = None,
) -> Iterator[Held]:
    """Hold every lease in `names` for the block, all or none; LeaseBusy if not had within `wait` seconds.

    All or none, never some while waiting for the rest, so two holders of overlapping sets cannot
    deadlock. One heartbeat renews them all until the block ends, or for at most `max_hold`, or
    until a renewal finds a lease taken by another holder: then it calls `on_lost`.
    """
    names = sorted(set(names))
    holder = uuid.uuid4().hex
    Lease.objects.bulk_create([Lease(name=n) for n in names], ignore_conflicts=True)
    deadline = time.monotonic() + wait
    while names and not _take(names, holder, ttl):
        if time.monotonic() >= deadline:
            raise LeaseBusy(", ".join(names[:3]) + (" ..." if len(names) > 3 else ""))
        time.sleep(0.05)
    stop = threading.Event()
    heartbeat = threading.Thread(target=_renew, args=(holder, len(names), ttl, max_hold, stop, on_lost), daemon=True)
    heartbeat.start()
    try:
        yield Held(holder, tuple(names))
    finally:
        stop.set()
        heartbeat.join()
        Lease.objects.filter(holder=holder).update(holder="", expires_at=None)


def _take(names: list[str], holder: str, ttl: timedelta) -> bool:
    """Take every lease in `names` if all are free; else take none."""
    with transaction.atomic():
        # Lock the rows in one order, so overlapping takers queue up instead of deadlocking in PostgreSQL.
        list(Lease.objects.select_for_update().filter(name__in=names).order_by("name").values_list("name"))
        free = Q(expires_at__isnull=True) | Q(expires_at__lt=Now())
        if Lease.objects.filter(free, name__in=names).update(holder=holder, expires_at=Now() + ttl) == len(names):
            return True
        transaction.set_rollback(True)
        return False


def _renew(
    holder: str,
    count: int,
    ttl: timedelta,
    max_hold: timedelta,
    stop: threading.Event,
    on_lost: Callable[[], None] | None,
):
    give_up = time.monotonic() + max_hold.total_seconds()
    try:
        while not stop.wait(ttl.total_seconds() / 3) and time.monotonic() < give_up:
            if Lease.objects.filter(holder=holder).update(expires_at=Now() + ttl) < count:
                log.warning("a lease lapsed and another holder took it: holder %s stops renewing", holder[:8])
                if on_lost is not None:
                    on_lost()
                return
    finally:
        connection.close()  # this thread's own connection
