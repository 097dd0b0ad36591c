"""A real Celery worker process takes a task from the configured broker and returns its result."""

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from scheduler.tasks import ping

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_real_worker_completes_a_task_sent_through_the_broker():
    queue = f"test-{uuid.uuid4().hex[:8]}"  # a private queue: no other worker can take the task
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "scheduler", "worker", "-Q", queue, "--pool=solo", "-l", "WARNING"],
        cwd=ROOT,
    )
    try:
        result = ping.apply_async(queue=queue)
        assert result.get(timeout=60)["pong"] is True
        assert result.successful()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
