"""The supervisors' side of requests: the pending page (decide with the coverage effect in view), open shifts,
per-queue rules, the request log. Thin: forms in, one service each."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_POST

from queues.admin import ReadOnlyAdmin
from scheduler.models import NotificationMute, OpenShift, RequestLogEntry, RequestRule, ScheduleRequest

from . import services
from .coverage import coverage_effect
from .forms import DecisionForm, PublishForm
from .notices import describe
from .selectors import pending_requests

DECIDE = "scheduler.decide_request"


@admin.register(ScheduleRequest)
class ScheduleRequestAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "status", "occurrence", "start", "created_at", "decided_by"]
    list_filter = ["status", "kind"]
    list_select_related = ["requester", "decided_by"]
    change_list_template = "requests/admin_change_list.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("pending/", wrap(self.pending_view), name="scheduler_schedulerequest_pending"),
            path("<int:pk>/decide/", wrap(require_POST(self.decide_view)), name="scheduler_schedulerequest_decide"),
            path("publish/", wrap(require_POST(self.publish_view)), name="scheduler_schedulerequest_publish"),
        ] + super().get_urls()

    def pending_view(self, request):
        """Each pending request with what approving would do to coverage, and the approve/deny form."""
        _require(request)
        rows = [(r, describe(r), coverage_effect(r)) for r in pending_requests()]
        context = self.admin_site.each_context(request) | {
            "title": "Pending requests",
            "opts": self.model._meta,
            "rows": rows,
            "publish_form": PublishForm(),
            "open_shifts": OpenShift.objects.select_related("shift").order_by("-occurrence")[:20],
        }
        return TemplateResponse(request, "requests/pending.html", context)

    def decide_view(self, request, pk: int):
        _require(request)
        form = DecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "decision: choose approve or deny")
        else:
            approve = form.cleaned_data["decision"] == "approve"
            asked = get_object_or_404(ScheduleRequest, pk=pk)
            try:
                done = services.decide_request(request=asked, approve=approve, note=form.cleaned_data["note"],
                                               by=request.user)  # fmt: skip
                messages.success(request, f"{done.get_status_display()}: {describe(done)}")
            except services.RequestError as error:
                messages.error(request, f"{error.field}: {error.message}")
        return redirect("admin:scheduler_schedulerequest_pending")

    def publish_view(self, request):
        _require(request)
        form = PublishForm(request.POST)
        if form.is_valid():
            try:
                seat = services.publish_open_shift(**form.cleaned_data, by=request.user)
                messages.success(request, f"Published: {seat}")
            except services.RequestError as error:
                messages.error(request, f"{error.field}: {error.message}")
        else:
            for field, errors in form.errors.items():
                messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect("admin:scheduler_schedulerequest_pending")


def _require(request) -> None:
    if not request.user.has_perm(DECIDE):
        raise PermissionDenied


@admin.register(RequestRule)
class RequestRuleAdmin(admin.ModelAdmin):
    list_display = ["queue", "auto_approve", "claims_need_approval"]
    list_editable = ["auto_approve", "claims_need_approval"]


@admin.register(OpenShift)
class OpenShiftAdmin(ReadOnlyAdmin):
    list_display = ["shift", "occurrence", "seats", "taken", "published_by"]


@admin.register(RequestLogEntry)
class RequestLogEntryAdmin(ReadOnlyAdmin):
    """Every step of every request, with the coverage shown when it was taken. Append-only."""

    list_display = ["created_at", "request", "action", "actor", "note"]
    list_filter = ["action"]
    readonly_fields = ["created_at", "request", "actor", "action", "note", "coverage"]


@admin.register(NotificationMute)
class NotificationMuteAdmin(admin.ModelAdmin):
    list_display = ["user", "channel"]
