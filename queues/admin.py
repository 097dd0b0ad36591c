"""Queues, agents and memberships; the audit history and reconcile runs, read-only; other providers' records."""

import calendar
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from integrations.models import CallEvent, LiveStatus, ProviderIdentity, WebhookEvent

from .models import Agent, AuditEntry, CallQueue, ClosedDate, DndStatus, OpeningRange, QueueMembership, ReconcileRun
from .opening_hours import opening_hours_of
from .ringplan.webhooks import webhook_process

# The zone a supervisor chose on the supervisor pages (scheduler/supervisor/views.py), kept in her session.
VIEWER_ZONE_SESSION_KEY = "callrota_tz"


class ViewerZoneMixin:
    """Lists and pages in the viewer's zone (her own, or the one she picked on a supervisor page)."""

    def changelist_view(self, request, extra_context=None):
        with timezone.override(viewer_zone_of(request)):
            response = super().changelist_view(request, extra_context)
            context = getattr(response, "context_data", None)
            if context and "cl" in context:
                self.add_changelist_context(context)
            return response.render() if hasattr(response, "render") else response

    def add_changelist_context(self, context) -> None:
        """More for the list's template, once its ChangeList `cl` is made."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        with timezone.override(viewer_zone_of(request)):
            response = super().change_view(request, object_id, form_url, extra_context)
            return response.render() if hasattr(response, "render") else response


def viewer_zone_of(request) -> ZoneInfo:
    found = getattr(request, "viewer_zone", None)  # the person's zone, set by scheduler.people's middleware
    if found is not None:
        return found.tz
    try:
        return ZoneInfo(request.session.get(VIEWER_ZONE_SESSION_KEY) or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(value) -> str:
    """An instant in the active zone, with the zone's abbreviation, e.g. '2026-11-24 10:00 EST'."""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M %Z}" if value else "—"


class HistoryLinkMixin:
    """A link from the change page to this object's own audit history."""

    history_filter = ""  # the audit changelist's filter parameter for this model

    @admin.display(description="audit history")
    def audit_history(self, obj):
        if obj.pk is None:
            return "-"
        url = f"{reverse('admin:queues_auditentry_changelist')}?{self.history_filter}={obj.pk}"
        return format_html(
            '<a href="{}" class="audit-history-link">Changes made to {} at the provider</a>', url, obj.name
        )


class MembershipInline(admin.TabularInline):
    model = QueueMembership
    extra = 0
    fields = ["queue", "agent", "accepting", "observed_at"]
    readonly_fields = ["accepting", "observed_at"]
    autocomplete_fields = ["queue", "agent"]


class OpeningRangeFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """Weekly ranges are local times: refuse them without a zone rather than read them as UTC."""
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if kept and not self.instance.hours_timezone:
            raise forms.ValidationError(
                "Choose the opening hours zone above: the weekly ranges are local times in that zone."
            )


class OpeningRangeInline(admin.TabularInline):
    model = OpeningRange
    formset = OpeningRangeFormSet
    extra = 0
    fields = ["weekday", "opens", "closes"]
    verbose_name = "weekly opening range"


class ClosedDateInline(admin.TabularInline):
    model = ClosedDate
    extra = 0
    fields = ["date", "name"]
    verbose_name = "closed date (holiday)"
    verbose_name_plural = "closed dates (holidays)"


