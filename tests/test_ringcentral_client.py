"""The RingCentral client against a real emulator process: auth, paging, pacing, retries, errors."""

import logging
import socket
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
import redis
import requests
from django.test import override_settings

from integrations.base import ProviderError
from integrations.ringcentral.client import RingCentralClient, client_from_settings
from integrations.ringcentral.errors import RingCentralError
from integrations.ringcentral.multipart import parse_batch
from integrations.ringcentral.ratelimit import (
    AUTH,
    HEAVY,
    LIGHT,
    MEDIUM,
    InProcessStore,
    RedisStore,
    budget_from_headers,
    group_for,
)
from integrations.ringcentral.schema import AgentQueuePresence
from scheduler.reconcile.run import reconcile_locked

# Until tests/conftest.py registers it for the whole suite.

DEMO_QUEUE, SAMPLE_QUEUE, ADAMS, BAKER = "61986637000", "1081167000", "62284876000", "62376752000"
JAMES, MARIA, OLENA = "111111111", "222222222", "333333333"
REDIS_URL = "redis://127.0.0.1:6379/15"
MORNING = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # Tue 08:00 New York: Support mornings start


def calls(emulator, method=None, fragment="") -> list[dict]:
    """The emulator's logged requests, optionally of one method and path fragment."""
    return [r for r in emulator.requests() if (method is None or r["method"] == method) and fragment in r["path"]]


def statuses(emulator) -> list[int]:
    return [r["status"] for r in emulator.requests()]


def foreign_load(emulator, count: int) -> None:
    """Spend `count` Medium requests of the app's budget the way another program would, outside the client."""
    c = emulator.client_kwargs()
    token = requests.post(
        f"{emulator.url}/restapi/oauth/token",
        auth=(c["client_id"], c["client_secret"]),
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": c["jwt"]},
        timeout=5,
    ).json()["access_token"]
    with requests.Session() as session:
        for _ in range(count):
            session.put(
                f"{emulator.url}/restapi/v1.0/account/~/extension/{MARIA}/presence",
                json={"dndStatus": "TakeAllCalls"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=5,
            ).raise_for_status()


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not redis_available(), reason="needs Redis at 127.0.0.1:6379")


# ---------------------------------------------------------------------------- reading and writing


def test_it_lists_every_queue_with_its_members_across_pages(emulator, make_client):
    queues = make_client(emulator, page_size=3).list_queues()

    assert [(q.id, q.editable_member_status, q.member_ids) for q in queues] == [
        (SAMPLE_QUEUE, False, (JAMES, MARIA)),
        (DEMO_QUEUE, True, (JAMES, MARIA, OLENA)),
        (ADAMS, True, (JAMES,)),
        (BAKER, True, (JAMES,)),
    ]
    pages = [r["path"].split("?")[1] for r in calls(emulator, "GET", "/call-queues?")]
    assert pages == ["page=1&perPage=3", "page=2&perPage=3"]


def test_it_writes_many_members_of_a_queue_in_one_call_and_reads_them_back(client, emulator):
    client.write_queue_presence(DEMO_QUEUE, {JAMES: False, MARIA: True, OLENA: False})

    assert client.read_queue_presence(DEMO_QUEUE) == {JAMES: False, MARIA: True, OLENA: False}
    assert len(calls(emulator, "PUT")) == 1


def test_it_writes_one_agents_queues_in_one_call_and_reads_them_back(client, emulator):
    client.write_agent_queue_presence(JAMES, {ADAMS: False, BAKER: True})

    presence = {p.queue_id: p.accept_calls for p in client.read_agent_queue_presence(JAMES)}
    assert presence == {SAMPLE_QUEUE: True, DEMO_QUEUE: True, ADAMS: False, BAKER: True}
    assert len(calls(emulator, "PUT")) == 1


def test_it_writes_nothing_when_there_is_nothing_to_write(client, emulator):
    client.write_queue_presence(DEMO_QUEUE, {})
    client.write_agent_queue_presence(JAMES, {})

    assert emulator.requests() == []


def test_it_reads_queue_presence_in_either_spelling_of_callqueue():
    spelled = [{"callQueue": {"id": 1}, "acceptCalls": True}, {"callqueue": {"id": "1"}, "acceptCalls": True}]

    assert {AgentQueuePresence.from_api(record).queue_id for record in spelled} == {"1"}


