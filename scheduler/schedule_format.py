"""The schedule file (YAML or JSON) <-> the models.

Reading collects every mistake with its path in the file (`shifts[2].end: ...`)
before anything is written. Importing is atomic and idempotent: it updates queues
and agents by provider id and shifts by name, and writes nothing already as the
file says. Nothing absent from the file is deleted.
"""

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone as dj_timezone

from queues.models import Agent, CallQueue

from . import recurrence
from .models import Shift, TimeOff
from .selectors import shift_rule

DEMO_SCHEDULE = Path(__file__).resolve().parent / "demo" / "schedule.yaml"
OVERLAP_HORIZON = timedelta(days=35)  # how far ahead the importer looks for overlapping shifts


class ScheduleFormatError(Exception):
    """The file has mistakes; `errors` lists each one with its path."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class QueueEntry:
    id: str
    name: str
    min_staff: int = 0
    editable_member_status: bool = True


@dataclass
class AgentEntry:
    id: str
    name: str
    off_shift_dnd: str | None = None


@dataclass
class ShiftEntry:
    name: str
    queues: list[str]
    agents: list[str]
    start: time
    end: time
    timezone: str
    days: list[str] = field(default_factory=list)
    rrule: str = ""
    dtstart: date | None = None
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass
class TimeOffEntry:
    agent: str
    start: datetime  # naive local wall time, or aware when the file gave an offset
    end: datetime
    timezone: str
    reason: str = ""


@dataclass
class ScheduleDocument:
    timezone: str = "UTC"
    queues: list[QueueEntry] = field(default_factory=list)
    agents: list[AgentEntry] = field(default_factory=list)
    shifts: list[ShiftEntry] = field(default_factory=list)
    time_off: list[TimeOffEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # mistakes found while reading (lenient reads only)


# ---------------------------------------------------------------------------- reading


class _Loader(yaml.SafeLoader):
    """YAML 1.1 without sexagesimal numbers, so an unquoted 12:00 stays a time, not 720."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(0|[1-9][0-9_]*)$"), list("-+0123456789"))