def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone, as the shift and supervisor pages offer them; empty for none."""
    return [("", "---------")] + [(z, z) for z in sorted(available_timezones())]


class CallQueueForm(forms.ModelForm):
    hours_timezone = forms.TypedChoiceField(
        label="Opening hours zone",
        choices=zone_choices,
        required=False,
        help_text=CallQueue._meta.get_field("hours_timezone").help_text,
    )

    class Meta:
        model = CallQueue
        fields = ["hours_timezone"]


@admin.register(CallQueue)
class CallQueueAdmin(HistoryLinkMixin, SimpleHistoryAdmin):
    form = CallQueueForm
    list_display = [
        "name",
        "provider_id",
        "provider",
        "min_staff",
        "opening_hours",
        "editable_member_status",
        "enforce",
    ]
    list_filter = ["provider", "editable_member_status", "enforce", "hours_source"]
    search_fields = ["name", "provider_id"]
    readonly_fields = ["audit_history"]
    history_filter = "queue__id__exact"
    inlines = [OpeningRangeInline, ClosedDateInline, MembershipInline]
    fieldsets = [
        (None, {"fields": ["provider", "provider_id", "name", "editable_member_status", "enforce", "audit_history"]}),
        (
            "Staffing and opening hours",
            {
                "fields": ["min_staff", "hours_timezone", "hours_source"],
                "description": "Min staff counts only while the queue is open: in its weekly opening ranges, not on "
                "its closed dates (on the board, in coverage, on the timeline and on the receptionist page). "
                "No ranges and no closed dates: open around the clock. Closed dates are entered here only; "
                "the weekly ranges can come from RingCentral's business hours of the queue.",
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("opening_ranges", "closed_dates")

    def save_related(self, request, form, formsets, change):
        """Hours edited here are the admin's: the queue sync no longer replaces them."""
        super().save_related(request, form, formsets, change)
        edited = any(f.model is OpeningRange and f.has_changed() for f in formsets)
        if edited and form.instance.hours_source != CallQueue.HoursSource.ADMIN:
            form.instance.hours_source = CallQueue.HoursSource.ADMIN
            form.instance.save(update_fields=["hours_source"])

    @admin.display(description="opening hours")
    def opening_hours(self, queue):
        if opening_hours_of(queue) is None:
            return "around the clock"
        ranges = ", ".join(str(r) for r in queue.opening_ranges.all()) or "every day"
        closed = len(queue.closed_dates.all())
        shut = f"; {closed} closed date{'s' if closed != 1 else ''}" if closed else ""
        return f"{ranges} {queue.hours_timezone or 'UTC'}{shut} (from {queue.get_hours_source_display()})"


@admin.register(Agent)
class AgentAdmin(HistoryLinkMixin, SimpleHistoryAdmin):
    list_display = [
        *("name", "provider_id", "provider", "active", "user", "off_shift_dnd", "dnd_status", "dnd_observed_at")
    ]
    list_filter = ["active", "provider", "off_shift_dnd", "dnd_status"]
    search_fields = ["name", "provider_id", "user__username"]
    readonly_fields = ["dnd_status", "dnd_observed_at", "audit_history"]
    history_filter = "agent__id__exact"
    autocomplete_fields = ["user"]
    inlines = [MembershipInline]
    actions = ["deactivate", "reactivate"]

    @admin.action(description="Deactivate the selected agents (kept with their history)", permissions=["change"])
    def deactivate(self, request, queryset):
        changed = _set_active(queryset, active=False)
        self.message_user(request, f"Deactivated {changed} agent(s): the schedule and the reconciler leave them out.")

    @admin.action(description="Reactivate the selected agents", permissions=["change"])
    def reactivate(self, request, queryset):
        self.message_user(request, f"Reactivated {_set_active(queryset, active=True)} agent(s).")

    def get_deleted_objects(self, objs, request):
        """An agent with audit history is kept for good: say so and point to deactivation, not list every row."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        with_history = Agent.objects.filter(pk__in=AuditEntry.objects.filter(agent__in=objs).values("agent"))
        explained = [
            f"{agent.name} has audit history, which is kept for good, so the agent cannot be deleted. "
            "Deactivate the agent instead: untick Active on its page, or use the Deactivate action."
            for agent in with_history
        ]
        if explained:  # else Django blames a missing permission to delete audit rows, which nobody has
            return deleted, counts, set(), explained
        return deleted, counts, perms_needed, protected


def _set_active(agents, *, active: bool) -> int:
    """Save each agent whose flag changes (so its change history records who did it); how many changed."""
    changed = list(agents.exclude(active=active))
    for agent in changed:
        agent.active = active
        agent.save(update_fields=["active"])
    return len(changed)


@admin.register(QueueMembership)
class QueueMembershipAdmin(admin.ModelAdmin):
    list_display = ["queue", "agent", "accepting", "observed_at"]
    list_filter = ["queue", "accepting"]
    search_fields = ["queue__name", "queue__provider_id", "agent__name", "agent__provider_id"]
    readonly_fields = ["accepting", "observed_at"]
    autocomplete_fields = ["queue", "agent"]
    list_select_related = ["queue", "agent"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Seen, never added, changed or deleted here, by anyone (superusers too)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows, so a page of a million-row history never scans it all.

    Unfiltered on PostgreSQL the count is the planner's estimate (pg_class.reltuples).
    Pages past the cap are not offered: narrow the filters or the date instead.
    """

    COUNT_CAP = 10_000

    @cached_property
    def count(self):
        query = self.object_list.query
        if not query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [self.object_list.model._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] > self.COUNT_CAP:
                return row[0]
        return self.object_list.order_by()[: self.COUNT_CAP].count()


