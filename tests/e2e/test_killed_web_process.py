"""A web process killed after a receptionist's write was sent: the next run finds the pending write,
reads the value back and audits it, so the change never goes unaudited."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from django.contrib.auth.models import User
from django.utils import timezone

from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from queues.models import Agent, AuditEntry, PendingWrite
from scheduler.reconcile.run import reconcile_locked
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from tests.support.emulators import RingCentralProcess

from .stack import ROOT, database_url

pytestmark = pytest.mark.slow

SUPPORT, JAMES, PASSWORD = "1081167000", "111111111", "x-Secret-42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def emulator():
    with RingCentralProcess(DEMO_SCHEDULE, "--rate-limits", "off") as process:
        yield process


@pytest.fixture
def web(emulator, transactional_db, tmp_path):
    """The product's web process, on the test database and the emulator."""
    port = free_port()
    env = {**os.environ, **emulator.credentials, "RC_SERVER_URL": emulator.url, "DATABASE_URL": database_url(),
           "DEBUG": "on"}  # fmt: skip
    log = open(tmp_path / "web.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                               cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{url}/accounts/login/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield process, url
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    log.close()


def test_a_web_process_killed_mid_toggle_leaves_an_audit_row(emulator, web):
    process, url = web
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    rc = RingCentralClient(**emulator.client_kwargs(), store=InProcessStore())
    reconcile_locked(provider=rc, at=timezone.now(), trigger="test")
    james = Agent.objects.get(provider_id=JAMES)
    james.user = User.objects.create_user("james", password=PASSWORD)
    james.save()
    accepting = rc.read_queue_presence(SUPPORT)[JAMES]

    browser = requests.Session()
    browser.get(f"{url}/accounts/login/", timeout=10)
    login = {"username": "james", "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
    assert browser.post(f"{url}/accounts/login/", data=login, timeout=10).ok
    emulator.configure(latency=3.0)  # the write reaches RingCentral, then the web process dies before the answer
    toggle = {"agent": JAMES, "queue": SUPPORT, "accept": "off" if accepting else "on", "duration": "60",
              "confirmed": "on", "csrfmiddlewaretoken": browser.cookies["csrftoken"]}  # fmt: skip
    threading.Thread(target=_post_ignoring_errors, args=(browser, f"{url}/toggle/", toggle), daemon=True).start()
    deadline = time.monotonic() + 10
    while not PendingWrite.objects.exists():
        assert time.monotonic() < deadline, "the toggle never recorded its pending write"
        time.sleep(0.05)
    time.sleep(0.5)  # the PUT is on its way
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    time.sleep(3.0)  # the emulator finishes the PUT the dead process sent
    emulator.configure(latency=0.0)
    assert not AuditEntry.objects.filter(reason="manual override").exists()  # the dead process never audited it

    # The dead process held the reconcile lease; it lapses once its heartbeat stops renewing it.
    reconcile_locked(provider=rc, at=timezone.now(), trigger="test", wait=45)
    row = AuditEntry.objects.get(reason="manual override")
    assert (row.agent, row.queue.provider_id, row.outcome) == (james, SUPPORT, "applied")
    assert row.actor.username == "james" and "override #" in row.api_call
    assert row.new_value == ("false" if accepting else "true") and not PendingWrite.objects.exists()


def _post_ignoring_errors(session, url, data):
    try:
        session.post(url, data=data, timeout=30)
    except requests.RequestException:
        pass  # the server was killed mid-request, as the test intends