def read_schedule_file(path, *, lenient: bool = False) -> ScheduleDocument:
    """Parse a schedule file; ScheduleFormatError lists every mistake with its path.

    `lenient` keeps reading mistakes in `document.errors` instead, so the importer can
    report them together with the model's own validation errors.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScheduleFormatError([f"{path}: cannot read the file ({error.strerror})"]) from None
    return parse_schedule(text, json_only=path.suffix.lower() == ".json", lenient=lenient)


def parse_schedule(text: str, *, json_only: bool = False, lenient: bool = False) -> ScheduleDocument:
    """Parse schedule text (YAML, or JSON); ScheduleFormatError lists every mistake with its path."""
    try:
        data = json.loads(text) if json_only else yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader
    except (ValueError, yaml.YAMLError) as error:
        raise ScheduleFormatError([f"the file is not valid {'JSON' if json_only else 'YAML'}: {error}"]) from None
    errors: list[str] = []
    root = _Fields(data or {}, "", errors, {"timezone", "queues", "agents", "shifts", "time_off"})
    default_tz = root.text("timezone", default="UTC")
    try:
        recurrence.zone(default_tz)
    except ValueError as error:
        errors.append(f"timezone: {error}")
        default_tz = "UTC"  # keep checking the rest against a valid zone
    document = ScheduleDocument(
        timezone=default_tz,
        queues=[_queue(f) for f in root.items("queues", QUEUE_KEYS)],
        agents=[_agent(f) for f in root.items("agents", AGENT_KEYS)],
        shifts=[_shift(f, default_tz) for f in root.items("shifts", SHIFT_KEYS)],
        time_off=[_time_off(f, default_tz) for f in root.items("time_off", TIME_OFF_KEYS)],
    )
    _check_duplicates(document, errors)
    if errors and not lenient:
        raise ScheduleFormatError(errors)
    document.errors = errors
    return document


QUEUE_KEYS = {"id", "name", "min_staff", "editable_member_status"}
AGENT_KEYS = {"id", "name", "off_shift_dnd"}
SHIFT_KEYS = {
    "name",
    "queues",
    "agents",
    "days",
    "rrule",
    "dtstart",
    "start",
    "end",
    "timezone",
    "valid_from",
    "valid_until",
}
TIME_OFF_KEYS = {"agent", "start", "end", "timezone", "reason"}


def _queue(f: "_Fields") -> QueueEntry:
    return QueueEntry(
        id=f.text("id"),
        name=f.text("name"),
        min_staff=f.count("min_staff", default=0),
        editable_member_status=f.flag("editable_member_status", default=True),
    )


def _agent(f: "_Fields") -> AgentEntry:
    return AgentEntry(id=f.text("id"), name=f.text("name"), off_shift_dnd=f.text("off_shift_dnd", default=None))


def _shift(f: "_Fields", default_tz: str) -> ShiftEntry:
    return ShiftEntry(
        name=f.text("name"),
        queues=f.texts("queues"),
        agents=f.texts("agents"),
        start=f.time("start"),
        end=f.time("end"),
        timezone=f.text("timezone", default=default_tz),
        days=f.texts("days", required=False),
        rrule=f.text("rrule", default=""),
        dtstart=f.date("dtstart"),
        valid_from=f.date("valid_from"),
        valid_until=f.date("valid_until"),
    )


def _time_off(f: "_Fields", default_tz: str) -> TimeOffEntry:
    return TimeOffEntry(
        agent=f.text("agent"),
        start=f.local_datetime("start"),
        end=f.local_datetime("end"),
        timezone=f.text("timezone", default=default_tz),
        reason=f.text("reason", default=""),
    )


_REQUIRED = object()


class _Fields:
    """Typed reads from one mapping of the file, each mistake recorded with its path."""

    def __init__(self, data, path: str, errors: list[str], known: set[str]):
        self.path, self.errors = path, errors
        self.data = data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            self.error("", "must be a mapping of keys to values")
        for key in self.data:
            if key not in known:
                self.error(str(key), f"unknown key: expected one of {', '.join(sorted(known))}")

    def error(self, key: str, message: str):
        where = ".".join(p for p in (self.path, key) if p)
        self.errors.append(f"{where or 'file'}: {message}")

    def items(self, key: str, known: set[str]) -> list["_Fields"]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(key, "must be a list")
            return []
        return [_Fields(item, f"{key}[{i}]", self.errors, known) for i, item in enumerate(value)]

    def _get(self, key: str, default):
        """The value at key; `default` when absent, or an error when the default is _REQUIRED."""
        value = self.data.get(key)
        if value is None and default is _REQUIRED:
            self.error(key, "is required")
        return default if value is None else value

    def text(self, key: str, default=_REQUIRED) -> str | None:
        value = self._get(key, default)
        if value is _REQUIRED or value is default:
            return "" if value is _REQUIRED else value
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.error(key, f"{value!r} is not text")
            return ""
        return str(value).strip()

    def texts(self, key: str, required: bool = True) -> list[str]:
        value = self._get(key, _REQUIRED if required else [])
        if value is _REQUIRED:
            return []
        if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, (str, int)) for v in value):
            self.error(key, f"{value!r} is not a list of ids or names")
            return []
        return [str(v).strip() for v in value]

    def count(self, key: str, default: int) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.error(key, f"{value!r} is not a whole number of 0 or more")
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            self.error(key, f"{value!r} is not true or false")
            return default
        return value

    def time(self, key: str) -> time | None:
        value = self._get(key, _REQUIRED)
        if value is _REQUIRED:
            return None
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value))
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            self.error(key, f"{str(value)!r} is not a time (HH:MM)")
            return None
        return time(int(match[1]), int(match[2]))

    def date(self, key: str) -> date | None:
        value = self._get(key, None)
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.error(key, f"{str(value)!r} is not a date (YYYY-MM-DD)")
            return None

    def local_datetime(self, key: str) -> datetime | None:
        value = self._get(key, _REQUIRED)
        if value is _REQUIRED:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time())
        try:
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        except ValueError:
            self.error(key, f"{str(value)!r} is not a date and time (YYYY-MM-DDTHH:MM)")
            return None


def _check_duplicates(document: ScheduleDocument, errors: list[str]):
    for section, key in (("queues", "id"), ("agents", "id"), ("shifts", "name")):
        seen: dict[str, int] = {}
        for i, entry in enumerate(getattr(document, section)):
            value = getattr(entry, key)
            if value in seen:
                errors.append(f"{section}[{i}].{key}: {value!r} is already used by {section}[{seen[value]}]")
            seen.setdefault(value, i)


# ---------------------------------------------------------------------------- importing


@dataclass
class ImportReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        kinds = ("queues", "agents", "shifts", "time off")
        return "\n".join(
            f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated, {self.unchanged[kind]} unchanged"
            for kind in kinds
        )


# model field -> key in the file, for error paths
FILE_KEYS = {"provider_id": "id", "start_time": "start", "end_time": "end"}


def import_schedule(document: ScheduleDocument, *, dry_run: bool = False) -> ImportReport:
    """Write the document to the database in one transaction; ScheduleFormatError if any entry is invalid."""
    report = ImportReport()
    errors = list(document.errors)
    with transaction.atomic():
        queues = _prepare(CallQueue, document.queues, "queues", errors, _queue_fields)
        agents = _prepare(Agent, document.agents, "agents", errors, _agent_fields)
        shifts = _prepare_shifts(document.shifts, errors)
        known_queues = set(queues) | set(CallQueue.objects.values_list("provider_id", flat=True))
        known_agents = set(agents) | set(Agent.objects.values_list("provider_id", flat=True))
        _check_references(document, known_queues, known_agents, errors)
        time_off = _prepare_time_off(document.time_off, errors)
        if errors:
            raise ScheduleFormatError(errors)
        for kind, prepared in (("queues", queues), ("agents", agents)):
            for instance, changed in prepared.values():
                _save(instance, changed, kind, report)
        _save_shifts(document.shifts, shifts, report)
        _save_time_off(time_off, report)
        report.warnings = overlap_warnings(document)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _queue_fields(entry: QueueEntry) -> dict:
    return {"name": entry.name, "min_staff": entry.min_staff, "editable_member_status": entry.editable_member_status}


def _agent_fields(entry: AgentEntry) -> dict:
    return {"name": entry.name, "off_shift_dnd": entry.off_shift_dnd}


def _prepare(model, entries, section, errors, fields_of) -> dict:
    """provider id -> (unsaved instance with the file's values, whether it differs from the database)."""
    existing = {o.provider_id: o for o in model.objects.filter(provider_id__in=[e.id for e in entries])}
    prepared = {}
    for i, entry in enumerate(entries):
        instance = existing.get(entry.id) or model(provider_id=entry.id)
        changed = _assign(instance, fields_of(entry))
        if _validate(instance, f"{section}[{i}]", errors):
            prepared[entry.id] = (instance, changed)
    return prepared


def _assign(instance, values: dict) -> bool:
    """Set field values; return whether the instance is new or any value changed."""
    changed = instance.pk is None
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _validate(instance, path: str, errors: list[str], exclude=()) -> bool:
    """Run the model's own validation; record its messages under the file's paths.

    A path that reading already reported on (a missing or malformed value) is not reported twice.
    """
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            where = path if name == "__all__" else f"{path}.{FILE_KEYS.get(name, name)}"
            if not any(e.startswith(f"{where}: ") for e in errors):
                errors.extend(f"{where}: {_lower_first(message)}" for message in messages)
        return False
    return True


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:] if message[1:2].islower() else message


