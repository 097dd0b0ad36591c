"""Writing a schedule document to the database: atomic, idempotent, all or nothing.

Queues and agents are matched by provider id, shifts by name, time off by agent, start and end;
nothing already as the file says is written, and nothing absent from the file is deleted.
Every entry is checked by its model's own validation, with messages under the file's paths.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone as dj_timezone

from integrations.base import WeeklyRange
from queues.models import Agent, CallQueue
from queues.opening_hours import closed_dates_of, ranges_of, replace_opening_hours
from scheduler import recurrence
from scheduler.models import OccurrenceChange, Shift, TimeOff
from scheduler.planning import ShiftRule
from scheduler.selectors import shift_rule

from .parse import (
    AgentEntry,
    ChangeEntry,
    QueueEntry,
    ScheduleDocument,
    ScheduleFormatError,
    ShiftEntry,
    TimeOffEntry,
    wall_time_to_utc,
)

if TYPE_CHECKING:  # django-stubs' generic; at run time the class is made per relation
    from django.db.models.fields.related_descriptors import ManyRelatedManager

OVERLAP_HORIZON = timedelta(days=35)  # how far ahead the importer looks for overlapping shifts
OVERLAP_PAIRS = 100_000  # pairs of shifts sharing an agent and a queue it compares at most
FILE_KEYS = {"provider_id": "id", "start_time": "start", "end_time": "end"}  # model field -> the file's key

Keyed = TypeVar("Keyed", CallQueue, Agent)
Stored = TypeVar("Stored", CallQueue, Agent, Shift)
Entry = TypeVar("Entry", QueueEntry, AgentEntry, ShiftEntry)
M = TypeVar("M", bound=models.Model)
Prepared = dict[str, tuple[M, bool]]  # key -> (unsaved instance with the file's values, differs from the database)


@dataclass
class ImportReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    entries: list[tuple[str, str, str]] = field(default_factory=list)  # (outcome, kind, name), in the file's order

    def count(self, outcome: str, kind: str, name: str) -> None:
        """One entry's outcome: "created", "updated" or "unchanged"."""
        getattr(self, outcome)[kind] += 1
        self.entries.append((outcome, kind, name))

    def summary(self) -> str:
        kinds: tuple[str, ...] = ("queues", "agents", "shifts", "time off")
        if any(c["occurrence changes"] for c in (self.created, self.updated, self.unchanged)):
            kinds += ("occurrence changes",)  # a line only for files that have some, so old output stays as it was
        return "\n".join(
            f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated, {self.unchanged[kind]} unchanged"
            for kind in kinds
        )


def import_schedule(document: ScheduleDocument, *, dry_run: bool = False) -> ImportReport:
    """Write the document to the database in one transaction; ScheduleFormatError if any entry is invalid."""
    report = ImportReport()
    errors = list(document.errors)
    with transaction.atomic():
        queues = _prepare(CallQueue, document.queues, errors, _queue_fields, key="provider_id", key_of=_id)
        agents = _prepare(Agent, document.agents, errors, _agent_fields, key="provider_id", key_of=_id)
        shifts = _prepare(Shift, document.shifts, errors, _shift_fields, key="name", key_of=_name)
        errors.extend(_unknown_references(document))
        time_off = _prepare_time_off(document.time_off, errors)
        changes = _prepare_changes(document, shifts, errors)
        if errors:
            raise ScheduleFormatError(errors)
        hours = {e.id: _hours_of(e) for e in document.queues if e.id in queues}
        for key, (instance, changed) in queues.items():
            _save(instance, changed or _hours_differ(instance, *hours[key]), "queues", report)
            replace_opening_hours(instance, ranges=hours[key][0], closed=hours[key][1])
        for agent, agent_changed in agents.values():
            _save(agent, agent_changed, "agents", report)
        _save_shifts(document.shifts, shifts, report)
        _save_time_off(time_off, report)
        _save_changes(changes, shifts, report)
        report.warnings = _overlap_warnings(document.shifts)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _queue_fields(entry: QueueEntry) -> dict[str, Any]:
    fields = {"name": entry.name, "min_staff": entry.min_staff, "editable_member_status": entry.editable_member_status}
    if entry.opening_hours is not None or entry.closed_dates is not None:  # hours from a file are entered by hand
        fields |= {"hours_timezone": entry.hours_timezone or "UTC", "hours_source": "admin"}
    return fields


