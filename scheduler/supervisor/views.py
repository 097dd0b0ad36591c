"""The supervisors' admin pages: thin views over board, timeline, coverage, preview and overrides.

Registered by `SupervisionAdmin.get_urls` (scheduler/admin.py), so they live under
/admin/scheduler/supervision/ with the admin's login, CSRF and look.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from integrations.base import ProviderError
from integrations.providers import default_provider
from queues.admin import VIEWER_ZONE_SESSION_KEY
from queues.models import Agent, CallQueue, DndStatus
from queues.sync import sync_queues as sync
from scheduler import recurrence
from scheduler.people import zone_choices
from scheduler.people.fields import WallTimeField
from scheduler.reconcile.locks import LeaseBusy
from scheduler.reconcile.overrides import place_override
from scheduler.reconcile.run import reconcile_locked
from scheduler.schedule.exporter import dump_schedule, export_document
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.membership import cannot_apply, current_shift_pairs
from scheduler.schedule.parse import ScheduleFormatError, parse_schedule_bytes
from scheduler.selectors import schedule_snapshot, schedule_zones

from .board import board_alert, now_board
from .coverage import coverage_report
from .need import need_report
from .params import date_param, int_param
from .preview import preview
from .timeline import queue_timeline, window

TZ_SESSION_KEY = VIEWER_ZONE_SESSION_KEY  # the admin's lists show times in the same zone
PREVIEW_HOURS = 24


def viewer_zone(request):
    """The zone to show: ?tz= (remembered in the session), else the person's own zone (scheduler.people)."""
    found = getattr(request, "viewer_zone", None)  # set by PersonZoneMiddleware for every signed-in request
    default = found.tz if found else recurrence.zone(schedule_zones()[0])
    name = request.GET.get("tz")
    if not name:
        return default
    try:
        tz = recurrence.zone(name)
    except ValueError as error:
        messages.error(request, f"Timezone: {error}. Showing {default.key}.")
        return default
    request.session[TZ_SESSION_KEY] = str(tz)
    timezone.activate(tz)  # the rest of this page too (the middleware resets it after the response)
    return tz


def _page(request, model_admin, template, title, **context):
    base = model_admin.admin_site.each_context(request)
    zones = zone_choices()  # the schedule's zones first in the picker, then every other IANA zone
    base.update(title=title, opts=model_admin.model._meta, tz=context.pop("tz", None), zones=zones, **context)
    return TemplateResponse(request, f"admin/scheduler/{template}", base)


def _require(request, perm: str):
    if not request.user.has_perm(f"scheduler.{perm}"):
        raise PermissionDenied


def board(request, model_admin, panel=False, compliance=None):
    """The now board; the page polls board/panel/ (the table alone) every ?refresh= seconds (default 15).

    `compliance(at=, tz=)` gives each queue's plan compliance today; scheduler/admin.py passes it in,
    since the reports import these pages' helpers and not the other way round.
    """
    _require(request, "view_board")
    at = timezone.now()
    template = "board_panel.html" if panel else "board.html"
    refresh = int_param(request, "refresh", default=15, low=2, high=600)
    tz = viewer_zone(request)
    unapplicable = cannot_apply(current_shift_pairs(today=at.astimezone(tz).date()))
    today = compliance(at=at, tz=tz) if compliance else None
    return _page(request, model_admin, template, "Now board", tz=tz, board=now_board(at=at, compliance=today), at=at,
                 refresh=refresh, alert=board_alert(), cannot_apply=unapplicable)  # fmt: skip


def timeline(request, model_admin):
    """Chosen queues' day or week, one under another (?queue=<pk>, repeated; none: every queue; &day=&days=1|7)."""
    _require(request, "view_board")
    tz = viewer_zone(request)
    queues = list(CallQueue.objects.all())
    chosen = request.GET.getlist("queue")
    shown = [q for q in queues if str(q.pk) in chosen] or queues
    days = 7 if request.GET.get("days") == "7" else 1
    day = date_param(request, "day", fallback="today") or timezone.now().astimezone(tz).date()
    now = timezone.now()
    timelines = [queue_timeline(q, day=day, days=days, tz=tz, now=now) for q in shown]
    nav = {"prev": day - timedelta(days=days), "next": day + timedelta(days=days)}
    selected = "".join(f"&queue={q.pk}" for q in shown if len(shown) < len(queues))
    return _page(request, model_admin, "timeline.html", "Timeline", tz=tz, queues=queues, shown=shown,
                 timelines=timelines, day=day, days=days, nav=nav, selected=selected)  # fmt: skip