def test_it_writes_and_reads_dnd_with_queue_calls_following_it(client):
    client.write_dnd(MARIA, "DoNotAcceptDepartmentCalls")

    assert client.read_dnd([JAMES, MARIA]) == {JAMES: "TakeAllCalls", MARIA: "DoNotAcceptDepartmentCalls"}
    members = {m.agent_id: m.accept_queue_calls for m in client.read_queue_members_presence(DEMO_QUEUE)}
    assert members == {JAMES: True, MARIA: False, OLENA: True}


@pytest.mark.parametrize("status", ["TakeDepartmentCallsOnly", "Busy"])
def test_it_refuses_a_dnd_status_the_api_cannot_set_without_calling(client, emulator, status):
    with pytest.raises(ProviderError) as error:
        client.write_dnd(JAMES, status)

    assert error.value.permanent
    assert emulator.requests() == []


def test_it_reads_dnd_of_many_agents_thirty_per_call(start_emulator, tmp_path, make_client):
    agents = [str(900000000 + n) for n in range(35)]
    seed = tmp_path / "many.yaml"
    seed.write_text("queues: []\nagents:\n" + "".join(f'  - {{id: "{a}", name: Agent {a}}}\n' for a in agents))
    emulator = start_emulator(seed=seed)

    dnd = make_client(emulator).read_dnd(agents)

    assert dnd == dict.fromkeys(agents, "TakeAllCalls")
    reads = calls(emulator, "GET", "/presence")
    assert [(r["path"].count(",") + 1, r["status"]) for r in reads] == [(30, 207), (5, 207)]


def test_a_single_extension_is_read_without_a_batch(client, emulator):
    assert client.read_dnd([OLENA]) == {OLENA: "TakeAllCalls"}
    assert [r["status"] for r in calls(emulator, "GET", "/presence")] == [200]


def test_a_failed_batch_part_leaves_out_only_its_extension_with_its_404(client):
    dnd = client.read_dnd([JAMES, "999", MARIA])

    assert dnd == {JAMES: "TakeAllCalls", MARIA: "TakeAllCalls"}
    error = dnd.failures["999"]
    assert (error.status, error.code, error.permanent) == (404, "CMN-102", True)


def test_a_deleted_extension_blinds_no_other_agent(client, emulator):
    client.write_dnd(JAMES, "DoNotAcceptAnyCalls")
    emulator.delete_extension(MARIA)

    dnd = client.read_dnd([JAMES, MARIA, OLENA])

    assert dnd == {JAMES: "DoNotAcceptAnyCalls", OLENA: "TakeAllCalls"}
    assert set(dnd.failures) == {MARIA}
    assert "not found" in str(dnd.failures[MARIA])


def test_an_unknown_single_extension_raises_its_404(client):
    with pytest.raises(ProviderError) as error:
        client.read_dnd(["999"])

    assert (error.value.status, error.value.code) == (404, "CMN-102")


def test_the_reconciler_corrects_everyone_elses_dnd_when_one_extension_was_deleted(demo_emulator, demo_rc):
    demo_rc.write_dnd(JAMES, "DoNotAcceptAnyCalls")
    demo_emulator.delete_extension(MARIA)

    result = reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")

    assert demo_rc.read_dnd([JAMES]) == {JAMES: "TakeAllCalls"}  # James is on shift at 08:00
    [problem] = [p for p in result.problems if "DnD" in p]
    assert problem.startswith(f"agent {MARIA}: DnD status not returned by the provider: ")
    assert "not found" in problem and "CMN-102" in problem


def test_a_batch_part_that_is_itself_multipart_is_malformed():
    nested = "--c\r\nContent-Type: application/json\r\n\r\n{}\r\n--c--\r\n"
    body = (
        '--b\r\nContent-Type: application/json\r\n\r\n{"response": [{"status": 200}]}\r\n'
        f"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n{nested}--b--\r\n"
    )
    with pytest.raises(ValueError, match="is multipart"):
        parse_batch("multipart/mixed; boundary=b", body.encode())


def test_it_reads_the_service_status(client):
    status = client.read_status()

    assert status.available and status.detail == "OK"


