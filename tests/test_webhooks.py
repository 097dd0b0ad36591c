"""RingPlan's webhook endpoint on a live server: the shared secret, store first, exactly once."""

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


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"data": {}}'])
def test_a_body_without_an_event_is_400_naming_the_problem(endpoint, body):
    response = requests.post(endpoint, data=body, headers={"X-Webhook-Secret": SECRET}, timeout=10)
    assert response.status_code == 400 and response.json()["error"].startswith("body:")
    assert WebhookEvent.objects.count() == 0


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
