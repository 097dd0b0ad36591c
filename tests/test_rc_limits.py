"""A 429 holds its whole group for RingCentral's penalty, in every process, with or without Retry-After."""

import time

import pytest
import requests

from integrations.base import ProviderError
from integrations.ringcentral.client import PENALTY_WITHOUT_RETRY_AFTER, settings_scope
from integrations.ringcentral.ratelimit import LIGHT, InProcessStore
from integrations.ringcentral.shared import DatabaseHolds, DatabaseTokens
from tests.e2e.stack import database_url
from tests.support.emulators import TEST_CREDENTIALS

DEMO_QUEUE, JAMES, MARIA = "61986637000", "111111111", "222222222"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class ScaledTime:
    """A clock that runs `factor` times faster while asleep: the client's minute of waiting takes real seconds,
    so the emulator, on real time, sees what RingCentral would see."""

    def __init__(self, factor: float):
        self.factor, self.offset = factor, 0.0

    def now(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        self.offset += seconds - seconds / self.factor
        time.sleep(seconds / self.factor)


def spend(emulator, method: str, path: str, count: int) -> None:
    """Spend `count` requests of the app's budget the way another program would, outside the client."""
    c = emulator.client_kwargs()
    token = requests.post(
        f"{emulator.url}/restapi/oauth/token",
        auth=(c["client_id"], c["client_secret"]),
        data={"grant_type": JWT_GRANT, "assertion": c["jwt"]},
        timeout=5,
    ).json()["access_token"]
    with requests.Session() as session:
        for _ in range(count):
            body = {"dndStatus": "TakeAllCalls"} if method == "PUT" else None
            headers = {"Authorization": f"Bearer {token}"}
            session.request(method, emulator.url + path, json=body, headers=headers, timeout=5).raise_for_status()


MARIA_PRESENCE = f"/restapi/v1.0/account/~/extension/{MARIA}/presence"


def test_after_a_429_without_retry_after_it_sends_nothing_to_the_group_for_the_penalty(emulator, make_client):
    emulator.configure(retry_after=False)
    clock = ScaledTime(factor=40)  # the emulator's penalty is its 1 s window; 60 s of ours is 1.5 s of its
    client = make_client(emulator, store=InProcessStore(clock=clock.now), sleep=clock.sleep)
    client.read_queue(DEMO_QUEUE)
    spend(emulator, "PUT", MARIA_PRESENCE, 40)  # Medium's 40 are gone
    emulator.clear_requests()
    started = clock.now()

    client.write_queue_presence(DEMO_QUEUE, {JAMES: False})

    refused, accepted = emulator.requests()
    assert (refused["status"], "Retry-After" in refused, accepted["status"]) == (429, False, 200)
    assert clock.now() - started >= PENALTY_WITHOUT_RETRY_AFTER >= 30  # RingCentral: 30 s or more
    assert accepted["at"] - refused["at"] >= PENALTY_WITHOUT_RETRY_AFTER / clock.factor


def test_a_client_that_gives_up_on_a_429_still_holds_the_group(emulator, make_client):
    emulator.configure(retry_after=False)
    clock = ScaledTime(factor=40)
    client = make_client(emulator, store=InProcessStore(clock=clock.now), sleep=clock.sleep, max_attempts=1)
    client.read_queue(DEMO_QUEUE)
    spend(emulator, "PUT", MARIA_PRESENCE, 40)
    with pytest.raises(ProviderError) as error:
        client.write_queue_presence(DEMO_QUEUE, {JAMES: False})
    assert (error.value.status, error.value.permanent) == (429, False)
    before = clock.now()

    client.write_dnd(JAMES, "TakeAllCalls")  # the same group: it waits out the penalty first

    assert clock.now() - before >= PENALTY_WITHOUT_RETRY_AFTER - 1
    assert [r["status"] for r in emulator.requests() if r["method"] == "PUT"][-2:] == [429, 200]


def test_a_hold_in_the_database_holds_a_store_in_another_process(db):
    one, other = InProcessStore(shared_holds=DatabaseHolds()), InProcessStore(shared_holds=DatabaseHolds())

    one.hold(f"scope:{LIGHT}", 60)

    assert 58 < other.reserve(f"scope:{LIGHT}", "token", 50, 60, 30) <= 60
    assert other.reserve(f"scope:{'medium'}", "token", 40, 60, 30) == 0


def test_a_hold_in_the_database_only_ever_grows(db):
    holds = DatabaseHolds()
    holds.hold("scope:light", 60)
    holds.hold("scope:light", 5)

    assert holds.held_for("scope:light") > 58


@pytest.mark.slow
def test_a_second_process_honours_the_penalty_without_redis(
    transactional_db, start_emulator, make_client, settings, tmp_path
):
    emulator = start_emulator("--rate-window", "5")  # penalty and Retry-After: 5 s
    settings.RC_SERVER_URL = emulator.url
    for name, value in TEST_CREDENTIALS.items():
        setattr(settings, name, value)
    store = InProcessStore(shared_holds=DatabaseHolds())
    client = make_client(emulator, store=store, tokens=DatabaseTokens(settings_scope()), max_attempts=1)
    client.read_queue(DEMO_QUEUE)
    spend(emulator, "GET", f"/restapi/v1.0/account/~/call-queues/{DEMO_QUEUE}", 49)  # Light's 50 are gone
    with pytest.raises(ProviderError):
        client.read_presence(["~"])  # 429: held in the database for every process
    key = settings.SECRET_KEY

    done = emulator.run_app_command("rc_status", database_url=database_url(), secret_key=key, broker_dir=tmp_path)

    assert done.returncode == 0, done.stderr
    light = [r for r in emulator.requests() if r["group"] == LIGHT]
    refused, after = next(r for r in light if r["status"] == 429), light[-1]
    assert [r["status"] for r in light].count(429) == 1  # the second process never knocked during the penalty
    assert after["at"] - refused["at"] >= 5 - 0.1