def test_it_reads_the_detailed_call_log_with_ringout_legs(client, emulator):
    legs = [
        {"legType": "RingOutClientToSubscriber", "result": "Call connected", "duration": 20},
        {"legType": "RingOutClientToCaller", "result": "Busy", "duration": 19, "master": True},
    ]
    emulator.add_call_log([{"id": "L6HbCN6tB1nyDUA", "result": "Busy", "extension": {"id": 111111111}, "legs": legs}])

    [record] = client.read_call_log(extension_id="~")

    assert record.leg_result("RingOutClientToCaller") == "Busy"
    assert record.leg_result("RingOutClientToSubscriber") == "Call connected"
    assert record.leg_result("Transfer") is None
    assert "view=Detailed" in calls(emulator, "GET", "/call-log")[0]["path"]


def test_the_call_log_keeps_the_calls_that_started_between_date_from_and_date_to(client, emulator):
    times = ["2026-03-01T08:59:59Z", "2026-03-01T09:00:00Z", "2026-03-01T16:59:59.500Z", "2026-03-01T17:00:00Z"]
    emulator.add_call_log([{"id": f"call-{n}", "startTime": at} for n, at in enumerate(times)])

    records = client.read_call_log(dateFrom="2026-03-01T09:00:00Z", dateTo="2026-03-01T17:00:00+00:00")

    assert [r.id for r in records] == ["call-1", "call-2"]


# ---------------------------------------------------------------------------- auth


def test_it_logs_in_once_and_reuses_its_token(client, emulator):
    for _ in range(3):
        client.read_queue(DEMO_QUEUE)

    assert len(calls(emulator, "POST", "/oauth/token")) == 1


def test_it_renews_its_token_shortly_before_it_expires(emulator, make_client):
    emulator.configure(token_ttl=1)
    client = make_client(emulator)
    client.read_queue(DEMO_QUEUE)
    time.sleep(0.95)  # past 90% of the token's life: renewed before RingCentral would refuse it

    client.read_queue(DEMO_QUEUE)

    assert len(calls(emulator, "POST", "/oauth/token")) == 2
    assert 401 not in statuses(emulator)


def test_it_logs_in_again_on_a_401_and_retries(client, emulator):
    client.read_queue(DEMO_QUEUE)
    emulator.expire_tokens()

    client.read_queue(DEMO_QUEUE)

    assert statuses(emulator) == [200, 200, 401, 200, 200]
    assert len(calls(emulator, "POST", "/oauth/token")) == 2


def test_refused_credentials_are_a_permanent_error_without_retries(emulator, make_client):
    client = make_client(emulator, client_secret="wrong")

    with pytest.raises(ProviderError) as error:
        client.read_queue(DEMO_QUEUE)

    assert (error.value.status, error.value.code, error.value.permanent) == (401, "OAU-153", True)
    assert statuses(emulator) == [401]


def test_a_refused_login_is_not_asked_again_for_every_call(emulator, make_client):
    client = make_client(emulator, client_secret="wrong")
    for queue_id in (DEMO_QUEUE, DEMO_QUEUE, DEMO_QUEUE):
        with pytest.raises(ProviderError) as error:
            client.read_queue(queue_id)
        assert error.value.code == "OAU-153"
    assert statuses(emulator) == [401]  # one login attempt: the Auth budget is 5 a minute


def test_it_never_shows_the_jwt_or_the_token(emulator, caplog, make_client):
    caplog.set_level(logging.DEBUG)
    client = make_client(emulator)
    client.read_queue(DEMO_QUEUE)
    emulator.expire_tokens()
    client.read_queue(DEMO_QUEUE)
    with pytest.raises(ProviderError) as error:
        client.read_queue("999")
    tokens = client._token

    shown = caplog.text + str(error.value) + repr(error.value) + repr(client) + repr(tokens)
    assert client._jwt not in shown
    assert tokens.access not in shown
    assert tokens.refresh not in shown
    assert "logged in" in caplog.text  # the log did record the logins


# ---------------------------------------------------------------------------- errors and retries


def test_not_found_is_a_permanent_404_with_cmn_102(client, emulator):
    with pytest.raises(ProviderError) as error:
        client.read_queue("999")

    assert (error.value.status, error.value.code, error.value.permanent) == (404, "CMN-102", True)
    assert len(calls(emulator, "GET")) == 1


def test_no_permission_is_a_permanent_403_with_cmn_408(client):
    with pytest.raises(ProviderError) as error:
        client.write_agent_queue_presence(JAMES, {SAMPLE_QUEUE: False})

    assert (error.value.status, error.value.code, error.value.permanent) == (403, "CMN-408", True)


