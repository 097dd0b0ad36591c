"""The RingCentral emulator over raw HTTP: it refuses what RingCentral refuses, the way RingCentral does."""

import json
import time

import pytest
import requests
from django.core.management import CommandError
from django.test import override_settings
from werkzeug.test import Client

from integrations.ringcentral.emulator import Account, Agent, Credentials, Emulator
from integrations.ringcentral.multipart import parse_batch
from scheduler.management.commands import run_emulator

SAMPLES_SEED = "tests/ringcentral_samples/seed.yaml"
DEMO_QUEUE, SAMPLE_QUEUE, ADAMS, BAKER = "61986637000", "1081167000", "62284876000", "62376752000"
JAMES, MARIA, OLENA = "111111111", "222222222", "333333333"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
APP = ("emulator-client", "emulator-secret")  # the harness's made-up client id and secret
ACCOUNT = "/restapi/v1.0/account/~"


class Api:
    """Raw HTTP to the emulator, as any RingCentral client would send it."""

    def __init__(self, emulator):
        self.emulator, self.url, self.session = emulator, emulator.url, requests.Session()
        self.credentials = emulator.client_kwargs()
        self.token = ""

    def log_in(self, **form) -> requests.Response:
        c = self.credentials
        body = {"grant_type": JWT_GRANT, "assertion": c["jwt"]} | form
        response = self.post_token(body, auth=(c["client_id"], c["client_secret"]))
        if response.ok:
            self.token = response.json()["access_token"]
        return response

    def post_token(self, body: dict, auth) -> requests.Response:
        return self.session.post(f"{self.url}/restapi/oauth/token", data=body, auth=auth, timeout=5)

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        token = self.token if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.session.request(method, f"{self.url}{path}", headers=headers, timeout=5, **kwargs)


@pytest.fixture
def api(emulator):
    api = Api(emulator)
    api.log_in().raise_for_status()
    return api


