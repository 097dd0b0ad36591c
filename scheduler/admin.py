import re
from datetime import timedelta
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from queues.admin import AgentAdmin, CallQueueAdmin, ReadOnlyAdmin, ViewerZoneMixin, local_time
from queues.models import Agent, CallQueue

from . import recurrence
from .feeds import feed_path, feed_tokens_revoke, issue_feed
from .models import FeedToken, OccurrenceChange, Shift, Supervision, TimeOff
from .people import admin as people_admin  # noqa: F401 - registers people's time zones
from .people.fields import WallTimeField, ZoneField
from .reports import admin as reports_admin  # noqa: F401 - registers the adherence page
from .reports import compliance_views
from .reports.compliance import compliance_today
from .requests import admin as requests_admin  # noqa: F401 - registers the request pages
from .roster_import import EXPORT_FORMATS, IMPORT_FORMATS, ShiftResource
from .schedule.membership import cannot_apply, shift_pairs
from .selectors import agent_plan
from .supervisor import overrides_admin  # noqa: F401 - registers the override list and its cancel action
from .supervisor import views as admin_views


class Repeats(models.TextChoices):
    """How a shift repeats, as the form offers it; each but the last is written as weekdays or a rule for it."""

    WEEKDAYS = "weekdays", "Every weekday (Mon–Fri)"
    EVERY_DAY = "every_day", "Every day"
    DAYS = "days", "Every week, on the days ticked"
    OTHER_WEEK = "other_week", "Every other week, on the days ticked (counting from the rule's start)"
    MONTHLY = "monthly", "Monthly, on the first of the day ticked (e.g. the first Monday)"
    RULE = "rule", "A recurrence rule I write (advanced)"


RULE_CODES = {d: d[:2].upper() for d in recurrence.WEEKDAYS}  # mon -> MO
OTHER_WEEK_RULE = re.compile(r"FREQ=WEEKLY;INTERVAL=2;BYDAY=((?:MO|TU|WE|TH|FR|SA|SU)(?:,(?:MO|TU|WE|TH|FR|SA|SU))*)")
MONTHLY_RULE = re.compile(r"FREQ=MONTHLY;BYDAY=1(MO|TU|WE|TH|FR|SA|SU)")


