"""Provider webhooks. Thin: check the secret, store the delivery as received, answer, then process it."""

from django.conf import settings
from django.http import HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .webhooks import secret_matches, webhook_process, webhook_store


@csrf_exempt
@require_POST
def ringplan_webhook(request):
    """RingPlan call events: 403 without the shared secret; stored either way once it has it, then
    400 naming the problem for a body we cannot use (kept for inspection in admin), or 200."""
    given = request.headers.get("X-Webhook-Secret") or request.GET.get("secret", "")
    if not secret_matches(given, settings.RINGPLAN_WEBHOOK_SECRET):
        return HttpResponseForbidden("Wrong or missing webhook secret.")
    event, created = webhook_store(body=request.body)
    if event.problem:
        return JsonResponse({"error": f"body: {event.problem}", "id": event.pk, "stored": created}, status=400)
    if created:
        webhook_process(event)  # stored and committed already: a failure here loses nothing
    return JsonResponse({"id": event.pk, "stored": created})
