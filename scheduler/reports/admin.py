"""The adherence page, under the provider identities' admin (its mapping is what it reads)."""

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from integrations.base import ProviderError
from integrations.models import ProviderIdentity
from queues.admin import ProviderIdentityAdmin
from scheduler.supervisor.params import date_param, int_param

from .adherence import adherence_report

MAX_DAYS = 31


class AdherenceAdmin(ProviderIdentityAdmin):
    def get_urls(self):
        view = self.admin_site.admin_view(self.adherence_view)
        return [path("adherence/", view, name="integrations_adherence")] + super().get_urls()

    def adherence_view(self, request):
        """Adherence per agent and day (?day=YYYY-MM-DD&days=N&calls=1); the same as `manage.py adherence`."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        first = date_param(request, "day", fallback="last week") or today - timedelta(days=today.weekday() + 7)
        days = int_param(request, "days", default=7, low=1, high=MAX_DAYS)
        with_calls = request.GET.get("calls") == "1"
        report, last = None, first + timedelta(days=days - 1)
        try:
            report = adherence_report(first=first, last=last, with_calls=with_calls)
        except ProviderError as error:
            messages.error(request, f"Could not read the providers: {error}")
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


admin.site.unregister(ProviderIdentity)
admin.site.register(ProviderIdentity, AdherenceAdmin)
