"""Provider emulators in child processes, for tests, benchmarks and demos.

Each one is `manage.py run_emulator --provider P` on a free port: started, read for the URL it
prints first (it listens by then), steered through its loopback control API (/_emulator/...), stopped.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, ClassVar, TypedDict
from urllib.parse import urlsplit

import requests
import yaml

from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from integrations.ringostat.emulator import RPC_PATH

BASE_DIR = Path(__file__).resolve().parents[2]
# Made-up credentials the emulators are started with; never real ones.
TEST_CREDENTIALS = {"RC_CLIENT_ID": "emulator-client", "RC_CLIENT_SECRET": "emulator-secret", "RC_JWT": "emulator-jwt"}
TEST_API_KEY = "emulator-ringplan-key"  # noqa: S105 - the RingPlan demo seed's made-up key


class ClientKwargs(TypedDict):
    """The arguments of RingCentralClient that point it at an emulator."""

    server_url: str
    client_id: str
    client_secret: str
    jwt: str


class EmulatorProcess:
    """One emulator in a child process; a context manager that stops it on exit, restartable on its port."""

    provider: ClassVar[str]

    def __init__(self, seed: str | Path | None = None, *options: str):
        self.seed, self.options = seed, options
        self.url = ""
        self._port = 0  # a free one at first; the same one after a restart
        self._process: subprocess.Popen[str] | None = None
        self._log = tempfile.TemporaryFile()  # the emulator's stderr, shown when it fails to start
        self._control = requests.Session()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if not env.get("SECRET_KEY"):
            env["DEBUG"] = "on"  # settings refuse to load without a secret key unless DEBUG is on
        return env

    def start(self):
        """Start the emulator; it listens once it has printed its URL."""
        command = [sys.executable, "manage.py", "run_emulator", "--provider", self.provider, "--port", str(self._port)]
        command += ["--seed", str(self.seed)] if self.seed else []
        if self._log.closed:  # stopped before: a fresh log for this run
            self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            [*command, *self.options],
            cwd=BASE_DIR,
            env=self.environment(),
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        banner = self._process.stdout.readline() if self._process.stdout else ""  # "... listening on http://..."
        if "http://" not in banner:
            self._terminate()
            problem = f"The {self.provider} emulator did not start: {banner}{self.log()}"
            self.stop()
            raise RuntimeError(problem)
        address = urlsplit(banner.split()[-1])
        self.url, self._port = f"http://{address.netloc}", address.port or 0
        return self

    def stop(self) -> None:
        """Terminate the emulator (and wait for it)."""
        self._terminate()
        if self._process and self._process.stdout:
            self._process.stdout.close()
        self._control.close()
        self._log.close()

    def _terminate(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def restart(self) -> None:
        """Stop, then start again on the same port."""
        self.stop()
        self.start()

    def log(self) -> str:
        """What the emulator wrote to stderr so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A control API call, /_emulator/PATH; raises on an error status."""
        response = self._control.request(method, f"{self.url}/_emulator/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response


class RingCentralProcess(EmulatorProcess):
    """The RingCentral emulator, seeded from a schedule file, with the made-up TEST_CREDENTIALS."""

    provider = "ringcentral"

    def __init__(self, seed: str | Path, *options: str, credentials: dict[str, str] | None = None):
        super().__init__(seed, *options)
        self.credentials = credentials or TEST_CREDENTIALS

    @classmethod
    def seeded(cls, schedule: dict, directory: Path, *options: str) -> "RingCentralProcess":
        """An emulator (not started yet) seeded with this schedule document, written to DIRECTORY/seed.yaml."""
        seed = directory / "seed.yaml"
        seed.write_text(yaml.safe_dump(schedule))
        return cls(seed, *options)

    def environment(self) -> dict[str, str]:
        return super().environment() | self.credentials

    def client(self) -> RingCentralClient:
        """A client of this emulator that paces in-process and retries after hundredths of a second."""
        return RingCentralClient(**self.client_kwargs(), store=InProcessStore(), backoff=(0.01, 0.05))

    def requests(self) -> list[dict]:
        """Every API request since the last clear: method, path (with query), status, group, at (and grant)."""
        return self.call("GET", "requests").json()["requests"]

    def clear_requests(self) -> None:
        self.call("DELETE", "requests")

    def posts(self, chat_id: str) -> list[dict]:
        """The Team Messaging posts of a chat, oldest first."""
        return self.call("GET", f"chats/{chat_id}/posts").json()["records"]

    def config(self) -> dict:
        return self.call("GET", "config").json()

    def configure(self, **changes: Any) -> dict:
        """Change faults and limits: fail_rate, write_fail_rate, latency, token_ttl, refresh_token_ttl,
        rate_limits, rate_window, retry_after (False: 429s without Retry-After)."""
        return self.call("PATCH", "config", json=changes).json()

    def expire_tokens(self) -> None:
        self.call("POST", "expire-tokens")

    def reset(self) -> None:
        """Back to the seed and the start-up flags; no tokens, counts or logged requests."""
        self.call("POST", "reset")

    def add_call_log(self, records: list[dict]) -> None:
        self.call("POST", "call-log", json={"records": records})

    def delete_extension(self, extension_id: str) -> None:
        """Delete an agent's extension: its batch presence part then answers 404 CMN-102."""
        self.call("DELETE", f"extensions/{extension_id}")

    def run_app_command(self, *arguments: str, database_url: str, secret_key: str, broker_dir: Path):
        """Run `manage.py ARGUMENTS` as a separate product process on this emulator and the given database,
        without Redis (pacing in-process, holds and the session in the database); the finished process."""
        env = {**os.environ, **self.credentials, "RC_SERVER_URL": self.url, "DATABASE_URL": database_url}
        env |= {"DEBUG": "on", "SECRET_KEY": secret_key, "CELERY_BROKER_URL": f"sqla+sqlite:///{broker_dir}/broker.db"}
        env.pop("RC_RATE_LIMIT_REDIS_URL", None)
        command = [sys.executable, "manage.py", *arguments]
        return subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)

    def client_kwargs(self) -> ClientKwargs:
        """Arguments for RingCentralClient that point it at this emulator."""
        c = self.credentials
        return {
            "server_url": self.url,
            "client_id": c["RC_CLIENT_ID"],
            "client_secret": c["RC_CLIENT_SECRET"],
            "jwt": c["RC_JWT"],
        }


class RingostatProcess(EmulatorProcess):
    """The Ringostat emulator, by default on its demo week; `.rpc_url` is the JSON-RPC endpoint."""

    provider = "ringostat"

    @property
    def rpc_url(self) -> str:
        return self.url + RPC_PATH

    def configure(self, **changes: Any) -> dict:
        """malformed (answer with the reference's invalid example), report_rows (serve these rows verbatim)."""
        return self.call("PATCH", "config", json=changes).json()


class RingPlanProcess(EmulatorProcess):
    """The RingPlan emulator, by default on its demo company; restartable on its port (for the listener)."""

    provider = "ringplan"

    def state(self) -> dict:
        return self.call("GET", "state").json()

    def send_status(self, user_id: str, status: str, at: str | None = None) -> int:
        """Emit a user_status_updated; how many authenticated clients it went to."""
        return self.call("POST", "status", json={"user_id": user_id, "status": status, "at": at}).json()["delivered"]

    def configure(self, **changes: Any) -> dict:
        return self.call("PATCH", "config", json=changes).json()
