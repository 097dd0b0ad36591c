"""RingPlan's webhook endpoint on a live server: the shared secret, store first, exactly once."""

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from integrations.base import ProviderName
from integrations.models import CallEvent, IdentityKind, ProviderIdentity, WebhookEvent
from queues.models import Agent

SECRET = "test-webhook-secret"
PATH = "/integrations/ringplan/webhook/"


@pytest.fixture
def endpoint(live_server, settings, transactional_db):
    settings.RINGPLAN_WEBHOOK_SECRET = SECRET
    return live_server.url + PATH


def call_event(n: int, kind: str = "dial.action.started") -> dict:
    return {"id": f"evt-{n}", "type": kind, "data": {"call_id": f"call-{n}", "extension": "1001"}}


def post(url, body, secret=SECRET, **kwargs):
    headers = {"X-Webhook-Secret": secret} if secret is not None else {}
    return requests.post(url, data=json.dumps(body), headers=headers, timeout=30, **kwargs)


@pytest.mark.slow
def test_fifty_concurrent_posts_are_all_stored_exactly_once(endpoint):
    agent = Agent.objects.create(provider_id="5001", name="Jane Doe")
    ProviderIdentity.objects.create(
        agent=agent, provider=ProviderName.RINGPLAN, kind=IdentityKind.EXTENSION, external_id="1001"
    )
    bodies = [call_event(n) for n in range(50)] + [call_event(n) for n in range(0, 50, 5)]  # 10 redeliveries
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda body: post(endpoint, body).status_code, bodies))
    assert statuses == [200] * 60
    assert WebhookEvent.objects.count() == 50
    assert sorted(WebhookEvent.objects.values_list("key", flat=True)) == sorted(f"evt-{n}" for n in range(50))
    assert CallEvent.objects.count() == 50 and not CallEvent.objects.filter(agent__isnull=True).exists()
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()


def test_a_redelivery_is_stored_once_and_says_so(endpoint):
    first, second = post(endpoint, call_event(1)).json(), post(endpoint, call_event(1)).json()
    assert (first["stored"], second["stored"], first["id"] == second["id"]) == (True, False, True)
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize("secret", ["wrong", "", None])
def test_a_bad_or_missing_secret_gets_403_and_stores_nothing(endpoint, secret):
    assert post(endpoint, call_event(1), secret=secret).status_code == 403
    assert WebhookEvent.objects.count() == 0


def test_the_secret_may_come_in_the_registered_url(endpoint):
    assert post(endpoint + f"?secret={SECRET}", call_event(1), secret=None).status_code == 200


def test_an_unset_secret_refuses_every_post(endpoint, settings):
    settings.RINGPLAN_WEBHOOK_SECRET = ""
    assert post(endpoint, call_event(1), secret="").status_code == 403


MALFORMED = {
    "not json": (b"not json", "the body is not JSON"),
    "an array": (b"[1, 2]", "must be a JSON object"),
    "no type": (b'{"data": {}}', "no event type"),
    "deep nesting": (b'{"type": "x", "data": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", "nested deeper than 20"),
    "moderate nesting": (b'{"type": "x", "data": ' + b"[" * 30 + b"]" * 30 + b"}", "nested deeper than 20"),
    "NaN": (b'{"id": "n1", "type": "dial.action.started", "data": {"duration": NaN}}', "holds NaN"),
    "Infinity": (b'{"id": "n2", "type": "dial.action.started", "data": {"duration": -Infinity}}', "holds -Infinity"),
    "overflowing float": (b'{"id": "n3", "type": "dial.action.started", "data": {"duration": 1e999}}', "too large"),
    "NUL": (b'{"id": "n4", "type": "dial.action.started", "data": {"extension": "10\\u000001"}}', "NUL character"),
    "NUL in a key": (b'{"id": "n5", "type": "dial.action.started", "data": {"a\\u0000": 1}}', "NUL character"),
    "lone surrogate": (b'{"id": "n6", "type": "dial.action.started", "data": {"call_id": "\\ud800"}}', "surrogate"),
    "long type": (b'{"id": "n7", "type": "' + b"t" * 101 + b'"}', "the event type is 101 characters long"),
    "not UTF-8": (b'{"id": "n8", "type": "dial.action.started", "data": {"extension": "\xe9"}}', "not UTF-8"),
    "an id of a list": (b'{"id": [1], "type": "dial.action.started"}', "the event id must be text"),
}


@pytest.mark.parametrize("body, problem", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_body_is_answered_400_and_kept_as_received(endpoint, body, problem):
    response = requests.post(endpoint, data=body, headers={"X-Webhook-Secret": SECRET}, timeout=10)
    assert response.status_code == 400 and response.json()["error"].startswith("body: ")
    assert problem in response.json()["error"] and len(response.json()["error"]) < 120
    event = WebhookEvent.objects.get()
    assert (event.pk, bytes(event.body), event.payload, event.processed_at) == (response.json()["id"], body, None, None)
    assert problem in event.problem and CallEvent.objects.count() == 0


def test_a_malformed_body_redelivered_is_kept_once(endpoint):
    first, second = (post(endpoint, {"data": {}}) for _ in range(2))
    assert (first.status_code, second.status_code) == (400, 400)
    assert (first.json()["stored"], second.json()["stored"]) == (True, False)
    assert WebhookEvent.objects.count() == 1


def test_a_malformed_event_is_shown_read_only_in_admin_and_never_processed(endpoint, admin_client):
    requests.post(endpoint, data=b'{"type": "x", "data": NaN}', headers={"X-Webhook-Secret": SECRET}, timeout=10)
    event = WebhookEvent.objects.get()
    listing = admin_client.get("/admin/integrations/webhookevent/?problem__isempty=0").content.decode()
    assert "the body holds NaN" in listing
    page = admin_client.get(f"/admin/integrations/webhookevent/{event.pk}/change/").content.decode()
    assert "NaN" in page and 'name="problem"' not in page  # shown, not a form field
    admin_client.post("/admin/integrations/webhookevent/", {"action": "process_again", "_selected_action": [event.pk]})
    event.refresh_from_db()
    assert event.processed_at is None and event.error.startswith("not processed: the body holds NaN")


def test_two_ids_sharing_their_first_64_characters_are_two_events(endpoint):
    prefix = "evt-" + "x" * 60
    first, second = {"id": prefix + "-first", "type": "t"}, {"id": prefix + "-second", "type": "t"}
    assert [post(endpoint, body).json()["stored"] for body in (first, second, second)] == [True, True, False]
    keys = sorted(WebhookEvent.objects.values_list("key", flat=True))
    assert keys == sorted(hashlib.sha256(body["id"].encode()).hexdigest() for body in (first, second))


def test_get_is_not_allowed(endpoint):
    assert requests.get(endpoint, headers={"X-Webhook-Secret": SECRET}, timeout=10).status_code == 405


def test_the_call_time_comes_from_the_event(endpoint):
    body = call_event(7)
    body["data"]["timestamp"] = "2026-11-24T13:00:00+00:00"
    assert post(endpoint, body).status_code == 200
    assert CallEvent.objects.get().at.isoformat() == "2026-11-24T13:00:00+00:00"


def test_other_event_types_are_stored_but_make_no_call_event(endpoint):
    assert post(endpoint, {"id": "t1", "type": "texting.message.inbound", "data": {}}).status_code == 200
    assert WebhookEvent.objects.get().processed_at is not None and CallEvent.objects.count() == 0
