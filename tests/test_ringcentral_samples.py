"""RingCentral's own Python samples, run with its official SDK against the emulator, then read back.

Only RC_SERVER_URL changes: the samples log in with the JWT and call the documented
endpoints as they would in production. Each one logs in, and RingCentral allows
five logins per window (1 s here), so the runs are spaced as a person would run them.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).parent / "ringcentral_samples"
DEMO_QUEUE, SAMPLE_QUEUE, ADAMS, BAKER = "61986637000", "1081167000", "62284876000", "62376752000"
JAMES, MARIA, OLENA = "111111111", "222222222", "333333333"
LOGIN_SPACING = 0.3  # seconds between runs: at most 4 logins in any 1 s window, under the Auth limit of 5


@pytest.fixture
def run_sample(emulator):
    """run_sample(name) -> its stdout; fails the test if the sample exits non-zero."""
    env = {**os.environ, **emulator.credentials, "RC_SERVER_URL": emulator.url}

    def run(name: str) -> str:
        time.sleep(LOGIN_SPACING)
        done = subprocess.run(
            [sys.executable, str(SAMPLES / f"{name}.py")], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        assert "HTTP 4" not in done.stdout and "HTTP 5" not in done.stdout, done.stdout  # samples print, then exit 0
        return done.stdout

    return run


def test_the_read_samples_see_the_seeded_account(run_sample):
    listed = run_sample("list_call_queues")
    info = run_sample("read_call_queue_info")
    statuses = run_sample("read_call_queue_member_status")

    assert "Call queue: name = Demo call queue, extension = " in listed
    assert listed.count("Call queue: ") == 4
    assert f'"id": "{DEMO_QUEUE}"' in info and '"editableMemberStatus": true' in info
    assert "Found call queue: Demo call queue\n- James Smith: True\n- Maria Lopez: True\n- Olena Kovalenko: True" in (
        statuses
    )


def test_the_write_samples_change_what_the_client_reads_back(run_sample, client):
    run_sample("update_call_queue_member_status")
    run_sample("update_extension_call_queue_status")
    run_sample("update_dnd_status")
    run_sample("enable_member_status_editing")

    assert client.read_queue_presence(DEMO_QUEUE) == {JAMES: False, MARIA: True, OLENA: False}
    owner_queues = {p.queue_id: p.accept_calls for p in client.read_agent_queue_presence(JAMES)}
    assert (owner_queues[BAKER], owner_queues[ADAMS]) == (True, False)
    assert client.read_dnd([JAMES, MARIA]) == {JAMES: "DoNotAcceptDepartmentCalls", MARIA: "TakeAllCalls"}
    assert all(q.editable_member_status for q in client.list_queues())


def test_the_member_status_sample_shows_what_the_update_sample_wrote(run_sample):
    run_sample("update_call_queue_member_status")

    statuses = run_sample("read_call_queue_member_status")

    assert "Found call queue: Demo call queue\n- James Smith: False\n- Maria Lopez: True\n- Olena Kovalenko: False" in (
        statuses
    )


@pytest.fixture
def client(rc_client):
    """Here `client` is the RingCentral client, not Django's test client."""
    return rc_client
