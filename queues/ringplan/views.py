"""Provider webhooks. Thin: check the secret, store the delivery, answer, then process it."""

import json

from django.conf import settings
from django.http import HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .webhooks import BadDelivery, secret_matches, webhook_process, webhook_store


@csrf_exempt
@require_POST
def ringplan_webhook(request):
    """RingPlan call events: 403 without the shared secret, 400 for a body we cannot store, 200 once stored."""
    given = request.headers.get("X-Webhook-Secret") or request.GET.get("secret", "")
    if not secret_matches(given, settings.RINGPLAN_WEBHOOK_SECRET):
        return HttpResponseForbidden("Wrong or missing webhook secret.")
    try:
        event, created = webhook_store(payload=json.loads(request.body), body=request.body)
    except (ValueError, BadDelivery) as error:
        return JsonResponse({"error": f"body: {error}"}, status=400)
    if created:
        webhook_process(event)  # stored and committed already: a failure here loses nothing
    return JsonResponse({"id": event.pk, "stored": created})
