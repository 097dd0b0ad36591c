"""The RingPlan emulator in a child process, restartable on the same port (for the listener's tests)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from .emulator import DEMO_SEED

BASE_DIR = Path(__file__).resolve().parents[2]
TEST_API_KEY = "emulator-ringplan-key"  # noqa: S105 - the emulator's made-up demo key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RingPlanEmulatorProcess:
    """`manage.py run_ringplan_emulator` on a fixed free port; start(), stop(), restart()."""

    def __init__(self, seed=DEMO_SEED, port: int | None = None):
        self.seed = Path(seed)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout: float = 20.0) -> "RingPlanEmulatorProcess":
        env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "on")}
        command = [
            sys.executable,
            "manage.py",
            "run_ringplan_emulator",
            "--port",
            str(self.port),
            "--seed",
            str(self.seed),
        ]
        self._process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.state()
                return self
            except requests.ConnectionError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    self.stop()
                    raise RuntimeError("The RingPlan emulator did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def state(self) -> dict:
        return requests.get(f"{self.url}/_emulator/state", timeout=5).json()

    def send_status(self, user_id: str, status: str, at: str | None = None) -> int:
        """Emit a user_status_updated; how many authenticated clients it went to."""
        body = {"user_id": user_id, "status": status, "at": at}
        return requests.post(f"{self.url}/_emulator/status", json=body, timeout=5).json()["delivered"]

    def configure(self, **changes) -> dict:
        return requests.patch(f"{self.url}/_emulator/config", json=changes, timeout=5).json()