class ReasonFilter(admin.SimpleListFilter):
    """Reasons by kind: the texts carry shift names, so DISTINCT over them would scan the whole log."""

    title = "reason"
    parameter_name = "reason"
    KINDS = {
        "shift start": "shift start",
        "shift end": "shift end",
        "time off": "time off",
        "manual override": "manual override",
        "drift": "drift",
    }

    def lookups(self, request, model_admin):
        return list(self.KINDS.items())

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(reason__startswith=value) if value in self.KINDS else queryset


VALUE_WORDS = {"True": "on", "False": "off", "": "—"}


@admin.register(AuditEntry)
class AuditEntryAdmin(ViewerZoneMixin, ReadOnlyAdmin):
    """The append-only history: read-only for everyone, and quick at a million rows.

    Four columns fit a laptop: when, who and where, what changed and why, and the outcome; the
    entry's own page has every field (the provider's call, its error message).
    """

    list_display = ["when", "who", "what", "outcome_words", "actor_name"]
    list_display_links = ["when"]
    list_filter = ["outcome", ReasonFilter, "queue", "agent", "actor"]
    search_fields = ["agent__name", "queue__name"]  # see get_search_results
    search_help_text = "An agent's or queue's name or provider id, or a provider error code."
    date_hierarchy = "created_at"
    list_select_related = ["agent", "queue", "actor"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        """Names are matched in the small agent and queue tables first, so the log is read through its indexes."""
        term = search_term.strip()
        if not term:
            return queryset, False
        agents = Agent.objects.filter(Q(name__icontains=term) | Q(provider_id=term)).values("pk")
        queues = CallQueue.objects.filter(Q(name__icontains=term) | Q(provider_id=term)).values("pk")
        return queryset.filter(Q(agent__in=agents) | Q(queue__in=queues) | Q(error_code=term)), False

    @admin.display(description="by", ordering="actor")
    def actor_name(self, entry):
        return entry.actor.get_username() if entry.actor_id else "scheduler"

    @admin.display(description="when", ordering="created_at")
    def when(self, entry):
        return local_time(entry.created_at)

    @admin.display(description="who")
    def who(self, entry):
        agent = entry.agent.name if entry.agent_id else "—"
        return f"{agent} in {entry.queue.name}" if entry.queue_id else agent

    @admin.display(description="what")
    def what(self, entry):
        old, new = (VALUE_WORDS.get(v, _dnd_words(v)) for v in (entry.old_value, entry.new_value))
        return format_html("{}: {} → {}<br><small>{}</small>", entry.get_field_display(), old, new, entry.reason)

    @admin.display(description="outcome", ordering="outcome")
    def outcome_words(self, entry):
        if entry.error_code:
            return f"{entry.outcome} ({entry.error_code})"
        return entry.outcome

    def add_changelist_context(self, context) -> None:
        context["drilldown"] = date_drilldown(context["cl"])


def _dnd_words(value: str) -> str:
    return dict(DndStatus.choices).get(value, value)


@admin.register(ReconcileRun)
class ReconcileRunAdmin(ViewerZoneMixin, ReadOnlyAdmin):
    list_display = ["started", "planned_for", "trigger", "writes", "failures", "problem_count"]
    list_filter = ["trigger"]
    fields = readonly_fields = ("at", "trigger", "started_at", "finished_at", "writes", "failures", "problems_in_words")
    date_hierarchy = "started_at"
    show_full_result_count = False
    paginator = CappedCountPaginator

    @admin.display(description="started", ordering="started_at")
    def started(self, run):
        return local_time(run.started_at)

    @admin.display(description="planned for")
    def planned_for(self, run):
        return local_time(run.at)

    @admin.display(description="problems")
    def problem_count(self, run):
        return len(run.problems) or "none"

    @admin.display(description="problems")
    def problems_in_words(self, run):
        """Each problem of the run as a sentence of its own: what failed and for whom."""
        if not run.problems:
            return "None: every read and write of this run went through."
        lines = (str(p) if isinstance(p, str) else _described(p) for p in run.problems)
        return format_html(
            '<ul class="run-problems">{}</ul>', format_html_join("", "<li>{}</li>", ((x,) for x in lines))
        )


def _described(problem) -> str:
    """A problem stored as a structure (older runs) in words: its keys and values, no brackets or quotes."""
    if isinstance(problem, dict):
        return "; ".join(f"{key}: {value}" for key, value in problem.items())
    return str(problem)


def date_drilldown(cl) -> dict:
    """The date hierarchy's links without its DISTINCT over every row: a Min/Max on an index, then the calendar."""
    name = cl.date_hierarchy
    fields = {part: f"{name}__{part}" for part in ("year", "month", "day")}
    year, month, day = (cl.params.get(fields[p]) for p in ("year", "month", "day"))

    def link(**values):
        return cl.get_query_string({fields[k]: v for k, v in values.items()}, [f"{name}__"])

    if year and month and day:
        return {
            "back": (link(year=year, month=month), f"{calendar.month_name[int(month)]} {year}"),
            "choices": [(None, f"{calendar.month_name[int(month)]} {day}")],
        }
    if year and month:
        days = calendar.monthrange(int(year), int(month))[1]
        return {
            "back": (link(year=year), year),
            "choices": [(link(year=year, month=month, day=d), str(d)) for d in range(1, days + 1)],
        }
    if year:
        return {
            "back": (link(), "All dates"),
            "choices": [(link(year=year, month=m), calendar.month_abbr[m]) for m in range(1, 13)],
        }
    span = cl.queryset.order_by().aggregate(first=Min(name), last=Max(name))
    if span["first"] is None:
        return {"back": None, "choices": []}
    years = range(span["first"].year, span["last"].year + 1)
    return {"back": None, "choices": [(link(year=y), str(y)) for y in years]}


@admin.register(ProviderIdentity)
class ProviderIdentityAdmin(admin.ModelAdmin):
    list_display = ["agent", "provider", "kind", "external_id"]
    list_filter = ["provider", "kind"]
    search_fields = ["external_id", "agent__name", "agent__provider_id"]
    raw_id_fields = ["agent"]
    list_select_related = ["agent"]


@admin.register(LiveStatus)
class LiveStatusAdmin(ReadOnlyAdmin):
    list_display = ["agent", "status", "provider", "updated_at"]
    list_filter = ["provider", "status"]
    search_fields = ["agent__name", "status"]
    list_select_related = ["agent"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "provider", "event_type", "key", "processed_at", "problem", "error"]
    list_filter = [
        "provider",
        "event_type",
        ("processed_at", admin.EmptyFieldListFilter),
        ("problem", admin.EmptyFieldListFilter),
    ]
    search_fields = ["key", "event_type"]
    readonly_fields = ["provider", "key", "event_type", "problem", "received_text", "payload", "received_at",
                       "processed_at", "error"]  # fmt: skip
    actions = ["process_again"]

    @admin.display(description="body as received")
    def received_text(self, event):
        """The raw body as text (its first 10,000 bytes); bytes that are not UTF-8 shown as escapes."""
        return bytes(event.body[:10_000]).decode("utf-8", errors="backslashreplace")

    @admin.action(description="Process the selected events again")
    def process_again(self, request, queryset):
        for event in queryset:
            webhook_process(event)
        failed = queryset.filter(processed_at__isnull=True).count()
        self.message_user(request, f"Processed {queryset.count() - failed}; {failed} still failing.")

    def has_add_permission(self, request):
        return False


@admin.register(CallEvent)
class CallEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "event_type", "call_id", "extension", "agent"]
    list_filter = ["event_type"]
    search_fields = ["call_id", "extension", "agent__name"]
    list_select_related = ["agent"]