def _shift_fields(entry: ShiftEntry) -> dict:
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


def _prepare_shifts(entries: list[ShiftEntry], errors) -> dict:
    existing = Shift.objects.in_bulk([e.name for e in entries], field_name="name")
    prepared = {}
    for i, entry in enumerate(entries):
        instance = existing.get(entry.name) or Shift(name=entry.name)
        changed = _assign(instance, _shift_fields(entry))
        if _validate(instance, f"shifts[{i}]", errors):
            prepared[entry.name] = (instance, changed)
    return prepared


def _check_references(document, known_queues, known_agents, errors):
    for i, shift in enumerate(document.shifts):
        for j, queue_id in enumerate(shift.queues):
            if queue_id not in known_queues:
                errors.append(f"shifts[{i}].queues[{j}]: unknown queue {queue_id!r}: add it under queues")
        for j, agent_id in enumerate(shift.agents):
            if agent_id not in known_agents:
                errors.append(f"shifts[{i}].agents[{j}]: unknown agent {agent_id!r}: add it under agents")
    for i, off in enumerate(document.time_off):
        if off.agent and off.agent not in known_agents:
            errors.append(f"time_off[{i}].agent: unknown agent {off.agent!r}: add it under agents")


def _prepare_time_off(entries: list[TimeOffEntry], errors) -> list:
    prepared = []
    for i, entry in enumerate(entries):
        path = f"time_off[{i}]"
        try:
            tz = recurrence.zone(entry.timezone)
        except ValueError as error:
            errors.append(f"{path}.timezone: {error}")
            continue
        if entry.start is None or entry.end is None:
            continue
        start, end = _local_to_utc(entry.start, tz), _local_to_utc(entry.end, tz)
        instance = TimeOff(start=start, end=end, timezone=entry.timezone, reason=entry.reason)
        if _validate(instance, path, errors, exclude=["agent"]):
            prepared.append((entry.agent, instance))
    return prepared


