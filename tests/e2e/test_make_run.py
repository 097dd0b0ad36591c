"""`make run` as a developer meets it: the demo logins come last, after every start-up banner, and Ctrl-C stops
everything cleanly (every process exits 0, no ERROR or Traceback line, no "make: *** … Error").

The real Makefile recipe and Procfile run, on free ports and private SQLite files; `-o install` skips only the
install step (the virtualenv is the one running this test). Ctrl-C is sent as a terminal sends it: SIGINT to
the foreground process group (make, its shell and honcho; honcho's processes run in their own sessions).
"""

import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from tests.e2e.stack import ROOT

pytestmark = pytest.mark.slow

PASSWORD = "demo-run-pw-1"
STARTED_WITHIN = 180  # seconds: a cold start on two shared cores
STOPPED_WITHIN = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_run_prints_both_logins_last_and_stops_cleanly_on_ctrl_c(tmp_path):
    web, emulator = free_port(), free_port()
    env_file = tmp_path / "run.env"
    env_file.write_text(
        f"DEBUG=on\nRC_SERVER_URL=http://127.0.0.1:{emulator}\nRC_CLIENT_ID=demo-client-id\nRC_JWT=demo-jwt\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/run.sqlite3",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path}/broker.sqlite3",
        "CELERY_RESULT_BACKEND": f"db+sqlite:///{tmp_path}/results.sqlite3",
        "CALLROTA_PORT": str(web),
        "EMULATOR_PORT": str(emulator),
        "DEMO_ADMIN_PASSWORD": PASSWORD,
        "RC_SERVER_URL": f"http://127.0.0.1:{emulator}",  # for `migrate`, which runs before honcho
    }
    make = subprocess.Popen(
        ["make", "--no-print-directory", "-o", "install", "run", f"RUN_ENV={env_file}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip("\n") for line in make.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + STARTED_WITHIN
        while not any("Ctrl-C stops everything" in line for line in lines):
            assert make.poll() is None, "make run ended early:\n" + "\n".join(lines[-60:])
            assert time.monotonic() < deadline, "no logins within 180 s:\n" + "\n".join(lines[-60:])
            time.sleep(0.5)
        started = list(lines)
        time.sleep(2)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
        make.wait(timeout=STOPPED_WITHIN)
        reader.join(timeout=5)
    output = "\n".join(lines)

    def last(pattern: str) -> int:
        found = [i for i, line in enumerate(started) if re.search(pattern, line)]
        assert found, f"no line matches {pattern!r}:\n{output}"
        return found[-1]

    supervisor = last(rf"Demo admin: http://127\.0\.0\.1:{web}/admin/ +user supervisor +password {PASSWORD}")
    receptionist = last(rf"Receptionist \(My queues\): http://127\.0\.0\.1:{web}/ +user james +password {PASSWORD}")
    banners = [r"celery@\S+ ready", r"Starting development server", r"emulator listening", r"beat: Starting"]
    assert all(last(banner) < min(supervisor, receptionist) for banner in banners), output

    stops = re.findall(r"system +\| (\w+)\.1 stopped \(rc=(-?\d+)\)", output)
    assert {name for name, _ in stops} == {"web", "worker", "beat", "emulator", "listener", "demo"}, output
    assert all(rc == "0" for _, rc in stops), output
    for bad in ("ERROR", "Traceback", "make: ***", "Error 1", "Error 143", "SIGKILL"):
        assert bad not in output, f"{bad!r} in:\n{output}"
    # make re-raises the SIGINT it was sent once its recipe ended well (how make ends on Ctrl-C, silently);
    # sent to honcho alone (kill -INT), the recipe turns honcho's 130 into make's exit 0.
    assert make.returncode in (0, -signal.SIGINT), output