def coverage(request, model_admin):
    """Understaffed intervals over local days (?day=YYYY-MM-DD&days=N, default 7 from today)."""
    _require(request, "view_board")
    tz = viewer_zone(request)
    day = date_param(request, "day", fallback="today") or timezone.now().astimezone(tz).date()
    days = int_param(request, "days", default=7, low=1, high=62)
    start, end = window(day, days, tz)
    found = coverage_report(start=start, end=end)
    short_of_need = need_report(start=start, end=end)
    return _page(request, model_admin, "coverage.html", "Coverage", tz=tz, found=found, day=day, days=days,
                 start=start, end=end, short_of_need=short_of_need)  # fmt: skip


def plan_preview(request, model_admin):
    """What will change at each boundary in the next 24 hours, and why."""
    _require(request, "view_board")
    start = timezone.now()
    end = start + timedelta(hours=PREVIEW_HOURS)
    steps = preview(schedule_snapshot(start=start, end=end), start, end)
    agents = dict(Agent.objects.values_list("provider_id", "name"))
    queues = dict(CallQueue.objects.values_list("provider_id", "name"))
    rows = [
        {
            "at": step.at,
            "transitions": [f"{t.kind}: {agents.get(t.name, t.name)}" for t in step.transitions],
            "changes": [
                (
                    agents.get(c.agent_id, c.agent_id),
                    f"{queues.get(c.queue_id, c.queue_id)} calls" if c.queue_id else "Do Not Disturb",
                    _shown(c.old),
                    _shown(c.new),
                    c.reason,
                )  # fmt: skip
                for c in step.changes
            ],
        }
        for step in steps
    ]
    return _page(request, model_admin, "preview.html", "Plan for the next 24 hours", tz=viewer_zone(request),
                 steps=rows, start=start, end=end)  # fmt: skip


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


class HoldForm(forms.Form):
    """An override: a queue's take-calls flag, or Do Not Disturb, held against the schedule."""

    agent = forms.ModelChoiceField(Agent.objects.filter(active=True))
    queue = forms.ModelChoiceField(
        CallQueue.objects.all(), required=False, help_text="Empty to hold the agent's Do Not Disturb instead."
    )
    accept = forms.ChoiceField(
        choices=[("", "---------"), ("on", "Take this queue's calls"), ("off", "Do not take them")], required=False
    )
    dnd_status = forms.ChoiceField(choices=[("", "---------"), *DndStatus.choices], required=False, label="DnD status")
    until = WallTimeField(
        required=False, help_text="In your timezone (shown above). Empty: until the agent's next schedule boundary."
    )

    def __init__(self, *args, tz, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean(self):
        data = super().clean()
        if data.get("queue") and not data.get("accept"):
            self.add_error("accept", "choose whether the agent takes this queue's calls")
        if data.get("queue") and data.get("dnd_status"):
            self.add_error("dnd_status", "hold either a queue or Do Not Disturb: clear one of them")
        if not data.get("queue") and not data.get("dnd_status"):
            self.add_error("queue", "choose a queue to hold, or a DnD status below")
        if data.get("until"):  # typed as a wall time in the viewer's zone
            local = data["until"]
            try:
                data["until"] = recurrence.to_utc(local.date(), local.time(), self.tz)
            except OverflowError:  # past year 9999 or before year 1 in UTC
                self.add_error("until", "choose a time in the next few years, or leave it empty for the next boundary")
                return data
            if data["until"] <= timezone.now():
                self.add_error("until", "choose a time in the future, or leave it empty for the next boundary")
        return data


def hold(request, model_admin):
    """Place an override through scheduler.reconcile.overrides and show its outcome in plain words."""
    _require(request, "hold_agent")
    tz = viewer_zone(request)
    form = HoldForm(request.POST or None, tz=tz, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = place_override(
                agent=data["agent"],
                actor=request.user,
                queue=data["queue"],
                accept={"on": True, "off": False}[data["accept"]] if data["queue"] else None,
                dnd_status="" if data["queue"] else data["dnd_status"],
                until=data["until"],
            )
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))
        except ProviderError as error:
            messages.error(request, f"The provider refused it: {error}")
        else:
            (messages.success if outcome.applied else messages.warning)(request, outcome.message)
            return redirect("admin:scheduler_supervision_board")
    return _page(request, model_admin, "hold.html", "Hold an agent", tz=tz, form=form)


