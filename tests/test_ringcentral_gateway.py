"""The emulator's WebSocket gateway speaks RingCentral's WSG protocol, recovery included."""

import asyncio
import json
import threading

import pytest
import requests
from ringcentral import SDK
from ringcentral.websocket.events import WebSocketEvents
from ringcentral.websocket.web_socket_client import WebSocketClient
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from werkzeug.wrappers import Request, Response

from integrations.emulation import serve
from integrations.ringcentral.emulator import ACCOUNT_ID
from integrations.ringcentral.gateway import RECOVERY_TIMEOUT, WS_PATH, Gateway
from scheduler.schedule.parse import DEMO_SCHEDULE
from tests.support.emulators import RingCentralProcess

ACCOUNT = "400000001"
JAMES, MARIA = "111111111", "222222222"
QUEUE_FILTER = "/restapi/v1.0/account/~/call-queues/1081167000/presence"
QUEUE_EVENT = f"/restapi/v1.0/account/{ACCOUNT}/call-queues/1081167000/presence"
OTHER_EVENT = f"/restapi/v1.0/account/{ACCOUNT}/call-queues/62284876000/presence"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def gateway():
    clock = Clock()
    gateway = Gateway(ACCOUNT, clock=clock)
    gateway.clock = clock

    def app(environ, start_response):
        request = Request(environ)
        response = gateway.serve(environ) if request.path == WS_PATH else Response(status=404)
        return response(environ, start_response)

    server = serve(app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    gateway.origin = f"http://127.0.0.1:{server.server_port}"
    yield gateway
    server.shutdown()


def open_ws(gateway, wsc=None):
    ticket = gateway.ticket("owner-1", gateway.origin)
    url = f"{ticket['uri']}?access_token={ticket['ws_access_token']}" + (f"&wsc={wsc}" if wsc else "")
    ws = connect(url, open_timeout=5)
    return ws, json.loads(ws.recv(timeout=5))


def subscribe(ws, filters) -> list:
    ws.send(json.dumps([{"type": "ClientRequest", "messageId": "m1", "method": "POST",
                         "path": "/restapi/v1.0/subscription/"},
                        {"eventFilters": filters, "deliveryMode": {"transportType": "WebSocket"}}]))  # fmt: skip
    return json.loads(ws.recv(timeout=5))


def test_connection_details_then_a_subscription_gets_only_its_filters_events(gateway):
    ws, details = open_ws(gateway)
    assert details[0]["type"] == "ConnectionDetails" and details[0]["wsc"]["token"]
    assert details[1]["recoveryTimeout"] == RECOVERY_TIMEOUT and "recoveryState" not in details[1]
    head, body = subscribe(ws, [QUEUE_FILTER])
    assert head["status"] == 200 and head["headers"]["WSG-SubscriptionId"] == body["id"]
    assert body["eventFilters"] == [QUEUE_FILTER] and body["status"] == "Active"
    gateway.publish(OTHER_EVENT, {"records": [{"member": {"id": "1"}, "acceptCurrentQueueCalls": False}]})
    gateway.publish(QUEUE_EVENT, {"records": [{"member": {"id": "2"}, "acceptCurrentQueueCalls": True}]})
    head, envelope = json.loads(ws.recv(timeout=5))
    assert head["type"] == "ServerNotification" and head["wsc"]["sequence"] == 3
    assert envelope["event"] == QUEUE_EVENT and envelope["subscriptionId"] == body["id"]
    assert envelope["body"]["records"][0]["member"]["id"] == "2"
    ws.send(json.dumps([{"type": "Heartbeat", "messageId": "hb"}]))
    assert json.loads(ws.recv(timeout=5)) == [
        {"type": "Heartbeat", "messageId": "hb", "status": 200, "wsc": {"token": head["wsc"]["token"], "sequence": 4}}
    ]
    ws.close()


def test_a_dropped_session_recovers_within_the_timeout_and_replays_what_it_missed(gateway):
    ws, details = open_ws(gateway)
    subscribe(ws, [QUEUE_FILTER])
    ws.close()
    wait_until_dropped(gateway)
    gateway.publish(QUEUE_EVENT, {"records": [{"member": {"id": "7"}, "acceptCurrentQueueCalls": False}]})
    gateway.clock.now += RECOVERY_TIMEOUT - 1
    ws, details = open_ws(gateway, wsc=details[0]["wsc"]["token"])
    assert details[1]["recoveryState"] == "Successful"
    head, envelope = json.loads(ws.recv(timeout=5))
    assert head["type"] == "ServerNotification" and envelope["body"]["records"][0]["member"]["id"] == "7"
    ws.close()


def test_after_the_timeout_recovery_fails_and_the_subscriptions_are_gone(gateway):
    ws, details = open_ws(gateway)
    subscribe(ws, [QUEUE_FILTER])
    ws.close()
    wait_until_dropped(gateway)
    gateway.clock.now += RECOVERY_TIMEOUT + 1
    ws, recovered = open_ws(gateway, wsc=details[0]["wsc"]["token"])
    assert recovered[1]["recoveryState"] == "Failed"
    assert recovered[0]["wsc"]["token"] != details[0]["wsc"]["token"]
    assert [s["subscriptions"] for s in gateway.sessions()] == [[]]
    ws.close()


def test_a_ticket_connects_once_and_expires(gateway):
    ticket = gateway.ticket("owner-1", gateway.origin)
    url = f"{ticket['uri']}?access_token={ticket['ws_access_token']}"
    connect(url, open_timeout=5).close()
    with pytest.raises(InvalidStatus, match="401"):
        connect(url, open_timeout=5)
    late = gateway.ticket("owner-1", gateway.origin)
    gateway.clock.now += 61
    with pytest.raises(InvalidStatus, match="401"):
        connect(f"{late['uri']}?access_token={late['ws_access_token']}", open_timeout=5)


def test_unknown_filters_are_refused(gateway):
    ws, _ = open_ws(gateway)
    head, body = subscribe(ws, ["/restapi/v1.0/account/~/telephony/sessions"])
    assert head["status"] == 400 and body["errorCode"] == "SUB-521"
    head, body = subscribe(ws, [])
    assert head["status"] == 400 and body["errorCode"] == "SUB-520"
    ws.close()


def test_an_outage_drops_the_connection_and_refuses_new_ones_until_it_ends(gateway):
    ws, _ = open_ws(gateway)
    gateway.outage(30)
    with pytest.raises(Exception):  # noqa: B017 - closed by the server, however the library words it
        ws.recv(timeout=5)
    with pytest.raises(InvalidStatus, match="503"):
        open_ws(gateway)
    gateway.clock.now += 31
    ws, details = open_ws(gateway)
    assert details[0]["type"] == "ConnectionDetails"
    ws.close()


def wait_until_dropped(gateway) -> None:
    for _ in range(100):
        if not any(s["connected"] for s in gateway.sessions()):
            return
        threading.Event().wait(0.05)
    raise AssertionError("the gateway never saw the connection close")


# ---------------------------------------------------------------------------- the emulator's gateway


@pytest.fixture(scope="module")
def emulator():
    with RingCentralProcess(DEMO_SCHEDULE) as running:
        yield running


def test_the_official_sdk_subscribes_and_hears_every_change_whoever_makes_it(emulator):
    """RingCentral's own WebSocket client: wstoken, ConnectionDetails, a subscription, notifications."""
    platform = SDK(
        emulator.credentials["RC_CLIENT_ID"], emulator.credentials["RC_CLIENT_SECRET"], emulator.url
    ).platform()
    platform.login(jwt=emulator.credentials["RC_JWT"])
    heard: list[dict] = []
    subscribed = threading.Event()

    async def listen_then_change():
        client = WebSocketClient(platform)
        client.on(WebSocketEvents.subscriptionCreated, lambda subscription: subscribed.set())
        client.on(WebSocketEvents.receiveSubscriptionNotification, lambda message: heard.append(message[1]))
        connection = asyncio.create_task(client.create_new_connection())
        while not client._is_ready:  # the SDK offers no other way to wait for its connection
            await asyncio.sleep(0.05)
        await client.create_subscription([QUEUE_FILTER, "/restapi/v1.0/account/~/presence"])
        await asyncio.to_thread(subscribed.wait, 5)
        # Through REST, as another app would; then at the phone, as a person would; then a queue not subscribed.
        body = {"records": [{"member": {"id": JAMES}, "acceptCurrentQueueCalls": False}]}
        await asyncio.to_thread(platform.put, "/restapi/v1.0/account/~/call-queues/1081167000/presence", body)
        await asyncio.to_thread(
            emulator.call, "PUT", f"extensions/{MARIA}/presence", json={"dndStatus": "DoNotAcceptAnyCalls"}
        )
        await asyncio.to_thread(emulator.call, "PUT", f"call-queues/62284876000/members/{JAMES}",
                                json={"acceptCurrentQueueCalls": False})  # fmt: skip
        for _ in range(100):
            if len(heard) >= 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # anything more would arrive now
        await client.close_connection()
        connection.cancel()

    # Its own thread: a browser test earlier in the session may have left an event loop in this one.
    runner = threading.Thread(target=asyncio.run, args=(listen_then_change(),))
    runner.start()
    runner.join(timeout=60)
    assert subscribed.is_set()
    assert [e["event"] for e in heard] == [
        f"/restapi/v1.0/account/{ACCOUNT_ID}/call-queues/1081167000/presence",
        f"/restapi/v1.0/account/{ACCOUNT_ID}/presence",
    ]  # the queue not subscribed to sent nothing
    queue_event, presence_event = heard
    assert queue_event["body"] == {"records": [{"member": {"id": JAMES}, "acceptCurrentQueueCalls": False}]}
    assert (
        presence_event["body"]["extensionId"] == MARIA and presence_event["body"]["dndStatus"] == "DoNotAcceptAnyCalls"
    )
    assert presence_event["body"]["sequence"] == 1


def test_the_ws_token_is_an_auth_group_call_that_needs_a_bearer_token(emulator):
    refused = requests.post(f"{emulator.url}/restapi/oauth/wstoken", timeout=5)
    assert refused.status_code == 401
    emulator.clear_requests()
    platform = SDK(
        emulator.credentials["RC_CLIENT_ID"], emulator.credentials["RC_CLIENT_SECRET"], emulator.url
    ).platform()
    platform.login(jwt=emulator.credentials["RC_JWT"])
    ticket = platform.post("/restapi/oauth/wstoken", {}).json_dict()
    assert ticket["uri"].startswith("ws://") and ticket["uri"].endswith("/ws") and ticket["expires_in"] == 60
    assert [r["group"] for r in emulator.requests()] == ["auth", "auth"]  # the login, then the ticket