def error_of(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["errorCode"]


# ---------------------------------------------------------------------------- auth


def test_it_issues_a_token_for_the_jwt_bearer_grant_with_basic_client_auth(emulator):
    response = Api(emulator).log_in()

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["owner_id"] == JAMES


@pytest.mark.parametrize(
    "form, auth, status, error",
    [
        ({"grant_type": JWT_GRANT, "assertion": "emulator-jwt"}, ("emulator-client", "wrong"), 401, "invalid_client"),
        ({"grant_type": JWT_GRANT, "assertion": "emulator-jwt"}, None, 401, "invalid_client"),
        ({"grant_type": JWT_GRANT, "assertion": "forged"}, APP, 400, "invalid_grant"),
        ({"grant_type": "password"}, APP, 400, "unsupported_grant_type"),
    ],
)
def test_it_refuses_wrong_credentials_at_the_token_endpoint(emulator, form, auth, status, error):
    response = Api(emulator).post_token(form, auth=auth)

    assert (response.status_code, response.json()["error"]) == (status, error)


def test_a_refresh_token_buys_a_new_token_once(emulator):
    api = Api(emulator)
    refresh = api.log_in().json()["refresh_token"]
    auth = (api.credentials["client_id"], api.credentials["client_secret"])

    first = api.post_token({"grant_type": "refresh_token", "refresh_token": refresh}, auth=auth)
    again = api.post_token({"grant_type": "refresh_token", "refresh_token": refresh}, auth=auth)

    assert first.status_code == 200 and api.call("GET", ACCOUNT + "/call-queues", first.json()["access_token"]).ok
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_a_refresh_rotates_both_tokens_and_revokes_the_old_access_token(emulator):
    api = Api(emulator)
    first = api.log_in().json()

    renewed = api.post_token({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, auth=APP).json()

    assert renewed["refresh_token"] != first["refresh_token"]
    assert api.call("GET", ACCOUNT + "/call-queues", first["access_token"]).status_code == 401
    assert api.call("GET", ACCOUNT + "/call-queues", renewed["access_token"]).ok


def test_a_refresh_token_expires_after_its_ttl(emulator):
    emulator.configure(refresh_token_ttl=1)
    refresh = Api(emulator).log_in().json()["refresh_token"]
    time.sleep(1.05)

    response = Api(emulator).post_token({"grant_type": "refresh_token", "refresh_token": refresh}, auth=APP)

    assert (response.status_code, response.json()["errors"][0]["errorCode"]) == (400, "OAU-211")


def test_a_sixth_session_revokes_the_oldest_with_its_refresh_token(emulator):
    emulator.configure(rate_limits=False)
    sessions = [Api(emulator).log_in().json() for _ in range(6)]
    api = Api(emulator)

    oldest, *others = sessions
    assert api.call("GET", ACCOUNT + "/call-queues", oldest["access_token"]).status_code == 401
    assert all(api.call("GET", ACCOUNT + "/call-queues", s["access_token"]).ok for s in others)
    refused = api.post_token({"grant_type": "refresh_token", "refresh_token": oldest["refresh_token"]}, auth=APP)
    assert refused.status_code == 400


def test_refreshing_keeps_the_session_so_it_revokes_nobody(emulator):
    emulator.configure(rate_limits=False)
    sessions = [Api(emulator).log_in().json() for _ in range(5)]
    refresh = sessions[-1]["refresh_token"]
    for _ in range(3):
        refresh = (
            Api(emulator)
            .post_token({"grant_type": "refresh_token", "refresh_token": refresh}, auth=APP)
            .json()["refresh_token"]
        )

    assert Api(emulator).call("GET", ACCOUNT + "/call-queues", sessions[0]["access_token"]).ok


@pytest.mark.parametrize(
    "token, code", [("", "AGW-401"), ("no-such-token", "TokenInvalid")], ids=["no token", "unknown token"]
)
def test_api_calls_without_a_valid_token_get_401(api, token, code):
    response = api.call("GET", ACCOUNT + "/call-queues", token=token)

    assert error_of(response) == (401, code)


def test_tokens_expire_after_their_ttl(api, emulator):
    emulator.configure(token_ttl=1)
    api.log_in()
    time.sleep(1.05)

    response = api.call("GET", ACCOUNT + "/call-queues")

    assert error_of(response) == (401, "TokenInvalid")
    assert response.json()["errors"][0]["errorCode"] == "OAU-213"


def test_the_control_api_can_expire_every_token_at_once(api, emulator):
    emulator.expire_tokens()

    assert api.call("GET", ACCOUNT + "/call-queues").status_code == 401


# ---------------------------------------------------------------------------- rate limits


@pytest.mark.parametrize(
    "method, path, group, limit",
    [
        ("GET", "/call-queues", "medium", 40),
        ("GET", f"/call-queues/{DEMO_QUEUE}", "light", 50),
        ("PUT", f"/call-queues/{DEMO_QUEUE}", "light", 50),
        ("GET", f"/call-queues/{DEMO_QUEUE}/presence", "light", 50),
        ("PUT", f"/call-queues/{DEMO_QUEUE}/presence", "medium", 40),
        ("GET", "/extension/~/call-queue-presence", "light", 50),
        ("PUT", "/extension/~/call-queue-presence", "medium", 40),
        ("GET", "/extension/~/presence", "light", 50),
        ("PUT", "/extension/~/presence", "medium", 40),
        ("GET", "/call-log", "heavy", 10),
    ],
)
def test_it_counts_each_endpoint_in_its_usage_plan_group(api, method, path, group, limit):
    response = api.call(method, ACCOUNT + path, json={"records": []} if method == "PUT" else None)

    headers = {name: response.headers[f"X-Rate-Limit-{name}"] for name in ("Group", "Limit", "Remaining", "Window")}
    assert headers == {"Group": group, "Limit": str(limit), "Remaining": str(limit - 1), "Window": "1"}


def test_the_token_endpoint_counts_in_the_auth_group(emulator):
    response = Api(emulator).log_in()

    assert (response.headers["X-Rate-Limit-Group"], response.headers["X-Rate-Limit-Limit"]) == ("auth", "5")


def test_past_the_limit_it_answers_429_with_retry_after_until_the_penalty_ends(api):
    statuses = [api.call("GET", ACCOUNT + "/call-log").status_code for _ in range(11)]

    refused = api.call("GET", ACCOUNT + "/call-log")
    assert statuses == [200] * 10 + [429]
    assert error_of(refused) == (429, "CMN-301")
    assert refused.headers["Retry-After"] == "1" and refused.headers["X-Rate-Limit-Remaining"] == "0"
    time.sleep(1.05)
    assert api.call("GET", ACCOUNT + "/call-log").status_code == 200


def test_the_sixth_login_in_a_window_is_refused_429_in_the_auth_group(emulator):
    statuses = [Api(emulator).log_in().status_code for _ in range(6)]

    assert statuses == [200] * 5 + [429]


def test_every_request_during_the_penalty_restarts_it(api):
    for _ in range(11):
        api.call("GET", ACCOUNT + "/call-log")  # the 11th is the first 429: a 1 s penalty starts
    for _ in range(3):
        time.sleep(0.6)  # each knock lands inside the penalty, which it restarts
        assert api.call("GET", ACCOUNT + "/call-log").status_code == 429
    time.sleep(1.05)

    assert api.call("GET", ACCOUNT + "/call-log").status_code == 200


def test_it_can_answer_429_without_retry_after(api, emulator):
    emulator.configure(retry_after=False)

    refused = [api.call("GET", ACCOUNT + "/call-log") for _ in range(11)][-1]

    assert error_of(refused) == (429, "CMN-301")
    assert "Retry-After" not in refused.headers


def test_the_request_log_names_each_grant(emulator):
    api = Api(emulator)
    refresh = api.log_in().json()["refresh_token"]
    api.post_token({"grant_type": "refresh_token", "refresh_token": refresh}, auth=APP)

    assert [r["grant"] for r in emulator.requests()] == [JWT_GRANT, "refresh_token"]


def test_with_rate_limits_off_nothing_is_counted(api, emulator):
    emulator.configure(rate_limits=False)

    responses = [api.call("GET", ACCOUNT + "/call-log") for _ in range(15)]

    assert {r.status_code for r in responses} == {200}
    assert "X-Rate-Limit-Group" not in responses[0].headers


def test_the_status_endpoint_needs_no_token_and_is_not_throttled(api):
    response = api.call("GET", "/restapi/v1.0/status", token="")

    assert response.json()["status"] == "OK" and "X-Rate-Limit-Group" not in response.headers


# ---------------------------------------------------------------------------- queues and presence


def test_memberships_come_from_the_shifts_of_the_seed(api):
    members = api.call("GET", f"{ACCOUNT}/call-queues/{ADAMS}/members").json()["records"]

    assert [str(m["id"]) for m in members] == [JAMES]


def test_editable_member_status_comes_from_the_seed_and_can_be_changed(api):
    path = f"{ACCOUNT}/call-queues/{SAMPLE_QUEUE}"
    assert api.call("GET", path).json()["editableMemberStatus"] is False

    api.call("PUT", path, json={"editableMemberStatus": True})

    assert api.call("GET", path).json()["editableMemberStatus"] is True


def test_it_lists_call_queues_a_page_at_a_time(api):
    first = api.call("GET", ACCOUNT + "/call-queues", params={"perPage": 3}).json()
    second = api.call("GET", ACCOUNT + "/call-queues", params={"perPage": 3, "page": 2}).json()

    assert [len(first["records"]), len(second["records"])] == [3, 1]
    assert "nextPage" in first["navigation"] and "nextPage" not in second["navigation"]
    assert first["paging"]["totalElements"] == 4


@pytest.mark.parametrize(
    "dnd, accepts_queue_calls",
    [("TakeAllCalls", True), ("DoNotAcceptDepartmentCalls", False), ("DoNotAcceptAnyCalls", False)],
)
def test_accept_queue_calls_follows_dnd_in_every_queue(api, dnd, accepts_queue_calls):
    api.call("PUT", f"{ACCOUNT}/extension/{JAMES}/presence", json={"dndStatus": dnd}).raise_for_status()

    for queue in (SAMPLE_QUEUE, DEMO_QUEUE, ADAMS, BAKER):
        records = api.call("GET", f"{ACCOUNT}/call-queues/{queue}/presence").json()["records"]
        james = next(r for r in records if r["member"]["id"] == JAMES)
        assert (james["acceptQueueCalls"], james["acceptCurrentQueueCalls"]) == (accepts_queue_calls, True)


def test_it_refuses_to_set_the_legacy_take_department_calls_only(api):
    response = api.call("PUT", f"{ACCOUNT}/extension/{JAMES}/presence", json={"dndStatus": "TakeDepartmentCallsOnly"})

    assert error_of(response) == (400, "CMN-101")
    assert api.call("GET", f"{ACCOUNT}/extension/{JAMES}/presence").json()["dndStatus"] == "TakeAllCalls"


def test_a_queue_has_no_dnd_to_set(api):
    response = api.call("PUT", f"{ACCOUNT}/extension/{DEMO_QUEUE}/presence", json={"dndStatus": "TakeAllCalls"})

    assert error_of(response) == (403, "PRS-106")


def test_members_cannot_change_their_status_where_the_queue_does_not_allow_it(api):
    body = {"records": [{"callQueue": {"id": DEMO_QUEUE}, "acceptCalls": False}]}
    body["records"].append({"callQueue": {"id": SAMPLE_QUEUE}, "acceptCalls": False})

    response = api.call("PUT", f"{ACCOUNT}/extension/{JAMES}/call-queue-presence", json=body)

    assert error_of(response) == (403, "CMN-408")
    records = api.call("GET", f"{ACCOUNT}/extension/{JAMES}/call-queue-presence").json()["records"]
    assert all(r["acceptCalls"] for r in records)  # nothing of the refused request was applied


def test_it_accepts_callqueue_in_either_spelling_and_answers_callQueue(api):
    body = {"records": [{"callqueue": {"id": ADAMS}, "acceptCalls": False}]}

    response = api.call("PUT", f"{ACCOUNT}/extension/~/call-queue-presence", json=body)

    assert {"callQueue": ADAMS, "acceptCalls": False} in [
        {"callQueue": r["callQueue"]["id"], "acceptCalls": r["acceptCalls"]} for r in response.json()["records"]
    ]
    assert all("callqueue" not in r for r in response.json()["records"])


def test_tilde_is_the_extension_that_owns_the_jwt(api):
    presence = api.call("GET", f"{ACCOUNT}/extension/~/presence").json()

    assert str(presence["extension"]["id"]) == JAMES


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/call-queues/999"),
        ("GET", "/call-queues/999/members"),
        ("GET", "/call-queues/999/presence"),
        ("PUT", "/call-queues/999/presence"),
        ("GET", "/extension/999/presence"),
        ("GET", "/extension/999/call-queue-presence"),
        ("PUT", "/extension/999/presence"),
    ],
)
def test_unknown_queues_and_extensions_are_404_cmn_102(api, method, path):
    response = api.call(method, ACCOUNT + path, json={"records": []} if method == "PUT" else None)

    assert error_of(response) == (404, "CMN-102")
    assert set(response.json()) == {"errorCode", "message", "errors"}