def _local_to_utc(value: datetime, tz) -> datetime:
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return recurrence.to_utc(value.date(), value.time(), tz)


def _save(instance, changed: bool, kind: str, report: ImportReport):
    if not changed:
        report.unchanged[kind] += 1
        return
    (report.created if instance.pk is None else report.updated)[kind] += 1
    instance.save()


def _save_shifts(entries: list[ShiftEntry], prepared: dict, report: ImportReport):
    queue_pks = dict(CallQueue.objects.values_list("provider_id", "pk"))
    agent_pks = dict(Agent.objects.values_list("provider_id", "pk"))
    for entry in entries:
        instance, changed = prepared[entry.name]
        is_new = instance.pk is None
        if changed:
            instance.save()
        m2m_changed = _set_if_different(instance.queues, {queue_pks[q] for q in entry.queues})
        m2m_changed |= _set_if_different(instance.agents, {agent_pks[a] for a in entry.agents})
        if is_new:
            report.created["shifts"] += 1
        elif changed or m2m_changed:
            report.updated["shifts"] += 1
        else:
            report.unchanged["shifts"] += 1


def _set_if_different(manager, pks: set) -> bool:
    if set(manager.values_list("pk", flat=True)) == pks:
        return False
    manager.set(pks)
    return True


def _save_time_off(prepared: list, report: ImportReport):
    """Time off is matched by agent, start and end; a match gets the file's reason and zone."""
    agent_pks = dict(Agent.objects.values_list("provider_id", "pk"))
    for agent_id, instance in prepared:
        instance.agent_id = agent_pks[agent_id]
        existing = TimeOff.objects.filter(agent_id=instance.agent_id, start=instance.start, end=instance.end).first()
        if existing is None:
            instance.save()
            report.created["time off"] += 1
        elif _assign(existing, {"reason": instance.reason, "timezone": instance.timezone}):
            existing.save()
            report.updated["time off"] += 1
        else:
            report.unchanged["time off"] += 1


def overlap_warnings(document: ScheduleDocument) -> list[str]:
    """Warn where one agent is on two overlapping shifts that staff the same queue (allowed, but odd)."""
    index = {entry.name: i for i, entry in enumerate(document.shifts)}
    by_pair = defaultdict(list)
    for entry in document.shifts:
        for pair in {(q, a) for q in entry.queues for a in entry.agents}:
            by_pair[pair].append(entry)
    warned, warnings = set(), []
    for pair, entries in sorted(by_pair.items()):
        for first, second in combinations(entries, 2):
            if (first.name, second.name, pair[1]) in warned:
                continue
            overlap = _first_overlap(first, second)
            if overlap:
                warned.add((first.name, second.name, pair[1]))
                warnings.append(
                    f"shifts[{index[second.name]}]: agent {pair[1]} is also on {first.name!r} for queue {pair[0]} "
                    f"at overlapping times (first at {overlap:%Y-%m-%d %H:%M} UTC)"
                )
    return warnings


def _first_overlap(a: ShiftEntry, b: ShiftEntry) -> datetime | None:
    starts = [d for d in (a.valid_from, b.valid_from, dj_timezone.now().date()) if d]
    window_start = datetime.combine(max(starts), time(), tzinfo=UTC)
    window_end = window_start + OVERLAP_HORIZON
    spans_a = list(_rule(a).occurrences(window_start, window_end))
    for occ in _rule(b).occurrences(window_start, window_end):
        for other in spans_a:
            if occ.start < other.end and other.start < occ.end:
                return max(occ.start, other.start)
    return None