class ShiftForm(forms.ModelForm):
    """How the shift repeats as a choice and weekday checkboxes; the raw RRULE only for those who pick it."""

    repeats = forms.ChoiceField(
        choices=Repeats.choices,
        initial=Repeats.WEEKDAYS,
        widget=forms.RadioSelect,
        required=False,  # a post without it (a script) means the days it gives, or its rule
    )
    days = forms.MultipleChoiceField(
        choices=[(d, d.capitalize()) for d in recurrence.WEEKDAYS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The days for 'on the days ticked', 'every other week' and 'monthly'.",
    )

    class Meta:
        model = Shift
        fields = [
            *("name", "queues", "agents", "timezone", "start_time", "end_time"),
            *("repeats", "days", "rrule", "dtstart", "valid_from", "valid_until"),
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"] = zone_field(Shift, self.instance)
        if self.instance.pk:
            self.initial["repeats"], self.initial["days"] = repeats_of(self.instance)

    def clean_days(self):
        return [d for d in recurrence.WEEKDAYS if d in self.cleaned_data["days"]]

    def clean(self):
        data = super().clean()
        days = data.get("days", [])
        repeats = data.get("repeats") or (Repeats.RULE if data.get("rrule") else Repeats.DAYS)
        if repeats in (Repeats.DAYS, Repeats.OTHER_WEEK) and not days:
            self.add_error("days", "tick the days the shift runs on")
        if repeats == Repeats.MONTHLY and len(days) != 1:
            self.add_error("days", "tick exactly one day: the shift runs on its first of each month")
        if self.errors:
            return data
        data["days"], data["rrule"] = _written(repeats, days, data.get("rrule", ""))
        if data["rrule"] and repeats != Repeats.RULE and not data.get("dtstart"):
            data["dtstart"] = timezone.localdate()  # the rule counts its weeks from today
        return data


def zone_field(model: type[Shift] | type[TimeOff], instance: Shift | TimeOff) -> ZoneField:
    """The form's zone picker, with the model field's label and help, and a stored zone kept in view."""
    field = model._meta.get_field("timezone")
    return ZoneField(label=field.verbose_name.capitalize(), help_text=field.help_text, stored=instance.timezone)


def _written(repeats: str, days: list[str], rule: str) -> tuple[str, str]:
    """The (days, rrule) the model keeps for a choice of the form."""
    codes = ",".join(RULE_CODES[d] for d in days)
    return {
        Repeats.WEEKDAYS: (",".join(recurrence.WEEKDAYS[:5]), ""),
        Repeats.EVERY_DAY: (",".join(recurrence.WEEKDAYS), ""),
        Repeats.DAYS: (",".join(days), ""),
        Repeats.OTHER_WEEK: ("", f"FREQ=WEEKLY;INTERVAL=2;BYDAY={codes}"),
        Repeats.MONTHLY: ("", f"FREQ=MONTHLY;BYDAY=1{codes}"),
        Repeats.RULE: ("", rule),
    }[Repeats(repeats)]


def repeats_of(shift: Shift) -> tuple[str, list[str]]:
    """The form's choice and ticked days for a stored shift: a rule the form writes reads back as its choice."""
    by_code = {code: d for d, code in RULE_CODES.items()}
    if match := OTHER_WEEK_RULE.fullmatch(shift.rrule):
        return Repeats.OTHER_WEEK, [by_code[c] for c in match[1].split(",")]
    if match := MONTHLY_RULE.fullmatch(shift.rrule):
        return Repeats.MONTHLY, [by_code[match[1]]]
    if shift.rrule:
        return Repeats.RULE, []
    days = [d for d in shift.days.split(",") if d]
    if days == list(recurrence.WEEKDAYS[:5]):
        return Repeats.WEEKDAYS, days
    if days == list(recurrence.WEEKDAYS):
        return Repeats.EVERY_DAY, days
    return Repeats.DAYS, days


class OccurrenceChangeForm(forms.ModelForm):
    """A new start and end are entered as wall times in the shift's own zone, and stored in UTC."""

    start = WallTimeField(required=False, help_text="Moved: the new local start, in the shift's zone.")
    end = WallTimeField(required=False, help_text="Moved: the new local end, in the shift's zone.")

    class Meta:
        model = OccurrenceChange
        fields = ["shift", "occurrence", "cancelled", "start", "end", "absent", "covering", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            tz = _zone_or_utc(self.instance.shift.timezone)
            for name in ("start", "end"):
                if getattr(self.instance, name):
                    self.initial[name] = getattr(self.instance, name).astimezone(tz).replace(tzinfo=None)

    def clean(self):
        data = super().clean()
        shift = data.get("shift")
        if not isinstance(shift, Shift):
            return data
        tz = _zone_or_utc(shift.timezone)
        for name in ("start", "end"):
            if data.get(name):  # parsed as a wall time in UTC: reinterpret it in the shift's zone
                try:
                    data[name] = recurrence.to_utc(data[name].date(), data[name].time(), tz)
                except OverflowError:
                    self.add_error(name, f"{data[name]:%Y-%m-%d %H:%M} in {tz.key} is outside the calendar in UTC")
        probe = OccurrenceChange(shift=shift, cancelled=data.get("cancelled", False), start=data.get("start"))
        rostered = set(shift.agents.values_list("pk", flat=True)) if shift.pk else set()
        try:
            probe.clean_agents(
                {a.pk for a in data.get("absent", ())}, {a.pk for a in data.get("covering", ())}, rostered
            )
        except forms.ValidationError as error:
            for name, messages_ in error.message_dict.items():
                for message in messages_:
                    self.add_error(name, message)
        return data


def _zone_or_utc(name: str):
    try:
        return recurrence.zone(name)
    except ValueError:  # a zone this system no longer knows: show UTC
        return recurrence.zone("UTC")


class OptionalRowsFormSet(BaseInlineFormSet):
    """A shift form posted without these rows (a script, or a page from before they existed) changes none of them."""

    def __init__(self, data=None, *args, prefix=None, **kwargs):
        key = f"{prefix or self.get_default_prefix()}-"
        if data is not None and f"{key}TOTAL_FORMS" not in data:
            data = data.copy()
            data[f"{key}TOTAL_FORMS"] = data[f"{key}INITIAL_FORMS"] = "0"
        super().__init__(data, *args, prefix=prefix, **kwargs)


class OccurrenceChangeInline(admin.StackedInline):
    """A shift's single occurrences cancelled, moved or with agents substituted."""

    model = OccurrenceChange
    form = OccurrenceChangeForm
    formset = OptionalRowsFormSet
    extra = 0
    autocomplete_fields = ["absent", "covering"]
    fields = ["occurrence", ("cancelled", "start", "end"), ("absent", "covering"), "reason"]
    verbose_name_plural = "changed occurrences (times in the shift's zone)"


@admin.register(OccurrenceChange)
class OccurrenceChangeAdmin(SimpleHistoryAdmin):
    """Every changed occurrence, by shift and date, times in its shift's zone."""

    form = OccurrenceChangeForm
    list_display = ["shift", "occurrence", "what", "moved_to", "reason"]
    list_filter = ["shift", "cancelled", ("occurrence", admin.DateFieldListFilter)]
    date_hierarchy = "occurrence"
    search_fields = ["shift__name", "reason", "absent__name", "covering__name"]
    list_select_related = ["shift"]
    autocomplete_fields = ["absent", "covering"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("absent", "covering")

    @admin.display(description="change")
    def what(self, change):
        if change.cancelled:
            return "cancelled"
        words = ["moved"] if change.start else []
        words += [f"{a.name} absent" for a in change.absent.all()]
        words += [f"{a.name} covers" for a in change.covering.all()]
        return ", ".join(words) or "—"

    @admin.display(description="moved to (shift's zone)", ordering="start")
    def moved_to(self, change):
        if not (change.start and change.end):
            return "—"
        tz = _zone_or_utc(change.shift.timezone)
        start, end = change.start.astimezone(tz), change.end.astimezone(tz)
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M %Z}" + (
            f" (ends {end:%Y-%m-%d})" if end.date() != start.date() else ""
        )


@admin.register(Shift)
class ShiftAdmin(ImportExportMixin, SimpleHistoryAdmin):
    """Shifts, with CSV roster import (previewed before saving) and export, and their change history."""

    form = ShiftForm
    inlines = [OccurrenceChangeInline]
    resource_classes = [ShiftResource]
    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS
    list_display = ["name", "queue_names", "agent_names", "hours", "repeats", "valid"]
    list_filter = ["timezone", "queues", "agents", "valid_until"]
    search_fields = ["name", "queues__name", "queues__provider_id", "agents__name", "agents__provider_id"]
    filter_horizontal = ["queues", "agents"]
    fieldsets = [
        (None, {"fields": ["name", "queues", "agents"]}),
        ("When", {"fields": ["timezone", "start_time", "end_time", "repeats", "days"]}),
        ("Validity", {"fields": ["valid_from", "valid_until"]}),
        (
            "Advanced: a recurrence rule",
            {
                "fields": ["rrule", "dtstart"],
                "classes": ["collapse"],
                "description": "Only for 'A recurrence rule I write'; other choices write the rule themselves.",
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("queues", "agents")

    @admin.display(description="queues")
    def queue_names(self, shift):
        return ", ".join(q.name for q in shift.queues.all())

    @admin.display(description="agents")
    def agent_names(self, shift):
        return ", ".join(a.name for a in shift.agents.all())

    @admin.display(description="hours", ordering="start_time")
    def hours(self, shift):
        return shift_hours(shift)

    @admin.display(description="repeats")
    def repeats(self, shift):
        return recurrence_words(shift)

    @admin.display(description="valid", ordering="valid_until")
    def valid(self, shift):
        since = f"from {shift.valid_from:%Y-%m-%d}" if shift.valid_from else ""
        until = f"until {shift.valid_until:%Y-%m-%d}" if shift.valid_until else ""
        return " ".join(filter(None, (since, until))) or "always"

    def has_import_permission(self, request):
        return request.user.has_perms(["scheduler.add_shift", "scheduler.change_shift"])

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        warn_cannot_apply(request, [form.instance])

    def process_result(self, result, request):
        response = super().process_result(result, request)
        imported = [row.object_id for row in result.valid_rows() if row.object_id]
        warn_cannot_apply(request, Shift.objects.filter(pk__in=imported).prefetch_related("queues", "agents"))
        return response

    def has_export_permission(self, request):
        return request.user.has_perm("scheduler.view_shift")


def shift_hours(shift: Shift) -> str:
    return f"{shift.start_time:%H:%M}–{shift.end_time:%H:%M} {shift.timezone}"


def recurrence_words(shift: Shift) -> str:
    """The shift's days as a person says them: 'Mon–Fri', 'Sat Sun', or its rule when it has one."""
    if shift.rrule:
        return f"rule {shift.rrule}"
    days = [d for d in shift.days.split(",") if d]
    if days == list(recurrence.WEEKDAYS[:5]):
        return "every weekday"
    if days == list(recurrence.WEEKDAYS):
        return "every day"
    return " ".join(d.capitalize() for d in days)


def warn_cannot_apply(request, shifts) -> None:
    """Saved as asked, but say at once which of these shifts' pairs the provider cannot apply."""
    for pair in cannot_apply(shift_pairs(shifts)):
        messages.warning(
            request,
            f"Saved, but this cannot apply: {pair}. Add her to the queue at the provider, "
            "then sync queues, or take her off the shift.",
        )


class TimeOffForm(forms.ModelForm):
    """Start and end are entered as wall times in the time off's own zone, and stored in UTC."""

    start = WallTimeField(help_text="Local time, in the zone below.")
    end = WallTimeField(help_text="Local time, in the zone below (exclusive).")

    class Meta:
        model = TimeOff
        fields = ["agent", "start", "end", "timezone", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"] = zone_field(TimeOff, self.instance)
        if self.instance.pk:
            try:
                tz = recurrence.zone(self.instance.timezone)
            except ValueError:  # a zone this system no longer knows: show UTC; saving asks for a zone
                tz = recurrence.zone("UTC")
            for name in ("start", "end"):
                self.initial[name] = getattr(self.instance, name).astimezone(tz).replace(tzinfo=None)

    def clean(self):
        data = super().clean()
        if "timezone" not in data:
            return data
        try:
            tz = recurrence.zone(data["timezone"])
        except ValueError as error:
            self.add_error("timezone", str(error))
            return data
        for name in ("start", "end"):
            if data.get(name):  # parsed as a wall time in UTC: reinterpret it in the chosen zone
                try:
                    data[name] = recurrence.to_utc(data[name].date(), data[name].time(), tz)
                except OverflowError:
                    self.add_error(name, f"{data[name]:%Y-%m-%d %H:%M} in {tz.key} is outside the calendar in UTC")
        return data


@admin.register(TimeOff)
class TimeOffAdmin(ViewerZoneMixin, SimpleHistoryAdmin):
    form = TimeOffForm
    list_display = ["agent", "starts", "ends", "reason"]
    list_filter = ["timezone", "agent"]
    search_fields = ["agent__name", "agent__provider_id", "reason"]
    date_hierarchy = "start"
    list_select_related = ["agent"]
    autocomplete_fields = ["agent"]

    @admin.display(description="from", ordering="start")
    def starts(self, off):
        return local_time(off.start)

    @admin.display(description="until", ordering="end")
    def ends(self, off):
        return local_time(off.end)


@admin.register(Supervision)
class SupervisionAdmin(ReadOnlyAdmin):
    """Not a table: the entry point of the supervisors' pages (now board, timeline, coverage, plan, hold)."""

    def get_urls(self):
        wrap = self.admin_site.admin_view
        pages = [
            ("board/", partial(admin_views.board, compliance=compliance_today), "board"),
            ("board/panel/", partial(admin_views.board, panel=True, compliance=compliance_today), "board_panel"),
            ("timeline/", admin_views.timeline, "timeline"),
            ("coverage/", admin_views.coverage, "coverage"),
            ("compliance/", compliance_views.compliance, "compliance"),
            ("preview/", admin_views.plan_preview, "preview"),
            ("hold/", admin_views.hold, "hold"),
            ("reconcile/", admin_views.reconcile_now, "reconcile"),
            ("sync/", admin_views.sync_queues, "sync"),
            ("schedule-file/", admin_views.roster_yaml, "roster"),
        ]
        return [
            path(route, wrap(partial(view, model_admin=self)), name=f"scheduler_supervision_{name}")
            for route, view, name in pages
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        return redirect("admin:scheduler_supervision_board")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("scheduler.view_board")

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.action(
    description="Issue a calendar feed link (shown once; older links stop working)", permissions=["issue_feed"]
)
def issue_calendar_feed(modeladmin, request, queryset):
    kind = "agent" if modeladmin.model is Agent else "queue"
    for obj in queryset:
        token = issue_feed(**{kind: obj})
        url = request.build_absolute_uri(feed_path(kind, token))
        messages.success(
            request, f"Calendar feed of {obj.name} (copy it now, it is not shown again; older links are revoked): {url}"
        )


class FeedActionMixin:
    """Queues and agents, as queues/admin.py shows them, with the schedule's calendar feed action."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_issue_feed_permission(request):
            actions["issue_calendar_feed"] = self.get_action(issue_calendar_feed)
        return actions

    def has_issue_feed_permission(self, request):
        return request.user.has_perm("scheduler.issue_feed")


class AgentShiftInline(admin.TabularInline):
    """Her shifts on her own page, read-only: they are edited on the shift's page."""

    model = Shift.agents.through
    verbose_name, verbose_name_plural = "shift", "shifts"
    fields = readonly_fields = ("shift", "shift_queues", "shift_hours", "shift_days")
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shift").prefetch_related("shift__queues")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="queues")
    def shift_queues(self, row):
        return ", ".join(q.name for q in row.shift.queues.all())

    @admin.display(description="hours")
    def shift_hours(self, row):
        return shift_hours(row.shift)

    @admin.display(description="repeats")
    def shift_days(self, row):
        return recurrence_words(row.shift)


class AgentTimeOffInline(admin.TabularInline):
    """Her time off that has not ended yet, read-only."""

    model = TimeOff
    verbose_name_plural = "time off (now and coming)"
    fields = readonly_fields = ("starts", "ends", "reason")
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(end__gt=timezone.now())

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="from")
    def starts(self, off):
        return local_time(off.start)

    @admin.display(description="until")
    def ends(self, off):
        return local_time(off.end)


class AgentScheduleMixin:
    """An agent's page shows her shifts, her coming time off and her next schedule boundary."""

    inlines = [*AgentAdmin.inlines, AgentShiftInline, AgentTimeOffInline]
    readonly_fields = [*AgentAdmin.readonly_fields, "next_boundary"]

    @admin.display(description="next schedule boundary")
    def next_boundary(self, agent):
        if agent.pk is None:
            return "—"
        now = timezone.now()
        plan = agent_plan(agent, start=now, end=now + timedelta(days=7))
        at = plan.next_transition(now)
        if at is None:
            return "none in the next 7 days"
        return f"{local_time(at)}: {plan.transitions[at].replace('your time off', 'her time off')}"


admin.site.unregister(Agent)
admin.site.register(
    Agent, type(AgentAdmin.__name__, (FeedActionMixin, AgentScheduleMixin, ViewerZoneMixin, AgentAdmin), {})
)
admin.site.unregister(CallQueue)
admin.site.register(CallQueue, type(CallQueueAdmin.__name__, (FeedActionMixin, CallQueueAdmin), {}))


@admin.register(FeedToken)
class FeedTokenAdmin(admin.ModelAdmin):
    """Every calendar link issued, to see which are in use and revoke them; a link itself is never shown again."""

    list_display = ["__str__", "token_prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["agent__name", "agent__provider_id", "queue__name", "queue__provider_id"]
    list_select_related = ["agent", "queue"]
    fields = ("agent", "queue", "token_prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description="link starts with")
    def token_prefix(self, token):
        return f"{token.prefix}…" if token.prefix else "(issued before prefixes were kept)"

    @admin.action(description="Revoke the selected calendar links", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = feed_tokens_revoke(queryset)
        self.message_user(request, f"Revoked {revoked} calendar link(s); they now answer 410 Gone.")

    def has_add_permission(self, request):
        return False  # links are issued from an agent or a queue, shown once

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: the list keeps who had a link and when it was last used