def _hours_of(entry: QueueEntry) -> tuple[list[WeeklyRange] | None, dict[date, str] | None]:
    """The entry's weekly ranges and closed dates; None for each the file leaves out."""
    ranges = None
    if entry.opening_hours is not None:
        days = [(recurrence.parse_days(",".join(r.days)), r) for r in entry.opening_hours]
        ranges = [WeeklyRange(day, r.opens, r.closes) for weekdays, r in days for day in sorted(weekdays)]
    closed = None if entry.closed_dates is None else {c.date: c.name for c in entry.closed_dates}
    return ranges, closed


def _hours_differ(queue: CallQueue, ranges: list[WeeklyRange] | None, closed: dict[date, str] | None) -> bool:
    return (ranges is not None and set(ranges) != ranges_of(queue)) or (
        closed is not None and closed != closed_dates_of(queue)
    )


def _agent_fields(entry: AgentEntry) -> dict[str, Any]:
    return {"name": entry.name, "off_shift_dnd": entry.off_shift_dnd}


def _prepare(
    model: type[Stored],
    entries: Sequence[Entry],
    errors: list[str],
    fields_of: Callable[[Entry], dict[str, Any]],
    *,
    key: str,
    key_of: Callable[[Entry], str],
) -> Prepared[Stored]:
    """Each entry as an unsaved instance holding the file's values, under the key the file names it by."""
    existing = {getattr(o, key): o for o in model.objects.filter(**{f"{key}__in": [key_of(e) for e in entries]})}
    prepared: Prepared[Stored] = {}
    for entry in entries:
        instance = existing.get(key_of(entry)) or model(**{key: key_of(entry)})
        changed = _assign(instance, fields_of(entry))
        if _validate(instance, entry.path, errors):
            prepared[key_of(entry)] = (instance, changed)
    return prepared


def _id(entry: QueueEntry | AgentEntry) -> str:
    return entry.id


def _name(entry: ShiftEntry) -> str:
    return entry.name


def _assign(instance: models.Model, values: dict[str, Any]) -> bool:
    """Set field values; return whether the instance is new or any value changed."""
    changed = instance.pk is None
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _validate(instance: models.Model, path: str, errors: list[str], exclude: Collection[str] = ()) -> bool:
    """Run the model's own validation; record its messages under the file's paths."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            where = path if name == "__all__" else f"{path}.{FILE_KEYS.get(name, name)}"
            errors.extend(f"{where}: {_lower_first(message)}" for message in messages)
        return False
    return True


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:] if message[1:2].islower() else message


def _shift_fields(entry: ShiftEntry) -> dict[str, Any]:
    return {
        "timezone": entry.timezone,
        "start_time": entry.start,
        "end_time": entry.end,
        "days": ",".join(d.lower() for d in entry.days),
        "rrule": entry.rrule,
        "dtstart": entry.dtstart or (entry.valid_from if entry.rrule else None),
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until,
    }


def _unknown_references(document: ScheduleDocument) -> list[str]:
    """Ids that neither the file nor the database knows; an entry with a mistake still counts as known."""
    queues = _known_ids(CallQueue, document.queues, document.named_ids.get("queues", set()))
    agents = _known_ids(Agent, document.agents, document.named_ids.get("agents", set()))
    errors = []
    for shift in document.shifts:
        errors += [
            f"{shift.path}.queues[{j}]: unknown queue {queue_id!r}: add it under queues"
            for j, queue_id in enumerate(shift.queues)
            if queue_id not in queues
        ]
        errors += [
            f"{shift.path}.agents[{j}]: unknown agent {agent_id!r}: add it under agents"
            for j, agent_id in enumerate(shift.agents)
            if agent_id not in agents
        ]
    errors += [
        f"{off.path}.agent: unknown agent {off.agent!r}: add it under agents"
        for off in document.time_off
        if off.agent not in agents
    ]
    errors += [
        f"{change.path}.{key}[{j}]: unknown agent {agent_id!r}: add it under agents"
        for change in document.changes
        for key in ("absent", "covering")
        for j, agent_id in enumerate(getattr(change, key))
        if agent_id not in agents
    ]
    return errors


def _known_ids(model: type[Keyed], entries: Iterable[QueueEntry | AgentEntry], named: set[str]) -> set[str]:
    return {e.id for e in entries} | named | set(model.objects.values_list("provider_id", flat=True))


def _prepare_time_off(entries: Sequence[TimeOffEntry], errors: list[str]) -> list[tuple[str, TimeOff]]:
    prepared = []
    for entry in entries:
        tz = recurrence.zone(entry.timezone)
        start, end = wall_time_to_utc(entry.start, tz), wall_time_to_utc(entry.end, tz)
        instance = TimeOff(start=start, end=end, timezone=entry.timezone, reason=entry.reason)
        if _validate(instance, entry.path, errors, exclude=["agent"]):
            prepared.append((entry.agent, instance))
    return prepared


def _prepare_changes(
    document: ScheduleDocument, shifts: Prepared[Shift], errors: list[str]
) -> list[tuple[ChangeEntry, OccurrenceChange]]:
    """Each change as an unsaved OccurrenceChange on its (maybe unsaved) shift, checked by the model's rules."""
    rostered = {entry.name: set(entry.agents) for entry in document.shifts}
    prepared = []
    for entry in document.changes:
        if entry.shift not in shifts:  # the shift itself has mistakes, already listed
            continue
        shift = shifts[entry.shift][0]
        span = _moved_span(entry, recurrence.zone(shift.timezone), errors)
        instance = OccurrenceChange(shift=shift, occurrence=entry.occurrence, cancelled=entry.cancelled,
                                    start=span[0], end=span[1], reason=entry.reason)  # fmt: skip
        valid = _validate(instance, entry.path, errors, exclude=["shift"])
        try:
            instance.clean_agents(set(entry.absent), set(entry.covering), rostered[entry.shift])
        except ValidationError as error:
            errors.extend(
                f"{entry.path}.{name}: {_lower_first(m)}" for name, ms in error.message_dict.items() for m in ms
            )
            valid = False
        if valid:
            prepared.append((entry, instance))
    return prepared


