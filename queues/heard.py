"""What the event listener heard from a provider, stored where the reconciler remembers values.

A value heard during the listener's current unbroken session is the provider's actual state,
so a run need not read it again (`heard_since_live`). A session gap (a failed recovery, a
listener that stopped) makes everything heard before it stale until heard or read again.
"""

from collections import defaultdict
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from integrations.base import Provider, ProviderError

from .models import ActualChange, ActualSource, Agent, CallQueue, ListenerSession, QueueMembership, actual_changed

# A session not heard from for this long is taken as gone (a killed listener says nothing): the
# listener sends a heartbeat, answered by the provider, every third of it.
LIVE_WITHIN = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Heard:
    """One value as heard: an agent's status in a queue, or her DnD (queue_id "")."""

    agent_id: str
    queue_id: str
    value: bool | str
    before: bool | str | None  # what was remembered before, to tell a change from an echo
    planned: bool | str | None  # what the last run wanted
    enforce: bool = True


def listened_queues(provider: str) -> set[str]:
    """The queues the listener follows: every queue of the provider Callrota has synced."""
    return set(CallQueue.objects.filter(provider=provider).values_list("provider_id", flat=True))


def session_started(provider: str, *, listener: str = "", at: datetime | None = None) -> None:
    """A new session (nothing recovered): what was heard before it is stale from now. The session is
    `listener`'s from now: another listener's updates to it change nothing."""
    now = at or timezone.now()
    ListenerSession.objects.update_or_create(
        provider=provider,
        defaults={"live_since": now, "connected": True, "last_message_at": now, "listener": listener},
    )


def session_recovered(provider: str, *, listener: str = "") -> None:
    """The same session again, nothing missed: what was heard in it still stands."""
    _session(provider, listener).update(connected=True, last_message_at=timezone.now())


def session_dropped(provider: str, *, listener: str = "") -> None:
    """The connection is down: nothing heard counts as actual until it recovers or starts again."""
    _session(provider, listener).update(connected=False)


def session_ended(provider: str, *, listener: str = "") -> None:
    """The listener stopped: its session is over."""
    _session(provider, listener).update(connected=False, live_since=None)


def session_heard_from(provider: str, *, listener: str = "") -> None:
    """The provider said something (an event, a heartbeat's answer): the session is alive."""
    _session(provider, listener).update(last_message_at=timezone.now())


def _session(provider: str, listener: str):
    """The provider's session row while it is `listener`'s: a listener that lost it updates nothing."""
    return ListenerSession.objects.filter(provider=provider, listener=listener)


def live_since(provider: str) -> datetime | None:
    """Since when the provider's session has heard every change; None when no live session."""
    fresh = Q(last_message_at__gte=timezone.now() - LIVE_WITHIN)
    session = ListenerSession.objects.filter(fresh, provider=provider, connected=True).first()
    return session.live_since if session else None


def heard_since_live(provider: str, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bool | str]:
    """(agent id, queue id or "") -> the value heard in the live session, for the pairs that have one."""
    since = live_since(provider)
    if since is None:
        return {}
    pairs = set(pairs)
    agent_ids = {a for a, _ in pairs}
    heard: dict[tuple[str, str], bool | str] = {}
    rows = QueueMembership.objects.filter(
        queue__provider=provider, agent__provider_id__in=agent_ids, heard_at__gte=since, accepting__isnull=False
    ).values_list("agent__provider_id", "queue__provider_id", "accepting")
    heard.update(((a, q), bool(v)) for a, q, v in rows if (a, q) in pairs)
    agents = Agent.objects.filter(provider=provider, provider_id__in=agent_ids, dnd_heard_at__gte=since)
    heard.update(((a, ""), v) for a, v in agents.exclude(dnd_status="").values_list("provider_id", "dnd_status"))
    return {pair: value for pair, value in heard.items() if pair in pairs}


def queue_presence_heard(
    provider: str, queue_id: str, accept: dict[str, bool], *, at: datetime | None = None, since: datetime | None = None
) -> list[Heard]:
    """Store members' queue status as heard; only members Callrota knows. With `since` (a read that began
    then), a value stored after `since` (heard, read, or written and landed) is newer than the read and is
    kept. A few statements whatever the member count (a re-read stores queues of hundreds)."""
    at = at or timezone.now()
    with transaction.atomic():
        # Only the membership rows, in one order: the listener's events and its re-read lock them concurrently.
        rows = QueueMembership.objects.select_for_update(of=("self",)).select_related("queue", "agent").order_by("pk")
        rows = rows.filter(queue__provider=provider, queue__provider_id=queue_id, agent__provider_id__in=accept)
        kept = [row for row in rows if since is None or not _newer(row.heard_at, row.observed_at, than=since)]
        values = {row.pk: accept[row.agent.provider_id] for row in kept}
        heard = [
            Heard(r.agent.provider_id, queue_id, values[r.pk], r.accepting, r.planned, r.queue.enforce) for r in kept
        ]
        changes = [ActualChange.of_queue_calls(r, values[r.pk], at, _source(since)) for r in kept
                   if r.accepting != values[r.pk]]  # fmt: skip
        _store_by_value(QueueMembership, "accepting", values, observed_at=at, heard_at=at)
        actual_changed(changes)
    return heard


