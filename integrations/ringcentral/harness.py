"""A RingCentral emulator in a child process, for tests, benchmarks and demos.

`EmulatorProcess` starts `manage.py run_emulator` on a free port, waits until it
answers, and steers it through its loopback control API (/_emulator/...).
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parents[2]
# Made-up credentials the emulator is started with; never real ones.
TEST_CREDENTIALS = {"RC_CLIENT_ID": "emulator-client", "RC_CLIENT_SECRET": "emulator-secret", "RC_JWT": "emulator-jwt"}


class EmulatorProcess:
    """`python manage.py run_emulator` on a free port; a context manager that stops it on exit."""

    def __init__(self, seed, *options: str, credentials: dict | None = None, startup_timeout: float = 20.0):
        self.seed, self.options = Path(seed), options
        self.credentials = credentials or TEST_CREDENTIALS
        self.startup_timeout = startup_timeout
        self.url = ""
        self._process: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()  # the emulator's stderr, shown when it fails to start
        self._control = requests.Session()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self) -> "EmulatorProcess":
        """Start the emulator and wait until its control API answers."""
        env = {**os.environ, **self.credentials}
        if not env.get("SECRET_KEY"):
            env["DEBUG"] = "on"  # settings refuse to load without a secret key unless DEBUG is on
        command = [sys.executable, "manage.py", "run_emulator", "--port", "0", "--seed", str(self.seed), *self.options]
        self._process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        banner = self._process.stdout.readline()  # "RingCentral emulator listening on http://127.0.0.1:PORT"
        if "http://" not in banner:
            self.stop()
            raise RuntimeError(f"The emulator did not start: {banner}{self.log()}")
        self.url = banner.split()[-1]
        self._wait_until_up()
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                self.config()
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Terminate the emulator (and wait for it)."""
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process:
            self._process.stdout.close()
        self._control.close()
        self._log.close()

    def log(self) -> str:
        """What the emulator wrote to stderr so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    # ------------------------------------------------------------------ the control API

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self._control.request(method, f"{self.url}/_emulator/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response

    def requests(self) -> list[dict]:
        """Every API request since the last clear: method, path (with query), status, group, at."""
        return self._call("GET", "requests").json()["requests"]

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def config(self) -> dict:
        return self._call("GET", "config").json()

    def configure(self, **changes) -> dict:
        """Change faults and limits: fail_rate, write_fail_rate, latency, token_ttl, rate_limits, rate_window."""
        return self._call("PATCH", "config", json=changes).json()

    def expire_tokens(self) -> None:
        self._call("POST", "expire-tokens")

    def reset(self) -> None:
        """Back to the seed and the start-up flags; no tokens, counts or logged requests."""
        self._call("POST", "reset")

    def add_call_log(self, records: list[dict]) -> None:
        self._call("POST", "call-log", json={"records": records})

    def client_kwargs(self) -> dict:
        """Arguments for RingCentralClient that point it at this emulator."""
        c = self.credentials
        return {
            "server_url": self.url,
            "client_id": c["RC_CLIENT_ID"],
            "client_secret": c["RC_CLIENT_SECRET"],
            "jwt": c["RC_JWT"],
        }
