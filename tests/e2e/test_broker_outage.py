"""The worker and beat ride out Redis broker outages: a real worker and beat (the Procfile's flags), a
private redis-server stopped and started again (never the system one), the RingCentral emulator behind.

Each outage ends with the safety net finishing a reconcile run: beat, broker, worker and database
all resumed, without a restart. Outages follow each other as soon as a run is seen, so a loss often
hits the worker while it is still reconnecting from the last one.
"""

import os
import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime

import pytest
import yaml

from queues.models import ReconcileRun
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import parse_schedule
from tests.support.emulators import RingCentralProcess

from .stack import Stack
from .test_automation import SCHEDULE

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Five outages of 12 s each in CI; OUTAGE_TRIALS and OUTAGE_SECONDS make it a longer soak (20 s is the issue's).
TRIALS = int(os.environ.get("OUTAGE_TRIALS", 5))
OUTAGE = float(os.environ.get("OUTAGE_SECONDS", 12))


class PrivateRedis:
    """A redis-server of this test's own on a free loopback port, without persistence."""

    def __init__(self, folder):
        self.folder, self.port = folder, _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([*command, "--dir", str(self.folder)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "the private redis-server did not start"
                time.sleep(0.05)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: apt-get install -y redis-server")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(redis, tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump(SCHEDULE))
    import_schedule(parse_schedule(yaml.safe_dump(SCHEDULE)))
    with RingCentralProcess(seed, "--rate-limits", "off") as emulator:
        stack = Stack(emulator, tmp_path, tick_seconds=2)
        stack.env |= {"CELERY_BROKER_URL": f"{redis.url}/0", "CELERY_RESULT_BACKEND": f"{redis.url}/1"}
        yield stack
        stack.stop()


def wait_for_a_run_after(instant: float, stack, *, timeout: float = 60.0) -> None:
    """Until the safety net has finished a run that started after `instant` (time.time())."""
    deadline = time.monotonic() + timeout
    while not ReconcileRun.objects.filter(started_at__gt=_aware(instant), finished_at__isnull=False).exists():
        assert time.monotonic() < deadline, f"no run since the broker came back\n{stack.logs()}"
        time.sleep(0.5)


def _aware(instant: float) -> datetime:
    return datetime.fromtimestamp(instant, UTC)


def test_worker_and_beat_ride_out_broker_outages_and_resume(stack, redis):
    worker, beat = stack.worker(), stack.beat()
    wait_for_a_run_after(time.time(), stack)
    survived = 0
    for _ in range(TRIALS):
        redis.stop()
        time.sleep(OUTAGE)
        redis.start()
        back = time.time()
        wait_for_a_run_after(back, stack)
        assert worker.poll() is None and beat.poll() is None, stack.logs()
        survived += 1
    assert survived == TRIALS
    assert "Unrecoverable error" not in stack.logs()
