"""What the listener hears, put to use: stored as the actual state, and drift put back in seconds.

A heard value that differs from what the last run planned starts a correction scoped to that
one value, through the reconciler's one write path. Values are collected for DEBOUNCE seconds
and sent as one task, so a burst of events (or a flip and a flip back) costs one run. A value
that equals the plan (an echo of Callrota's own write) changes nothing. Drift on a queue that
does not enforce is noted once in the audit, when it first appears, as a run would note it.

A new session's re-read (hundreds of paced reads, minutes at full scale) runs in a thread of its
own, so the listener keeps its session alive and its events handled meanwhile; what each read
stored is handed back and considered on the listener's thread, between messages.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable

from django.db import connection

from integrations.base import Provider
from queues import heard as store
from queues.heard import Heard

from .apply import audit_noted
from .diff import DRIFT_NOTED, Change, Target
from .memory import Directory

log = logging.getLogger(__name__)

DEBOUNCE = 1.0  # seconds heard values wait, so several events for a value make one correction
ALIVE_EVERY = 2.0  # seconds between writes of the session's last-message time


class HeardSink:
    """The listener's sink for one provider: `enqueue` receives [[agent id, queue id or ""], ...] to correct."""

    def __init__(self, provider: Provider, *, enqueue: Callable[[list[list[str]]], object], listener: str = ""):
        self.provider, self.enqueue = provider, enqueue
        self.listener = listener  # whose session it is: the listener lease's holder
        self.pending: dict[Target, float] = {}  # target -> when its drift was first heard
        self._alive_at = 0.0
        self.rereading: Reread | None = None  # the last session's re-read (cancelled, or done, once it is over)

    def queues(self) -> set[str]:
        return store.listened_queues(self.provider.name)

    def started(self) -> None:
        """Record the new session and re-read what it may have missed, in the background."""
        self._stop_rereading()
        store.session_started(self.provider.name, listener=self.listener)
        self.rereading = Reread(self.provider)

    def recovered(self) -> None:
        store.session_recovered(self.provider.name, listener=self.listener)

    def dropped(self) -> None:
        self._stop_rereading()
        store.session_dropped(self.provider.name, listener=self.listener)

    def alive(self) -> None:
        if time.monotonic() - self._alive_at >= ALIVE_EVERY:
            self._alive_at = time.monotonic()
            store.session_heard_from(self.provider.name, listener=self.listener)

    def queue_presence(self, queue_id: str, accept: dict[str, bool]) -> None:
        self._consider(store.queue_presence_heard(self.provider.name, queue_id, accept))

    def presence(self, extension_id: str, dnd_status: str, sequence: int | None) -> None:
        found = store.dnd_heard(self.provider.name, extension_id, dnd_status, sequence=sequence)
        self._consider([found] if found else [])

    def tick(self) -> None:
        """Consider what the re-read stored since; send the corrections whose values have waited DEBOUNCE
        seconds, as one task."""
        # What a cancelled re-read stored belongs to a session that is over: the next session's re-read, or
        # the recovered session's events, tell what is true now.
        while self.rereading and not self.rereading.cancelled.is_set() and not self.rereading.found.empty():
            self._consider(self.rereading.found.get(), read=True)
        if not self.pending or time.monotonic() - min(self.pending.values()) < DEBOUNCE:
            return
        # A run that wrote the value may have planned it only after its echo was heard.
        drifted = store.still_drifted(self.provider.name, ((t.agent_id, t.queue_id) for t in self.pending))
        self.pending.clear()
        if drifted:
            log.info("listener: correcting %d drifted values", len(drifted))
            self.enqueue([list(pair) for pair in sorted(drifted)])

    def _stop_rereading(self) -> None:
        """A re-read of a session that is over reads for nothing: it stops after its current read."""
        if self.rereading:
            self.rereading.cancel()

    def _consider(self, heard: list[Heard], *, read: bool = False) -> None:
        """Queue each drifted value for correction; note drift a queue leaves alone; forget what was put back.

        What the re-read stored (`read`) reaches here after a delay, maybe after an event's newer drift
        of the same value: it never forgets one (`tick` checks again what is still drifted before sending).
        """
        noted = []
        for h in heard:
            target = Target(h.agent_id, h.queue_id)
            if h.planned is None or h.value == h.planned:
                if not read:
                    self.pending.pop(target, None)  # an echo of our own write, or a value put back already
            elif h.enforce:
                self.pending.setdefault(target, time.monotonic())
            elif h.value != h.before:
                noted.append(Change(target, h.value, h.planned, DRIFT_NOTED, outcome="skipped"))
        if noted:
            directory = Directory.load(self.provider.name, [c.target for c in noted])
            audit_noted(noted, self.provider, directory, run=None, actor=None)


class Reread:
    """A session's re-read (`queues.heard.reread`) in a daemon thread: each read's stored values go to
    `found` as they are stored, for the listener's thread; `cancel` stops it between reads."""

    def __init__(self, provider: Provider):
        self.provider = provider
        self.found: queue.SimpleQueue[list[Heard]] = queue.SimpleQueue()
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"{provider.name} re-read", daemon=True)
        self.thread.start()

    def cancel(self) -> None:
        self.cancelled.set()

    def _run(self) -> None:
        try:
            self._read_all()
        except Exception:  # a thread's error is otherwise printed to stderr and lost to the logs
            log.exception("listener: the re-read after the session started failed; the next run reads what it missed")
        finally:
            connection.close()  # the thread's own connection, opened by its first query

    def _read_all(self) -> None:
        failed = 0
        reads = store.reread(self.provider)
        for stored in reads:
            if self.cancelled.is_set():
                reads.close()
                log.info("listener: the re-read stopped: its session is over")
                return
            if stored is None:
                failed += 1
            else:
                self.found.put(stored)
        if failed:
            log.warning("listener: %d reads after the session started failed; the next run reads them", failed)
        log.info("listener: the re-read after the session started is done")
