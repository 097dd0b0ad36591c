"""Admin: identity mappings, live status, webhook events, and the adherence page."""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from .adherence import adherence_report
from .base import ProviderError
from .models import CallEvent, LiveStatus, ProviderIdentity, WebhookEvent
from .ringplan.webhooks import webhook_process

MAX_DAYS = 31


@admin.register(ProviderIdentity)
class ProviderIdentityAdmin(admin.ModelAdmin):
    list_display = ["agent", "provider", "kind", "external_id"]
    list_filter = ["provider", "kind"]
    search_fields = ["external_id", "agent__name", "agent__provider_id"]
    raw_id_fields = ["agent"]
    list_select_related = ["agent"]

    def get_urls(self):
        view = self.admin_site.admin_view(self.adherence_view)
        return [path("adherence/", view, name="integrations_adherence")] + super().get_urls()

    def adherence_view(self, request):
        """Adherence per agent and day (?day=YYYY-MM-DD&days=N&calls=1); the same as `manage.py adherence`."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        first, days, errors = _window(request)
        with_calls = request.GET.get("calls") == "1"
        report, last = None, first + timedelta(days=days - 1)
        try:
            report = adherence_report(first=first, last=last, with_calls=with_calls)
        except ProviderError as error:
            messages.error(request, f"Could not read the providers: {error}")
        for problem in errors:
            messages.error(request, problem)
        context = {
            **self.admin_site.each_context(request),
            "title": "Adherence",
            "opts": self.model._meta,
            "report": report,
            "first": first,
            "last": last,
            "days": days,
            "with_calls": with_calls,
        }
        return TemplateResponse(request, "admin/integrations/adherence.html", context)


def _window(request) -> tuple[date, int, list[str]]:
    """The first day and day count asked for, defaulting (with a message) on bad values."""
    errors = []
    today = timezone.localdate()
    first = today - timedelta(days=today.weekday() + 7)  # last week's Monday
    if request.GET.get("day"):
        try:
            first = date.fromisoformat(request.GET["day"])
        except ValueError:
            errors.append(f"day: {request.GET['day']!r} is not a date; use YYYY-MM-DD. Showing last week.")
    days = 7
    if request.GET.get("days"):
        try:
            days = int(request.GET["days"])
            if not 1 <= days <= MAX_DAYS:
                raise ValueError
        except ValueError:
            errors.append(f"days: {request.GET['days']!r} must be a whole number from 1 to {MAX_DAYS}. Showing 7.")
            days = 7
    return first, days, errors


@admin.register(LiveStatus)
class LiveStatusAdmin(admin.ModelAdmin):
    list_display = ["agent", "status", "provider", "updated_at"]
    list_filter = ["provider", "status"]
    search_fields = ["agent__name", "status"]
    list_select_related = ["agent"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "provider", "event_type", "key", "processed_at", "error"]
    list_filter = ["provider", "event_type", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "event_type"]
    readonly_fields = ["provider", "key", "event_type", "payload", "received_at", "processed_at", "error"]
    actions = ["process_again"]

    @admin.action(description="Process the selected events again")
    def process_again(self, request, queryset):
        for event in queryset:
            webhook_process(event)
        failed = queryset.filter(processed_at__isnull=True).count()
        self.message_user(request, f"Processed {queryset.count() - failed}; {failed} still failing.")

    def has_add_permission(self, request):
        return False


@admin.register(CallEvent)
class CallEventAdmin(admin.ModelAdmin):
    list_display = ["at", "event_type", "call_id", "extension", "agent"]
    list_filter = ["event_type"]
    search_fields = ["call_id", "extension", "agent__name"]
    list_select_related = ["agent"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
