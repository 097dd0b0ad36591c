"""Reading the actual-value log (ActualChange) back as step series: what the provider held, and when.

Shared by plan compliance (scheduler.reports.compliance) and the taking-calls count beside the
forecast (scheduler.supervisor.need), so both read the log, and the phone's changes in it, one way.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Max, Q

from .models import ActualChange, Agent, AuditField, CallQueue, queue_calls_reach

Steps = list[tuple[datetime, object]]  # sorted (since, value): each value holds until the next one
Pair = tuple[str, str]  # (queue id, agent id)


def value_at(steps: Steps, at: datetime):
    """The value a step series holds at `at`; None before its first step."""
    i = bisect_right(steps, at, key=lambda step: step[0])
    return steps[i - 1][1] if i else None


def taking(switch, dnd) -> bool | None:
    """Whether queue calls reach her: switch on and DnD letting them through; None if her switch is unknown."""
    if switch is None:
        return None
    return bool(switch) and queue_calls_reach(dnd or None) is not False


def actual_steps(
    queues: Iterable[CallQueue], agent_ids: Iterable[str] | None, start: datetime, end: datetime
) -> tuple[dict[Pair, Steps], dict[str, Steps]]:
    """The log's steps over [start, end): per (queue id, agent id) the switch, per agent id the DnD.

    Each series starts with the last value learned before `start`, so a window sees what held at its start.
    `agent_ids` None: every agent the log has in these queues (members who have since left included).
    """
    queue_ids = {q.pk: q.provider_id for q in queues}
    by_queue = ActualChange.objects.filter(field=AuditField.QUEUE_CALLS, queue__in=list(queue_ids))
    if agent_ids is None:
        agents = dict(Agent.objects.filter(pk__in=by_queue.values("agent")).values_list("pk", "provider_id"))
    else:
        agents = dict(Agent.objects.filter(provider_id__in=set(agent_ids)).values_list("pk", "provider_id"))
    by_agent = ActualChange.objects.filter(field=AuditField.DND, agent__in=list(agents))
    switches: dict[Pair, Steps] = defaultdict(list)
    rows = _with_prior(by_queue, ["queue", "agent"], start, end).values_list("queue_id", "agent_id", "value", "at")
    for q, a, value, at in rows:
        if a in agents:
            switches[(queue_ids[q], agents[a])].append((at, value == "true"))
    dnds: dict[str, Steps] = defaultdict(list)
    for a, value, at in _with_prior(by_agent, ["agent"], start, end).values_list("agent_id", "value", "at"):
        dnds[agents[a]].append((at, value))
    return dict(switches), dict(dnds)


def _with_prior(rows, keys: list[str], start: datetime, end: datetime):
    """Rows learned in [start, end), and for each target the last one learned before `start`, in order."""
    prior = rows.filter(at__lt=start).values(*keys).annotate(last=Max("id")).values("last")
    return rows.filter(Q(id__in=prior) | Q(at__gte=start, at__lt=end)).order_by("at", "id")