def _moved_span(entry: ChangeEntry, tz, errors: list[str]) -> tuple[datetime | None, datetime | None]:
    """The new UTC start and end from the file's local times: HH:MM on `date` (else the occurrence's), or wall times."""
    start, end = entry.start, entry.end
    if start is None or end is None:
        if (start, end) != (None, None):
            errors.append(f"{entry.path}.end: a moved occurrence needs both a new start and a new end, or neither")
        elif entry.date is not None:
            errors.append(f"{entry.path}.date: a move to another day needs the new start and end too")
        return None, None
    if isinstance(start, time) and isinstance(end, time):
        return recurrence.occurrence_span(entry.date or entry.occurrence, start, end, tz)
    if isinstance(start, datetime) and isinstance(end, datetime):
        if entry.date is not None:
            errors.append(f"{entry.path}.date: start and end carry their dates already; leave date out")
        return wall_time_to_utc(start, tz), wall_time_to_utc(end, tz)
    errors.append(f"{entry.path}.end: give start and end both as times (HH:MM) or both as dates and times")
    return None, None


def _save(instance: CallQueue | Agent, changed: bool, kind: str, report: ImportReport) -> None:
    if not changed:
        report.count("unchanged", kind, instance.name)
        return
    report.count("created" if instance.pk is None else "updated", kind, instance.name)
    instance.save()


def _save_shifts(entries: Sequence[ShiftEntry], prepared: Prepared[Shift], report: ImportReport) -> None:
    queue_pks = dict(CallQueue.objects.values_list("provider_id", "pk"))
    agent_pks = dict(Agent.objects.values_list("provider_id", "pk"))
    for entry in entries:
        instance, changed = prepared[entry.name]
        is_new = instance.pk is None
        if changed:
            instance.save()
        m2m_changed = _set_if_different(instance.queues, {queue_pks[q] for q in entry.queues})
        m2m_changed |= _set_if_different(instance.agents, {agent_pks[a] for a in entry.agents})
        outcome = "created" if is_new else "updated" if changed or m2m_changed else "unchanged"
        report.count(outcome, "shifts", entry.name)


def _set_if_different(manager: "ManyRelatedManager[Any, Any]", pks: set[int]) -> bool:
    """Set a many-to-many relation only when it differs, so an unchanged shift gets no history row."""
    if set(manager.values_list("pk", flat=True)) == pks:
        return False
    manager.set(pks)
    return True


def _save_time_off(prepared: list[tuple[str, TimeOff]], report: ImportReport) -> None:
    """Time off is matched by agent, start and end; a match gets the file's reason and zone."""
    agents = {a.provider_id: a for a in Agent.objects.all()}
    for agent_id, instance in prepared:
        instance.agent_id = agents[agent_id].pk
        name = f"{agents[agent_id].name}, {instance.start:%Y-%m-%d %H:%M}–{instance.end:%Y-%m-%d %H:%M} UTC"
        existing = TimeOff.objects.filter(agent_id=instance.agent_id, start=instance.start, end=instance.end).first()
        if existing is None:
            instance.save()
            report.count("created", "time off", name)
        elif _assign(existing, {"reason": instance.reason, "timezone": instance.timezone}):
            existing.save()
            report.count("updated", "time off", name)
        else:
            report.count("unchanged", "time off", name)