def member(agent_id, accept="missing") -> dict:
    return {"member": {"id": agent_id}} | ({} if accept == "missing" else {"acceptCurrentQueueCalls": accept})


@pytest.mark.parametrize(
    "path, body",
    [
        (f"/call-queues/{DEMO_QUEUE}/presence", b"{not json"),
        (f"/call-queues/{DEMO_QUEUE}/presence", []),
        (f"/call-queues/{DEMO_QUEUE}/presence", {"records": "all"}),
        (f"/call-queues/{DEMO_QUEUE}/presence", {"records": [member(JAMES)]}),
        (f"/call-queues/{DEMO_QUEUE}/presence", {"records": [member(JAMES, "yes")]}),
        (f"/call-queues/{ADAMS}/presence", {"records": [member(OLENA, True)]}),  # not a member of that queue
        ("/extension/~/call-queue-presence", {"records": [{"callQueue": {"id": DEMO_QUEUE}}]}),
        (f"/call-queues/{DEMO_QUEUE}", {"editableMemberStatus": "true"}),
        ("/extension/~/presence", {"dndStatus": "Sleeping"}),
    ],
)
def test_malformed_bodies_are_400_cmn_101(api, path, body):
    response = api.call("PUT", ACCOUNT + path, data=body if isinstance(body, bytes) else json.dumps(body))

    assert error_of(response) == (400, "CMN-101")
    assert response.json()["errors"][0]["errorCode"] == "CMN-101"


