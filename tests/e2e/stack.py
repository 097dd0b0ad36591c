"""Real processes around the test database: Celery workers and beats, pointed at an emulator."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from scheduler.periodic import ensure_periodic_tasks

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this test runs on (the test database), for child processes."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Stack:
    """Workers and beats as real processes sharing a private queue; stopped (or killed) at exit."""

    def __init__(self, emulator, tmp_path: Path, *, tick_seconds: int = 5, safety_net_seconds: int | None = None):
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        broker, backend = settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND
        if broker.startswith("sqla+"):  # the embedded broker: a private file per test
            broker, backend = f"sqla+sqlite:///{tmp_path}/broker.sqlite3", f"db+sqlite:///{tmp_path}/results.sqlite3"
        self.env = {
            **os.environ,
            **emulator.credentials,
            "RC_SERVER_URL": emulator.url,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": backend,
            "CELERY_QUEUE": f"e2e-{uuid.uuid4().hex[:8]}",
            "DEBUG": "on",
        }
        _every("dispatch: boundaries ahead", tick_seconds)
        _every("reconcile: rolling sweep", safety_net_seconds or tick_seconds)

    def worker(self) -> subprocess.Popen:
        return self._start("worker", "--concurrency=2", "--without-gossip", "--without-mingle")

    def beat(self) -> subprocess.Popen:
        return self._start("beat", f"--pidfile={self.tmp_path}/beat-{len(self.processes)}.pid", "--max-interval=1")

    def _start(self, kind: str, *options: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{kind}-{len(self.processes)}.log", "w")  # noqa: SIM115 - closed with the process
        command = [sys.executable, "-m", "celery", "-A", "scheduler", kind, "-l", "INFO", *options]
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True)
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen, sig=signal.SIGKILL):
        """Signal the whole process group (a worker and its pool children)."""
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop(self):
        """Ask every process to stop; kill what has not stopped within 10 s (a worker holding ETA tasks)."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill(process)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.tmp_path.glob("*.log")))


def _every(name: str, seconds: int):
    """Tick a beat entry every few seconds instead of every minute, so tests need not wait."""
    ensure_periodic_tasks()
    interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name=name).update(interval=interval, crontab=None)
    PeriodicTasks.update_changed()


def wait_until(instant: datetime, *, then: float = 0.0):
    """Sleep until `instant` (UTC) plus `then` seconds."""
    delay = (instant - datetime.now(UTC)).total_seconds() + then
    if delay > 0:
        time.sleep(delay)


def seconds_from_now(seconds: float) -> datetime:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