def _rule(entry: ShiftEntry):
    return shift_rule({"name": entry.name, **_shift_fields(entry)}, entry.queues, entry.agents)


# ---------------------------------------------------------------------------- exporting


def export_document() -> ScheduleDocument:
    """The database's schedule as a document (what `export_schedule` writes)."""
    shifts = list(Shift.objects.prefetch_related("queues", "agents"))
    zones = Counter(s.timezone for s in shifts)
    default_tz = zones.most_common(1)[0][0] if zones else "UTC"
    return ScheduleDocument(
        timezone=default_tz,
        queues=[
            QueueEntry(q.provider_id, q.name, q.min_staff, q.editable_member_status) for q in CallQueue.objects.all()
        ],
        agents=[AgentEntry(a.provider_id, a.name, a.off_shift_dnd) for a in Agent.objects.all()],
        shifts=[_shift_entry(s) for s in shifts],
        time_off=[
            TimeOffEntry(t.agent.provider_id, *_local_pair(t), timezone=t.timezone, reason=t.reason)
            for t in TimeOff.objects.select_related("agent")
        ],
    )


def _shift_entry(shift: Shift) -> ShiftEntry:
    return ShiftEntry(
        name=shift.name,
        queues=sorted(q.provider_id for q in shift.queues.all()),
        agents=sorted(a.provider_id for a in shift.agents.all()),
        start=shift.start_time,
        end=shift.end_time,
        timezone=shift.timezone,
        days=[d for d in shift.days.split(",") if d],
        rrule=shift.rrule,
        dtstart=shift.dtstart,
        valid_from=shift.valid_from,
        valid_until=shift.valid_until,
    )


def _local_pair(off: TimeOff) -> tuple[datetime, datetime]:
    """Start and end as local wall times, keeping the offset where the wall time alone would mislead."""
    tz = recurrence.zone(off.timezone)
    return tuple(_wall_time(value, tz) for value in (off.start, off.end))


def _wall_time(value: datetime, tz) -> datetime:
    local = value.astimezone(tz)
    naive = local.replace(tzinfo=None)
    return naive if _local_to_utc(naive, tz) == value else local


def dump_schedule(document: ScheduleDocument) -> str:
    """The document as YAML in the documented format, optional keys left out when at their default."""
    data = {
        "timezone": document.timezone,
        "queues": [_compact(vars(q), {"min_staff": 0, "editable_member_status": True}) for q in document.queues],
        "agents": [_compact(vars(a), {"off_shift_dnd": None}) for a in document.agents],
        "shifts": [_shift_data(s, document.timezone) for s in document.shifts],
        "time_off": [_time_off_data(t, document.timezone) for t in document.time_off],
    }
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


class _Dumper(yaml.SafeDumper):
    """Block mappings with inline lists of ids or days, as in the documented format."""

    def represent_list(self, data):
        return self.represent_sequence(
            "tag:yaml.org,2002:seq", data, flow_style=not any(isinstance(v, dict) for v in data)
        )


_Dumper.add_representer(list, _Dumper.represent_list)


def _compact(values: dict, defaults: dict) -> dict:
    return {k: v for k, v in values.items() if k not in defaults or v != defaults[k]}


def _shift_data(shift: ShiftEntry, default_tz: str) -> dict:
    data = {"name": shift.name, "queues": shift.queues, "agents": shift.agents}
    data.update({"rrule": shift.rrule, "dtstart": shift.dtstart} if shift.rrule else {"days": shift.days})
    data.update({"start": f"{shift.start:%H:%M}", "end": f"{shift.end:%H:%M}"})
    optional = {"timezone": shift.timezone if shift.timezone != default_tz else None}
    optional.update(valid_from=shift.valid_from, valid_until=shift.valid_until)
    return data | {k: v for k, v in optional.items() if v is not None}


def _time_off_data(off: TimeOffEntry, default_tz: str) -> dict:
    data = {"agent": off.agent, "start": _iso_minutes(off.start), "end": _iso_minutes(off.end)}
    if off.timezone != default_tz:
        data["timezone"] = off.timezone
    return data | ({"reason": off.reason} if off.reason else {})


def _iso_minutes(value: datetime) -> str:
    return value.isoformat(timespec="minutes" if not value.second else "seconds")