def test_a_malformed_call_log_date_is_400_cmn_101(api):
    response = api.call("GET", ACCOUNT + "/call-log", params={"dateFrom": "yesterday"})

    assert error_of(response) == (400, "CMN-101")


# ---------------------------------------------------------------------------- batch presence


def test_batch_presence_is_207_multipart_with_the_status_summary_first(api):
    response = api.call("GET", f"{ACCOUNT}/extension/{JAMES},999,{MARIA}/presence")

    assert response.status_code == 207
    assert response.headers["Content-Type"].startswith("multipart/mixed; boundary=")
    summary = response.text.split("--")[1]
    assert '"response"' in summary and '"href"' in summary
    parts = parse_batch(response.headers["Content-Type"], response.content)
    assert [p.status for p in parts] == [200, 404, 200]
    assert [p.body.get("dndStatus") for p in parts] == ["TakeAllCalls", None, "TakeAllCalls"]
    assert parts[1].body["errorCode"] == "CMN-102"


def test_a_deleted_extension_fails_its_own_batch_part_with_404_cmn_102(api, emulator):
    emulator.delete_extension(MARIA)

    response = api.call("GET", f"{ACCOUNT}/extension/{JAMES},{MARIA},{OLENA}/presence")

    parts = parse_batch(response.headers["Content-Type"], response.content)
    assert [p.status for p in parts] == [200, 404, 200]
    assert parts[1].body["errorCode"] == "CMN-102"
    assert parts[1].body["errors"][0]["parameterName"] == "extensionId"
    queue_members = api.call("GET", f"{ACCOUNT}/call-queues/{DEMO_QUEUE}/members").json()["records"]
    assert MARIA not in {str(m["id"]) for m in queue_members}