def test_it_does_not_retry_a_400(client, emulator):
    with pytest.raises(ProviderError) as error:
        client.write_queue_presence(ADAMS, {OLENA: True})  # Olena is not a member of Dr. Adams's queue

    assert (error.value.status, error.value.code, error.value.permanent) == (400, "CMN-101", True)
    assert len(calls(emulator, "PUT")) == 1


def test_it_retries_503s_until_it_succeeds(client, emulator):
    client.read_queue(DEMO_QUEUE)
    emulator.configure(fail_rate=0.5)

    for _ in range(4):
        client.write_queue_presence(DEMO_QUEUE, {JAMES: True})

    assert [r["status"] for r in calls(emulator, "PUT")] == [200, 503, 200, 503, 200, 503, 200]


def test_it_gives_up_on_503s_after_its_attempts_and_says_try_later(client, emulator):
    client.read_queue(DEMO_QUEUE)
    emulator.configure(fail_rate=1.0)

    with pytest.raises(ProviderError) as error:
        client.write_queue_presence(DEMO_QUEUE, {JAMES: True})

    assert (error.value.status, error.value.code, error.value.permanent) == (503, "CMN-201", False)
    assert len(calls(emulator, "PUT")) == client.max_attempts


def test_it_retries_connection_errors_then_says_try_later(refused_url):
    client = RingCentralClient(refused_url, "id", "secret", "jwt", store=InProcessStore(), backoff=(0.01, 0.02))

    with pytest.raises(ProviderError) as error:
        client.read_queue(DEMO_QUEUE)

    assert error.value.permanent is False
    assert "ConnectionError" in str(error.value)


def test_an_unreachable_server_fails_the_next_calls_at_once(refused_url):
    slow = RingCentralClient(refused_url, "id", "secret", "jwt", store=InProcessStore(), backoff=(0.2, 0.2))
    with pytest.raises(ProviderError):
        slow.read_queue(DEMO_QUEUE)  # every retry refused: about a second of backoff
    started = time.monotonic()
    for _ in range(3):
        with pytest.raises(ProviderError, match="unreachable"):
            slow.read_queue(DEMO_QUEUE)
    assert time.monotonic() - started < 0.1