def reconcile_now(request, model_admin):
    """Run the reconciler now, as this supervisor; POST only."""
    _require(request, "reconcile_now")
    if request.method != "POST":
        return redirect("admin:scheduler_supervision_board")
    try:
        result = reconcile_locked(provider=default_provider(), trigger="admin", actor=request.user)
    except LeaseBusy:
        messages.error(request, "Reconcile did not run: another run is in progress. Try again in a minute.")
    except ProviderError as error:
        messages.error(request, f"Reconcile did not run: {error}")
    else:
        failed = sum(c.outcome == "failed" for c in result.changes)
        text = f"Reconciled: {len(result.changes)} change(s) in {result.writes} call(s), {failed} failed."
        (messages.warning if failed or result.problems else messages.success)(request, text)
        for problem in result.problems:
            messages.warning(request, problem)
    return redirect("admin:scheduler_supervision_board")


def sync_queues(request, model_admin):
    """Bring queues and memberships in from the provider; POST only."""
    _require(request, "sync_queues")
    if request.method != "POST":
        return redirect("admin:scheduler_supervision_board")
    try:
        report = sync(default_provider())
    except ProviderError as error:
        messages.error(request, f"Sync failed: {error}")
    else:
        messages.success(
            request,
            f"Synced: {len(report.queues_created)} queue(s) created, {len(report.queues_updated)} updated, "
            f"{report.memberships_added} membership(s) added, {report.memberships_removed} removed.",
        )
        if report.unknown_queues:
            messages.warning(
                request, f"Queues in the schedule but not at the provider: {', '.join(report.unknown_queues)}"
            )
    return redirect("admin:scheduler_supervision_board")


def roster_yaml(request, model_admin):
    """The schedule file from the admin: export; import (YAML, or JSON by a .json name) previewed as a dry run
    before it is confirmed. Every mistake, however hostile the file, is a message on the page."""
    _require(request, "view_board")
    if request.GET.get("export"):
        response = HttpResponse(dump_schedule(export_document()), content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="schedule.yaml"'
        return response
    context = {"text": "", "json_only": False, "report": None, "errors": []}
    if request.method == "POST":
        if not request.user.has_perms([f"scheduler.{v}_{m}" for v in ("add", "change") for m in ("shift", "timeoff")]):
            raise PermissionDenied
        data, json_only = _schedule_text(request)
        confirm = bool(request.POST.get("confirm"))
        try:
            if not data.strip():
                raise ScheduleFormatError(["schedule: choose a YAML or JSON file to upload"])
            document = parse_schedule_bytes(data, json_only=json_only, lenient=True)
            report = import_schedule(document, dry_run=not confirm)
        except ScheduleFormatError as error:
            context.update(errors=error.errors)
        else:
            unapplicable = cannot_apply((q, a, s.name) for s in document.shifts for q in s.queues for a in s.agents)
            if confirm:
                messages.success(request, "Schedule imported. " + report.summary().replace("\n", "; "))
                for pair in unapplicable:
                    messages.warning(request, f"Imported, but this cannot apply: {pair}.")
                return redirect("admin:scheduler_shift_changelist")
            context.update(text=data.decode("utf-8-sig"), json_only=json_only, report=report, cannot_apply=unapplicable)
    return _page(request, model_admin, "roster.html", "Schedule file", tz=viewer_zone(request), **context)


def _schedule_text(request) -> tuple[bytes, bool]:
    """The uploaded file's bytes (or the previewed text sent back on confirm), and whether it is JSON."""
    upload = request.FILES.get("schedule")
    if upload is None:
        return request.POST.get("text", "").encode(errors="replace"), bool(request.POST.get("json"))
    # Reading one byte more than the limit is enough to refuse a larger file, without reading it all.
    return upload.read(settings.SCHEDULE_FILE_MAX_BYTES + 1), upload.name.lower().endswith(".json")