def _save_changes(
    prepared: list[tuple[ChangeEntry, OccurrenceChange]], shifts: Prepared[Shift], report: ImportReport
) -> None:
    """Changes are matched by shift and occurrence date; a match gets the file's values."""
    agent_pks = dict(Agent.objects.values_list("provider_id", "pk"))
    for entry, instance in prepared:
        shift = shifts[entry.shift][0]  # saved by now
        name = f"{shift.name} on {entry.occurrence}"
        existing = OccurrenceChange.objects.filter(shift=shift, occurrence=entry.occurrence).first()
        if existing is None:
            instance.shift = shift
            instance.save()
            outcome = "created"
        else:
            fields = {f: getattr(instance, f) for f in ("cancelled", "start", "end", "reason")}
            outcome = "updated" if _assign(existing, fields) else "unchanged"
            if outcome == "updated":
                existing.save()
            instance = existing
        agents_changed = _set_if_different(instance.absent, {agent_pks[a] for a in entry.absent})
        agents_changed |= _set_if_different(instance.covering, {agent_pks[a] for a in entry.covering})
        report.count("updated" if outcome == "unchanged" and agents_changed else outcome, "occurrence changes", name)


def _overlap_warnings(shifts: Sequence[ShiftEntry]) -> list[str]:
    """Warn where one agent is on two overlapping shifts that staff the same queue (allowed, but odd).

    Advisory, so its cost is capped: after OVERLAP_PAIRS pairs of shifts it stops and says so,
    rather than let a file of thousands of shifts on one agent take hours.
    """
    occurrences = _Occurrences()
    warnings: list[str] = []
    checked = 0
    for agent_id, entries in sorted(_shifts_by_agent(shifts).items()):
        for first, second in combinations(entries, 2):
            shared = sorted(set(first.queues) & set(second.queues))
            if not shared:
                continue
            if checked == OVERLAP_PAIRS:
                return [*warnings, f"the overlap check stopped after {OVERLAP_PAIRS:,} pairs of shifts"]
            checked += 1
            overlap = occurrences.first_overlap(first, second)
            if overlap:
                warnings.append(
                    f"{second.path}: agent {agent_id} is also on {first.name!r} for queue {shared[0]} "
                    f"at overlapping times (first at {overlap:%Y-%m-%d %H:%M} UTC)"
                )
    return warnings


def _shifts_by_agent(shifts: Sequence[ShiftEntry]) -> dict[str, list[ShiftEntry]]:
    by_agent: defaultdict[str, list[ShiftEntry]] = defaultdict(list)
    for entry in shifts:
        for agent_id in dict.fromkeys(entry.agents):
            by_agent[agent_id].append(entry)
    return by_agent


class _Occurrences:
    """Each shift's occurrences in a window, computed once however many pairs it is in."""

    def __init__(self) -> None:
        self._spans: dict[tuple[str, datetime], list[tuple[datetime, datetime]]] = {}

    def first_overlap(self, a: ShiftEntry, b: ShiftEntry) -> datetime | None:
        """The first instant both run, within OVERLAP_HORIZON of the later start of the two."""
        starts = [d for d in (a.valid_from, b.valid_from, dj_timezone.now().date()) if d]
        window = datetime.combine(max(starts), time(), tzinfo=UTC)
        first, second = self._of(a, window), self._of(b, window)
        i = j = 0
        while i < len(first) and j < len(second):  # both sorted and each without overlaps of its own
            (a_start, a_end), (b_start, b_end) = first[i], second[j]
            if a_start < b_end and b_start < a_end:
                return max(a_start, b_start)
            i, j = (i + 1, j) if a_end <= b_end else (i, j + 1)
        return None

    def _of(self, entry: ShiftEntry, window: datetime) -> list[tuple[datetime, datetime]]:
        key = (entry.name, window)
        if key not in self._spans:
            spans = _rule(entry).occurrences(window, window + OVERLAP_HORIZON)
            self._spans[key] = [(occ.start, occ.end) for occ in spans]
        return self._spans[key]


def _rule(entry: ShiftEntry) -> ShiftRule:
    return shift_rule({"name": entry.name, **_shift_fields(entry)}, entry.queues, entry.agents)