def dnd_heard(
    provider: str,
    agent_id: str,
    status: str,
    *,
    sequence: int | None,
    at: datetime | None = None,
) -> Heard | None:
    """Store an agent's DnD as an event brought it; None (nothing stored) for an unknown agent or older news
    (an older `sequence`). A read's DnD is stored by `dnd_statuses_read`."""
    at = at or timezone.now()
    with transaction.atomic():
        agent = Agent.objects.select_for_update().filter(provider=provider, provider_id=agent_id).first()
        if agent is None:
            return None
        if sequence is not None and agent.dnd_sequence is not None and sequence <= agent.dnd_sequence:
            return None  # older news arriving late (or a replay): never overwrite what is newer
        before = agent.dnd_status or None
        Agent.objects.filter(pk=agent.pk).update(
            dnd_status=status,
            dnd_observed_at=at,
            dnd_heard_at=at,
            dnd_sequence=sequence if sequence is not None else agent.dnd_sequence,
        )
        if status != before:
            actual_changed([ActualChange.of_dnd(agent.pk, status, at, ActualSource.HEARD)])
    return Heard(agent_id, "", status, before, agent.dnd_planned or None)


def dnd_statuses_read(
    provider: str, statuses: dict[str, str], *, since: datetime, at: datetime | None = None
) -> list[Heard]:
    """Store agents' DnD as a read that began at `since` found it, in a few statements whatever the count;
    only agents Callrota knows, and not over a value stored after `since` (heard, read or written: it is newer)."""
    at = at or timezone.now()
    with transaction.atomic():
        agents = Agent.objects.select_for_update().filter(provider=provider, provider_id__in=statuses).order_by("pk")
        kept = [a for a in agents if not _newer(a.dnd_heard_at, a.dnd_observed_at, than=since)]
        values = {a.pk: statuses[a.provider_id] for a in kept}
        heard = [Heard(a.provider_id, "", values[a.pk], a.dnd_status or None, a.dnd_planned or None) for a in kept]
        changes = [ActualChange.of_dnd(a.pk, values[a.pk], at, ActualSource.READ) for a in kept
                   if values[a.pk] != (a.dnd_status or None)]  # fmt: skip
        _store_by_value(Agent, "dnd_status", values, dnd_observed_at=at, dnd_heard_at=at)
        actual_changed(changes)
    return heard


def _store_by_value(model: type[Model], field: str, values: Mapping[int, bool | str], **times: datetime) -> None:
    """Set `field` of each row (by pk) to its value, and the times: one UPDATE per distinct value."""
    pks_by_value: dict[bool | str, list[int]] = defaultdict(list)
    for pk, value in values.items():
        pks_by_value[value].append(pk)
    for value, pks in pks_by_value.items():
        model._default_manager.filter(pk__in=pks).update(**{field: value}, **times)


def _newer(*times: datetime | None, than: datetime) -> bool:
    """Whether a value was stored after `than` (heard, read, or written and landed): a read sent at `than` is older."""
    return any(t is not None and t > than for t in times)


def _source(since: datetime | None) -> str:
    """A value stored with `since` came from a read (`reread`), the others from events."""
    return ActualSource.HEARD if since is None else ActualSource.READ


def reread(provider: Provider) -> Generator[list[Heard] | None]:
    """Read every followed queue's presence and every known agent's DnD, a read at a time, and store
    each as heard; yields what each read stored as soon as it is stored, or None for a read that failed.

    After a session gap this is what the listener may have missed. A value an event brought while
    a read was under way is newer and is kept. The caller may stop between reads (closing the iterator).
    """
    for queue_id in sorted(listened_queues(provider.name)):
        sent = timezone.now()
        try:
            presence = provider.read_queue_presence(queue_id)
        except ProviderError:
            yield None
            continue
        yield queue_presence_heard(provider.name, queue_id, presence, since=sent)
    agent_ids = sorted(Agent.objects.filter(provider=provider.name, active=True).values_list("provider_id", flat=True))
    for start in range(0, len(agent_ids), provider.dnd_per_read):
        sent = timezone.now()
        try:
            statuses = provider.read_dnd(agent_ids[start : start + provider.dnd_per_read])
        except ProviderError:
            yield None
            continue
        yield dnd_statuses_read(provider.name, statuses, since=sent)


def heard_after(provider: str, pairs: Iterable[tuple[str, str]], since: datetime) -> set[tuple[str, str]]:
    """The pairs heard after `since`: a run that read before then must not store its older value over them."""
    pairs = set(pairs)
    agent_ids = {a for a, _ in pairs}
    rows = QueueMembership.objects.filter(
        queue__provider=provider, agent__provider_id__in=agent_ids, heard_at__gt=since
    )
    found = set(rows.values_list("agent__provider_id", "queue__provider_id"))
    agents = Agent.objects.filter(provider=provider, provider_id__in=agent_ids, dnd_heard_at__gt=since)
    found |= {(a, "") for a in agents.values_list("provider_id", flat=True)}
    return found & pairs


def still_drifted(provider: str, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The pairs whose stored value still differs from what the last run planned (a run may have
    planned, or put back, the value since it was heard)."""
    pairs = set(pairs)
    agent_ids = {a for a, _ in pairs}
    rows = QueueMembership.objects.filter(queue__provider=provider, agent__provider_id__in=agent_ids)
    found = {
        (a, q)
        for a, q, value, planned in rows.values_list("agent__provider_id", "queue__provider_id", "accepting", "planned")
        if planned is not None and value != planned
    }
    agents = Agent.objects.filter(provider=provider, provider_id__in=agent_ids).exclude(dnd_planned="")
    found |= {(a, "") for a, value, planned in agents.values_list("provider_id", "dnd_status", "dnd_planned")
              if value != planned}  # fmt: skip
    return found & pairs
