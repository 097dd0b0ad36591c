"""The understaffed alert: an open queue with fewer agents actually taking its calls than its min staff.

Checked each minute (scheduler.tasks.check_understaffed). "Taking its calls" is what the provider
last told Callrota: the member's queue switch on and her DnD letting queue calls through (a DnD never
learned counts as letting them through, as on the now board). A shortfall opens an episode; once it has
lasted CALLROTA_UNDERSTAFFED_MINUTES the Supervisor group is told, once; a recovery, or the queue
closing, ends the episode. A queue with min staff 0 is never short.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from queues.models import CallQueue, QueueMembership, queue_calls_reach
from scheduler.models import UnderstaffedEpisode
from scheduler.notify import notify
from scheduler.roles import SUPERVISOR

from .opening import open_hours


def taking_calls(queues: list[CallQueue]) -> dict[int, int]:
    """Queue pk -> how many active agents are taking its calls, as last learned from the provider."""
    counts = dict.fromkeys((q.pk for q in queues), 0)
    rows = QueueMembership.objects.filter(queue__in=queues, accepting=True, agent__active=True)
    for queue_pk, dnd in rows.values_list("queue_id", "agent__dnd_status"):
        counts[queue_pk] += queue_calls_reach(dnd or None) is not False
    return counts


def is_open(queue: CallQueue, at: datetime) -> bool:
    return bool(open_hours(queue, at, at + timedelta(microseconds=1)))


def alert_after() -> timedelta:
    return timedelta(minutes=settings.UNDERSTAFFED_MINUTES)


def check_understaffed(*, now: datetime) -> list[UnderstaffedEpisode]:
    """Open, close and notify episodes for every queue; return the episodes notified by this check."""
    queues = list(CallQueue.objects.prefetch_related("opening_ranges", "closed_dates"))  # each queue's hours
    counts = taking_calls(queues)
    episodes = {e.queue_id: e for e in UnderstaffedEpisode.objects.filter(ended_at__isnull=True)}
    notified = []
    for queue in queues:
        short = queue.min_staff > 0 and counts[queue.pk] < queue.min_staff and is_open(queue, now)
        episode = episodes.get(queue.pk)
        if not short:
            if episode:
                UnderstaffedEpisode.objects.filter(pk=episode.pk).update(ended_at=now, taking=counts[queue.pk])
            continue
        if episode is None:
            _open_episode(queue, counts[queue.pk], now)
            continue
        UnderstaffedEpisode.objects.filter(pk=episode.pk).update(taking=counts[queue.pk], min_staff=queue.min_staff)
        if now - episode.started_at >= alert_after() and _claim(episode, now):
            notified.append(episode)
            _send(queue, counts[queue.pk], now - episode.started_at)
    return notified


def _claim(episode: UnderstaffedEpisode, now: datetime) -> bool:
    """Mark the episode notified, unless another check already did: only one check sends."""
    return bool(UnderstaffedEpisode.objects.filter(pk=episode.pk, notified_at__isnull=True).update(notified_at=now))


def _open_episode(queue: CallQueue, taking: int, now: datetime) -> None:
    """Start an episode; a check running at the same time may have started it already (one open per queue)."""
    try:
        with transaction.atomic():
            UnderstaffedEpisode.objects.create(queue=queue, started_at=now, min_staff=queue.min_staff, taking=taking)
    except IntegrityError:
        pass


def headline(name: str, taking: int, min_staff: int, lasted: timedelta) -> str:
    """'Support: 1 of 2 taking calls for 7 min', as the board and the alert say it."""
    return f"{name}: {taking} of {min_staff} taking calls for {int(lasted.total_seconds() // 60)} min"


def _send(queue: CallQueue, taking: int, lasted: timedelta) -> None:
    subject = f"Understaffed: {headline(queue.name, taking, queue.min_staff, lasted)}"
    body = (
        f"{subject}.\n\nThe queue {queue.name} ({queue.provider_id}) is open and needs {queue.min_staff} agents "
        f"taking its calls; the provider shows {taking}. Open the now board to see who is off, and hold an agent "
        "on the queue if someone should take calls.\n\nYou get one message per episode; none when it recovers."
    )
    notify(users=supervisors(), subject=subject, body=body)


def supervisors():
    """The active users of the Supervisor group."""
    return User.objects.filter(groups__name=SUPERVISOR, is_active=True).distinct()


def shortages(*, at: datetime) -> dict[int, datetime]:
    """Queue pk -> since when, for the open episodes that have lasted longer than the alert allows."""
    rows = UnderstaffedEpisode.objects.filter(ended_at__isnull=True, started_at__lte=at - alert_after())
    return dict(rows.values_list("queue_id", "started_at"))