def test_batch_presence_of_more_than_30_extensions_is_refused(api):
    response = api.call("GET", f"{ACCOUNT}/extension/{','.join([JAMES] * 31)}/presence")

    assert error_of(response) == (400, "InvalidMultipartRequest")


# ---------------------------------------------------------------------------- faults and the control API


def test_it_answers_the_configured_share_of_requests_with_503(api, emulator):
    emulator.configure(fail_rate=0.25)

    statuses = [api.call("GET", f"{ACCOUNT}/call-queues/{DEMO_QUEUE}").status_code for _ in range(8)]

    assert statuses == [200, 200, 200, 503] * 2


def test_it_adds_the_configured_latency(api, emulator):
    emulator.configure(latency=0.2)
    started = time.monotonic()

    api.call("GET", f"{ACCOUNT}/call-queues/{DEMO_QUEUE}")

    assert time.monotonic() - started >= 0.2


def test_the_request_log_can_be_dumped_and_cleared(api, emulator):
    api.call("GET", ACCOUNT + "/call-queues", params={"perPage": 2})

    [logged] = [r for r in emulator.requests() if r["method"] == "GET"]
    assert (logged["path"], logged["status"], logged["group"]) == (f"{ACCOUNT}/call-queues?perPage=2", 200, "medium")
    emulator.clear_requests()
    assert emulator.requests() == []


def test_the_control_api_refuses_bad_settings(emulator):
    response = requests.patch(f"{emulator.url}/_emulator/config", json={"fail_rate": 2}, timeout=5)

    assert error_of(response) == (400, "CMN-101")


def test_the_control_api_answers_loopback_clients_only():
    account = Account(queues={}, agents={JAMES: Agent(JAMES, "James Smith", "101")})
    emulator = Emulator(account, Credentials("id", "secret", "jwt"), owner=JAMES)
    response = Client(emulator).get("/_emulator/requests", environ_base={"REMOTE_ADDR": "192.0.2.7"})

    assert response.status_code == 403


def test_flags_set_limits_faults_tokens_and_the_owner(start_emulator):
    flags = ["--rate-limits", "off", "--rate-window", "5", "--token-ttl", "60", "--fail-rate", "0.5", "--latency", "0"]
    flags += ["--write-fail-rate", "0.25"]
    emulator = start_emulator(*flags, "--owner", MARIA)

    assert emulator.config() == {
        "rate_limits": False,
        "rate_window": 5.0,
        "token_ttl": 60,
        "fail_rate": 0.5,
        "write_fail_rate": 0.25,
        "latency": 0.0,
        "retry_after": True,
        "refresh_token_ttl": 7 * 24 * 3600,
        "ws_recovery_timeout": 180,
    }
    emulator.configure(fail_rate=0.0)
    assert Api(emulator).log_in().json()["owner_id"] == MARIA


# ---------------------------------------------------------------------------- the command


def build_server(*argv: str):
    """What `manage.py run_emulator ARGV` builds before it serves (closed again at once)."""
    command = run_emulator.Command()
    options = vars(command.create_parser("manage.py", "run_emulator").parse_args(argv))
    command.build_server(options).server_close()


@override_settings(RC_CLIENT_ID="id", RC_CLIENT_SECRET="secret", RC_JWT="jwt")
def test_the_command_refuses_a_seed_with_mistakes(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("queues:\n  - name: No id\n")

    with pytest.raises(CommandError, match=r"queues\[0\]\.id: is required"):
        build_server("--seed", str(seed), "--port", "0")


@override_settings(RC_CLIENT_ID="id", RC_CLIENT_SECRET="secret", RC_JWT="jwt")
@pytest.mark.parametrize(
    "flags, message",
    [(["--owner", "42"], "owner"), (["--fail-rate", "1.5"], "fail_rate"), (["--rate-window", "0"], "rate_window")],
)
def test_the_command_refuses_bad_flags(flags, message):
    with pytest.raises(CommandError, match=message):
        build_server("--seed", str(SAMPLES_SEED), "--port", "0", *flags)


@override_settings(RC_CLIENT_ID="", RC_CLIENT_SECRET="secret", RC_JWT="jwt")
def test_the_command_needs_credentials():
    with pytest.raises(CommandError, match="RC_CLIENT_ID"):
        build_server("--seed", str(SAMPLES_SEED), "--port", "0")
