"""The plan compliance page, among the supervisors' pages (registered in scheduler/admin.py)."""

from datetime import timedelta

from django.utils import timezone

from queues.models import Agent
from scheduler.supervisor.params import date_param, int_param
from scheduler.supervisor.views import _page, _require, viewer_zone

from .compliance import audit_link, compliance_report

MAX_DAYS = 62


def compliance(request, model_admin):
    """Compliance per queue and local day (?day=YYYY-MM-DD first day&days=N, default the last 7 days),
    each deviation linked to the audit rows of its agent (and queue) around it."""
    _require(request, "view_board")
    tz = viewer_zone(request)
    days = int_param(request, "days", default=7, low=1, high=MAX_DAYS)
    today = timezone.now().astimezone(tz).date()
    first = date_param(request, "day", fallback="the last 7 days") or today - timedelta(days=days - 1)
    last = first + timedelta(days=days - 1)
    rows = compliance_report(first=first, last=last, tz=tz)
    agents = {a.provider_id: a for a in Agent.objects.filter(provider_id__in=_agent_ids(rows))}
    table = [(row, [_deviation(d, row.queue, agents) for d in row.tally.deviations]) for row in rows]
    return _page(request, model_admin, "compliance.html", "Plan compliance", tz=tz, table=table, day=first,
                 days=days, last=last)  # fmt: skip


def _agent_ids(rows) -> set[str]:
    return {d.agent_id for row in rows for d in row.tally.deviations}


def _deviation(deviation, queue, agents: dict) -> dict:
    agent = agents.get(deviation.agent_id)
    return {
        "d": deviation,
        "agent": agent.name if agent else deviation.agent_id,
        "audit": audit_link(deviation, queue.pk, agent.pk if agent else None),
    }
