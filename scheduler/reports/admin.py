"""The adherence page, under the provider identities' admin (its mapping is what it reads).

Calls handled are read from stored figures only (scheduler.reports.calls_handled): RingCentral's call
log is a Heavy call per agent, so the page never waits on it; "Count calls handled now" enqueues the background task.
"""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from integrations.base import ProviderError
from integrations.models import ProviderIdentity
from queues.admin import ProviderIdentityAdmin
from scheduler.celery import app
from scheduler.supervisor.params import date_param, int_param

from .adherence import adherence_report
from .calls_handled import MAX_DAYS, stored_calls_handled

REFRESH_TASK = "scheduler.tasks.refresh_calls_handled"  # by name: scheduler.tasks imports this package


class AdherenceAdmin(ProviderIdentityAdmin):
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("adherence/", wrap(self.adherence_view), name="integrations_adherence"),
            path("adherence/refresh-calls/", wrap(self.refresh_calls_view), name="integrations_adherence_refresh"),
        ] + super().get_urls()

    def adherence_view(self, request):
        """Adherence per agent and day (?day=YYYY-MM-DD&days=N&calls=1), calls handled as last computed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        first, days = _window(request)
        with_calls = request.GET.get("calls") == "1"
        report, last = None, first + timedelta(days=days - 1)
        try:
            report = adherence_report(first=first, last=last)
        except ProviderError as error:
            messages.error(request, f"Could not read the providers: {error}")
        stored = stored_calls_handled(first=first, last=last) if with_calls else {}
        context = {
            **self.admin_site.each_context(request),
            "title": "Adherence",
            "opts": self.model._meta,
            "report": report,
            "rows": [(row, stored.get((row.agent_id, row.day))) for row in report.rows] if report else [],
            "first": first,
            "last": last,
            "days": days,
            "with_calls": with_calls,
        }
        return TemplateResponse(request, "admin/integrations/adherence.html", context)

    def refresh_calls_view(self, request):
        """POST: enqueue the calls-handled task for the page's days (?day=&days=), and go back to the page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        first, days = _window(request)
        last = first + timedelta(days=days - 1)
        task = app.signature(REFRESH_TASK, args=(first.isoformat(), last.isoformat()))
        transaction.on_commit(task.delay)
        messages.success(
            request,
            f"Counting calls handled from {first} to {last} in the background; "
            "reload this page in a minute or two to see them.",
        )
        return redirect(f"{reverse('admin:integrations_adherence')}?day={first}&days={days}&calls=1")


def _window(request) -> tuple[date, int]:
    """The page's first day (default: Monday of last week) and number of days."""
    today = timezone.localdate()
    first = date_param(request, "day", fallback="last week") or today - timedelta(days=today.weekday() + 7)
    return first, int_param(request, "days", default=7, low=1, high=MAX_DAYS)


admin.site.unregister(ProviderIdentity)
admin.site.register(ProviderIdentity, AdherenceAdmin)
