"""iCalendar (RFC 5545) feeds of one agent's or one queue's shifts, opened by a secret token.

Only a token's SHA-256 (and a short prefix to tell links apart) is stored, so the database and
admin never hold a usable link: the link is shown once, when it is issued. Issuing a new link
revokes the old ones of the same agent or queue; a revoked link answers 410 Gone.

Each occurrence is its own event (no recurring master), keyed by the date the shift's days give it.
An occurrence change follows from that: a cancelled occurrence, or one an agent sits out, is left out
of the feed (the calendar drops it); a moved or substituted one keeps its UID, so calendars update it
in place, with SEQUENCE 1 and the change in its summary. No RECURRENCE-ID: without a master event
several clients (ICSx5, Nextcloud) hide such an orphaned override instead of showing it.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseGone
from django.utils import timezone
from icalendar import Calendar, Event

from queues.models import Agent, CallQueue

from .models import FeedToken
from .planning import Occurrence
from .selectors import schedule_snapshot

PAST, FUTURE = timedelta(days=14), timedelta(days=90)
PREFIX_LENGTH = 6


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed(*, agent: Agent | None = None, queue: CallQueue | None = None) -> str:
    """A new secret for the feed of `agent` or `queue`, revoking its older links; returned once, stored as a digest."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed_tokens_revoke(FeedToken.objects.filter(agent=agent, queue=queue))
        FeedToken.objects.create(agent=agent, queue=queue, digest=_digest(token), prefix=token[:PREFIX_LENGTH])
    return token


def feed_tokens_revoke(tokens) -> int:
    """Stop the links of `tokens` (a FeedToken queryset) working from now on; how many were still working."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def feed_path(kind: str, token: str) -> str:
    return f"/feeds/{kind}/{token}.ics"


def agent_calendar(agent: Agent, *, now: datetime) -> Calendar:
    """The agent's shift occurrences and time off around `now`, as a calendar."""
    start, end = now - PAST, now + FUTURE
    snapshot = schedule_snapshot(start=start, end=end)
    queue_names = dict(CallQueue.objects.values_list("provider_id", "name"))
    cal = _calendar(f"Callrota: {agent.name}")
    for shift in snapshot.shifts_by_agent.get(agent.provider_id, ()):
        queues = ", ".join(queue_names.get(q, q) for q in shift.queue_ids)
        for occ in shift.occurrences(start, end):
            if agent.provider_id not in occ.agent_ids:  # she sits it out, or it is one she does not cover
                continue
            uid = f"shift-{shift.name}-{occ.local_date}-agent-{agent.provider_id}"
            cal.add_component(_event(uid, f"{shift.name} ({queues})", occ.start, occ.end, now, occ))
    for off in snapshot.time_off:
        if off.agent_id == agent.provider_id:
            uid = f"timeoff-{agent.provider_id}-{off.start:%Y%m%dT%H%M%S}"
            cal.add_component(
                _event(uid, f"Time off{': ' + off.reason if off.reason else ''}", off.start, off.end, now)
            )
    return cal


def queue_calendar(queue: CallQueue, *, now: datetime) -> Calendar:
    """Every shift occurrence staffing the queue around `now`, with its agents, as a calendar."""
    start, end = now - PAST, now + FUTURE
    snapshot = schedule_snapshot(start=start, end=end)
    agent_names = dict(Agent.objects.values_list("provider_id", "name"))
    cal = _calendar(f"Callrota: {queue.name}")
    for shift in snapshot.shifts:
        if queue.provider_id not in shift.queue_ids:
            continue
        for occ in shift.occurrences(start, end):
            agents = ", ".join(agent_names.get(a, a) for a in occ.agent_ids)
            uid = f"shift-{shift.name}-{occ.local_date}-queue-{queue.provider_id}"
            cal.add_component(_event(uid, f"{shift.name}: {agents}", occ.start, occ.end, now, occ))
    return cal


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Callrota//Schedule feed//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    return cal


def _event(
    uid: str, summary: str, start: datetime, end: datetime, now: datetime, occ: Occurrence | None = None
) -> Event:
    event = Event()
    event.add("uid", f"{uid.replace(' ', '-')}@callrota")
    event.add("dtstamp", now)
    event.add("dtstart", start)
    event.add("dtend", end)
    change = occ.change if occ else None
    if change is not None:
        summary += f" (changed{': ' + change.reason if change.reason else ''})"
        event.add("sequence", 1)  # a later version of the same occurrence
    event.add("summary", summary)
    return event


def feed_view(request, kind: str, token: str):
    """The calendar a token opens; a revoked token is a 410, an unknown one or one for another kind of feed a 404."""
    found = FeedToken.objects.filter(digest=_digest(token)).select_related("agent", "queue").first()
    if found is not None and found.revoked_at is not None:
        return HttpResponseGone("This calendar link was revoked; ask your supervisor for a new one.")
    if found is not None:
        FeedToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
    if found is not None and kind == "agent" and found.agent is not None:
        calendar = agent_calendar(found.agent, now=timezone.now())
    elif found is not None and kind != "agent" and found.queue is not None:
        calendar = queue_calendar(found.queue, now=timezone.now())
    else:
        raise Http404("no such calendar feed")
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{kind}.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