@pytest.fixture
def refused_url():
    """A local URL whose port was free a moment ago, so connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


# ---------------------------------------------------------------------------- pacing


def test_it_paces_its_own_load_to_meet_no_429_learning_the_window_from_headers(client, emulator):
    started = time.monotonic()
    for n in range(45):  # Medium allows 40 per window (1 s here; the client starts out assuming 60 s)
        client.write_queue_presence(DEMO_QUEUE, {JAMES: n % 2 == 0})

    assert 429 not in statuses(emulator)
    assert 1.0 <= time.monotonic() - started < 3.0


def test_it_honours_retry_after_when_others_spent_the_budget(client, emulator):
    client.read_queue(DEMO_QUEUE)
    foreign_load(emulator, 40)
    emulator.clear_requests()

    client.write_queue_presence(DEMO_QUEUE, {JAMES: False})

    refused, accepted = calls(emulator, "PUT")
    assert (refused["status"], accepted["status"]) == (429, 200)
    assert accepted["at"] - refused["at"] >= 1.0  # Retry-After: 1


def test_it_counts_load_it_did_not_send_from_the_remaining_header(client, emulator):
    client.read_queue(DEMO_QUEUE)
    foreign_load(emulator, 39)

    client.write_queue_presence(DEMO_QUEUE, {JAMES: False})  # the 40th: the answer says 0 remaining
    client.write_queue_presence(DEMO_QUEUE, {JAMES: True})  # so this one waits instead of meeting a 429

    assert 429 not in statuses(emulator)
    first, second = calls(emulator, "PUT", DEMO_QUEUE)
    assert second["at"] - first["at"] >= 0.9


def test_it_stops_pacing_a_group_whose_answers_announce_no_limits(client, emulator):
    emulator.configure(rate_limits=False)
    started = time.monotonic()

    for n in range(60):  # past the 40 the client assumes for Medium before an answer says otherwise
        client.write_queue_presence(DEMO_QUEUE, {JAMES: n % 2 == 0})

    assert time.monotonic() - started < 1.0


def test_an_unreachable_redis_budget_is_an_error_worth_retrying(emulator, make_client, refused_url):
    client = make_client(emulator, store=RedisStore(refused_url.replace("http", "redis")))

    with pytest.raises(ProviderError) as error:
        client.read_queue(DEMO_QUEUE)

    assert error.value.permanent is False
    assert "Redis" in str(error.value)


@needs_redis
def test_clients_sharing_a_redis_store_share_one_budget(emulator, make_client):
    prefix = f"test-rc-pacing:{uuid.uuid4().hex}"
    clients = [make_client(emulator, store=RedisStore(REDIS_URL, prefix=prefix)) for _ in range(2)]
    for c in clients:
        c.read_queue(DEMO_QUEUE)

    def write(c, agent):
        for n in range(30):
            c.write_queue_presence(DEMO_QUEUE, {agent: n % 2 == 0})

    threads = [threading.Thread(target=write, args=pair) for pair in zip(clients, (JAMES, MARIA), strict=True)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert 429 not in statuses(emulator)
    assert len(calls(emulator, "PUT")) == 60
    assert time.monotonic() - started >= 1.0  # 60 Medium writes cannot fit in one 1 s window of 40


@pytest.mark.parametrize(
    "method, path, group",
    [
        ("POST", "/restapi/oauth/token", AUTH),
        ("GET", "/restapi/v1.0/status", None),
        ("GET", "/restapi/v1.0/account/~/call-queues", MEDIUM),
        ("GET", "/restapi/v1.0/account/~/call-queues/1", LIGHT),
        ("PUT", "/restapi/v1.0/account/~/call-queues/1", LIGHT),
        ("GET", "/restapi/v1.0/account/~/call-queues/1/members", LIGHT),
        ("GET", "/restapi/v1.0/account/~/call-queues/1/presence", LIGHT),
        ("PUT", "/restapi/v1.0/account/~/call-queues/1/presence", MEDIUM),
        ("GET", "/restapi/v1.0/account/~/extension/~/call-queue-presence", LIGHT),
        ("PUT", "/restapi/v1.0/account/~/extension/1/call-queue-presence", MEDIUM),
        ("GET", "/restapi/v1.0/account/~/extension/1,2,3/presence", LIGHT),
        ("PUT", "/restapi/v1.0/account/~/extension/1/presence", MEDIUM),
        ("GET", "/restapi/v1.0/account/~/call-log", HEAVY),
        ("GET", "/restapi/v1.0/account/~/extension/~/call-log", HEAVY),
        ("DELETE", "/restapi/v1.0/account/~/anything-else", HEAVY),
    ],
)
def test_each_endpoint_counts_in_its_usage_plan_group(method, path, group):
    assert group_for(method, path) == group


def test_garbled_rate_limit_headers_are_ignored():
    headers = {"X-Rate-Limit-Group": "medium", "X-Rate-Limit-Limit": "forty"}

    assert budget_from_headers(headers) is None


# ---------------------------------------------------------------------------- building from settings


@pytest.mark.parametrize(
    "broker, explicit, store",
    [
        ("redis://127.0.0.1:6379/0", "", RedisStore),
        ("sqla+sqlite:///broker.sqlite3", "", InProcessStore),
        ("sqla+sqlite:///broker.sqlite3", "redis://127.0.0.1:6379/2", RedisStore),
    ],
)
def test_settings_pick_a_shared_redis_budget_when_there_is_redis(broker, explicit, store):
    with override_settings(CELERY_BROKER_URL=broker, RC_RATE_LIMIT_REDIS_URL=explicit):
        client = client_from_settings()

    assert isinstance(client.pacer.store, store)


@pytest.fixture
def client(rc_client):
    """Here `client` is the RingCentral client, not Django's test client."""
    return rc_client


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (RingCentralError("x", status=404, code="CMN-102"), "the queue or extension does not exist at RingCentral"),
        (RingCentralError("x", status=403, code="CMN-408"), "RingCentral does not allow this change"),
        (RingCentralError("x", status=403), "RingCentral does not allow this change (no permission)"),
        (RingCentralError("x", status=429, code="CMN-301"), "RingCentral is busy, we will retry"),
        (RingCentralError("x", status=503), "RingCentral is busy, we will retry"),
        (RingCentralError("x"), "RingCentral could not be reached, we will retry"),
    ],
)
def test_provider_errors_are_put_in_words(error, words):
    assert error.describe().startswith(words)
