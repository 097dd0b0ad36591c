"""Reading the schedule file: YAML or JSON text -> typed entries, every mistake with its path.

Each entry is validated on its own, so one bad entry hides no mistake in another; pydantic's
errors are reworded into the format's own messages (`shifts[2].end: '25:00' is not a time (HH:MM)`).
A key with no value (`key:` or `null`) counts as absent, as it always has.

The file comes from outside, so reading it is bounded before anything is built from it: a size cap
(the SCHEDULE_FILE_MAX_BYTES setting), UTF-8 only, no control characters, no YAML anchors, aliases
or tags (the billion laughs, `!!python/...`), no duplicate keys, at most MAX_DEPTH levels and
MAX_NODES values, numbers of at most MAX_DIGITS digits, dates in MIN_DAY..MAX_DAY; every message
quotes a value briefly (`brief`), so a hostile value cannot flood it.
"""

import codecs
import json
import re
import reprlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, ClassVar, Protocol, TypeVar
from zoneinfo import ZoneInfo

import yaml
from django.conf import settings
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from scheduler import recurrence

try:  # libyaml's parser is several times faster than PyYAML's own; both are safe loaders
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

DEMO_SCHEDULE = Path(__file__).resolve().parent.parent / "demo" / "schedule.yaml"

# A schedule is four levels deep (file > section > entry > list of ids), six with a shift's changes
# (> changes > change > list of ids), and a large one holds some tens of thousands of values; the
# limits leave room for that and no more.
MAX_DEPTH = 6
MAX_NODES = 200_000
MAX_ENTRIES = 5_000  # per section
MAX_IDS = 1_000  # per list of queues, agents or days
MAX_TEXT = 500  # characters in one value; the longest column (a recurrence rule) takes 500
MAX_ZONE = 64  # characters in a timezone's name, as the columns keep it
MAX_DIGITS = 18  # an unquoted number: ids and counts, never more than a 64-bit integer
MIN_DAY, MAX_DAY = date(2000, 1, 1), date(2199, 12, 31)
MAX_MESSAGE = 300  # characters; a message that quotes more is cut
MAX_MESSAGES = 100  # the rest are counted, not listed
# C0 and C1 controls but tab and line ends, DEL, and half surrogate pairs (a JSON or YAML escape can make one)
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

_brief = reprlib.Repr()  # Python 3.11's Repr takes no arguments
_brief.maxstring = _brief.maxother = 40
_brief.maxlist = _brief.maxtuple = _brief.maxdict = _brief.maxset = 4
_brief.maxlevel = 2


def brief(value: Any) -> str:
    """A value from the file as a message quotes it: repr, cut to about 40 characters."""
    return _brief.repr(value)


class ScheduleFormatError(Exception):
    """The file has mistakes; `errors` lists each one with its path (at most MAX_MESSAGES, each cut short)."""

    def __init__(self, errors: list[str]):
        shown = [e if len(e) <= MAX_MESSAGE else e[: MAX_MESSAGE - 1] + "…" for e in errors[:MAX_MESSAGES]]
        if len(errors) > MAX_MESSAGES:
            shown.append(f"... and {len(errors) - MAX_MESSAGES:,} more mistakes not listed")
        super().__init__("\n".join(shown))
        self.errors = shown


# ---------------------------------------------------------------------------- value types


def _worded(template: str, shown: Callable[[Any], str] = brief) -> WrapValidator:
    """Replace pydantic's wording of a bad value with the format's; `{value}` is the value as `shown`."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("schedule_value", template, {"value": shown(value)}) from None

    return WrapValidator(validate)


def _quoted_text(value: Any) -> str:
    return brief(str(value))


def _number_as_text(value: Any) -> Any:
    """An unquoted id such as 222222222 is text too; true/false is not."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _clock_time(value: Any) -> Any:
    """'8:00' or '08:00' -> time; anything else is left for the strict check to refuse."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value) if isinstance(value, str) else None
    if match and int(match[1]) <= 23 and int(match[2]) <= 59:
        return time(int(match[1]), int(match[2]))
    return value


def _iso(parse: Callable[[str], date]) -> Callable[[Any], Any]:
    """A text value read with `parse`; anything else, or text it refuses, is left for the strict check."""

    def read(value: Any) -> Any:
        try:
            return parse(value) if isinstance(value, str) else value
        except ValueError:
            return value

    return read


def _moved_time(value: Any) -> Any:
    """A moved occurrence's start or end: '14:00' (a time on its day) or '2026-12-11T14:00' (a wall time)."""
    clock = _clock_time(value)
    return clock if isinstance(clock, time) else _iso(datetime.fromisoformat)(value)


def _midnight(value: Any) -> Any:
    """A bare date (YAML reads 2026-12-24 as one) means the start of that day."""
    return datetime.combine(value, time()) if type(value) is date else value


def _plain_text(value: str) -> str:
    """Text a database column takes: not too long, no control characters, no half surrogate pairs."""
    if len(value) > MAX_TEXT:
        raise ValueError(f"is {len(value):,} characters long; the limit is {MAX_TEXT}")
    odd = _NOT_TEXT.search(value)
    if odd:
        raise ValueError(
            f"{brief(value)} contains the character U+{ord(odd.group()):04X}, which is not text: remove it"
        )
    return value


def _at_most(limit: int, what: str) -> Callable[[list[Any]], list[Any]]:
    def check(items: list[Any]) -> list[Any]:
        if len(items) > limit:
            raise ValueError(f"has {len(items):,} {what}; the limit is {limit:,}")
        return items

    return check


def _within_years(value: date) -> date:
    if not MIN_DAY <= (value.date() if isinstance(value, datetime) else value) <= MAX_DAY:
        raise ValueError(f"{brief(str(value))} is outside {MIN_DAY} to {MAX_DAY}")
    return value


def _known_zone(name: str) -> str:
    if len(name) > MAX_ZONE:  # a name longer than a file name makes zoneinfo raise OSError
        raise ValueError(f"unknown timezone {brief(name)}: use an IANA name such as Europe/Kyiv")
    recurrence.zone(name)  # ValueError names the zone and hints at the right form
    return name


def _known_days(days: list[str]) -> list[str]:
    recurrence.parse_days(",".join(days))  # ValueError names the unknown day
    return days


Text = Annotated[
    str,
    BeforeValidator(_number_as_text),
    StringConstraints(strip_whitespace=True),
    _worded("{value} is not text"),
    AfterValidator(_plain_text),
]
Ids = Annotated[
    list[Text], _worded("{value} is not a list of ids or names"), AfterValidator(_at_most(MAX_IDS, "items"))
]
WholeNumber = Annotated[int, Field(ge=0), _worded("{value} is not a whole number of 0 or more")]
Flag = Annotated[bool, _worded("{value} is not true or false")]
ClockTime = Annotated[time, BeforeValidator(_clock_time), _worded("{value} is not a time (HH:MM)", _quoted_text)]
Day = Annotated[
    date,
    BeforeValidator(_iso(date.fromisoformat)),
    _worded("{value} is not a date (YYYY-MM-DD)", _quoted_text),
    AfterValidator(_within_years),
]
LocalDateTime = Annotated[
    datetime,
    BeforeValidator(_midnight),
    BeforeValidator(_iso(datetime.fromisoformat)),
    _worded("{value} is not a date and time (YYYY-MM-DDTHH:MM)", _quoted_text),
    AfterValidator(_within_years),
]
MovedTime = Annotated[
    time | datetime,
    BeforeValidator(_moved_time),
    _worded("{value} is not a time (HH:MM) or a date and time (YYYY-MM-DDTHH:MM)", _quoted_text),
    AfterValidator(lambda value: _within_years(value) if isinstance(value, datetime) else value),
]
# Zones and weekdays are checked while reading, so they are reported with the entry's other mistakes;
# rules across fields (end vs start, weekdays vs a recurrence rule) stay with the models.
Zone = Annotated[Text, AfterValidator(_known_zone)]
Days = Annotated[Ids, AfterValidator(_known_days)]
Section = Annotated[list[Any], _worded("must be a list"), AfterValidator(_at_most(MAX_ENTRIES, "entries"))]


# ---------------------------------------------------------------------------- entries


class Entry(BaseModel):
    """One entry of a section; it remembers where it was in the file, for later messages."""

    model_config = ConfigDict(extra="forbid", strict=True)
    section: ClassVar[str]
    _path: str = PrivateAttr(default="")

    @property
    def path(self) -> str:
        """Where the entry is in the file (`shifts[2]`); empty for an entry not read from a file."""
        return self._path


class OpeningRangeEntry(BaseModel):
    """One weekly opening range of a queue: on `days`, from `opens` to `closes` (at or before `opens`: the next day)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    days: Days
    opens: ClockTime
    closes: ClockTime


class ClosedDateEntry(BaseModel):
    """A local date the queue is closed all day, e.g. a holiday."""

    model_config = ConfigDict(extra="forbid", strict=True)
    date: Day
    name: Text = ""


# A queue's keys that hold lists of small mappings, and the mapping each item is.
_NESTED: dict[str, type[BaseModel]] = {"opening_hours": OpeningRangeEntry, "closed_dates": ClosedDateEntry}


class QueueEntry(Entry):
    section = "queues"
    id: Text
    name: Text
    min_staff: WholeNumber = 0
    editable_member_status: Flag = True
    # Absent: the queue's stored hours are left as they are (files older than these keys stay valid).
    opening_hours: list[OpeningRangeEntry] | None = None
    closed_dates: list[ClosedDateEntry] | None = None
    hours_timezone: Zone | None = None  # the zone of opening_hours and closed_dates; read from a file: the file's


class AgentEntry(Entry):
    section = "agents"
    id: Text
    name: Text
    off_shift_dnd: Text | None = None


class ShiftEntry(Entry):
    section = "shifts"
    name: Text
    queues: Ids
    agents: Ids
    start: ClockTime
    end: ClockTime
    timezone: Zone  # the file's default unless given
    days: Days = Field(default_factory=list)
    rrule: Text = ""
    dtstart: Day | None = None
    valid_from: Day | None = None
    valid_until: Day | None = None
    changes: Section = Field(default_factory=list)  # read one by one into ChangeEntry, like a section


class ChangeEntry(Entry):
    """One occurrence of a shift changed: cancelled, moved (local times in the shift's zone), or substituted."""

    section = "changes"
    occurrence: Day  # the local date the shift's days give it
    cancelled: Flag = False
    date: Day | None = None  # moved to another day: the local date of the new start
    start: MovedTime | None = None
    end: MovedTime | None = None
    absent: Ids = Field(default_factory=list)
    covering: Ids = Field(default_factory=list)
    reason: Text = ""
    _shift: str = PrivateAttr(default="")

    @property
    def shift(self) -> str:
        """The name of the shift the change belongs to."""
        return self._shift


class TimeOffEntry(Entry):
    section = "time_off"
    agent: Text
    start: LocalDateTime  # naive local wall time, or aware when the file gave an offset
    end: LocalDateTime
    timezone: Zone
    reason: Text = ""


class _Top(BaseModel):
    """The file's top level; each section's entries are read one by one afterwards."""

    model_config = ConfigDict(extra="forbid", strict=True)
    timezone: Zone = "UTC"
    queues: Section = Field(default_factory=list)
    agents: Section = Field(default_factory=list)
    shifts: Section = Field(default_factory=list)
    time_off: Section = Field(default_factory=list)


E = TypeVar("E", bound=Entry)


@dataclass
class ScheduleDocument:
    timezone: str = "UTC"
    queues: list[QueueEntry] = field(default_factory=list)
    agents: list[AgentEntry] = field(default_factory=list)
    shifts: list[ShiftEntry] = field(default_factory=list)
    time_off: list[TimeOffEntry] = field(default_factory=list)
    changes: list[ChangeEntry] = field(default_factory=list)  # every shift's, each knowing its shift
    errors: list[str] = field(default_factory=list)  # mistakes found while reading (lenient reads only)
    # Section -> every id it names, readable entry or not: a shift naming a queue whose entry has
    # a mistake gets that one mistake, not also "unknown queue".
    named_ids: dict[str, set[str]] = field(default_factory=dict)


# ---------------------------------------------------------------------------- reading


class _Loader(_BaseLoader):
    """YAML 1.1 without sexagesimal numbers (an unquoted 12:00 stays a time, not 720), refusing
    duplicate keys, over-long numbers and impossible dates with their line."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise _refused(key.start_mark, "a key must be a name, not a list or a mapping")
            if key.value in seen:
                raise _refused(key.start_mark, f"the key {brief(key.value)} appears twice in one mapping")
            seen.add(key.value)
        return super().construct_mapping(node, deep)

    def construct_bounded_int(self, node: yaml.ScalarNode) -> int:
        _check_digits(node.value, node.start_mark)
        return self.construct_yaml_int(node)

    def construct_checked_timestamp(self, node: yaml.ScalarNode) -> date | datetime:
        try:
            return self.construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as error:
            raise _refused(node.start_mark, f"{brief(node.value)} is not a date: {error}") from None


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(0|[1-9][0-9_]*)$"), list("-+0123456789"))
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_bounded_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_checked_timestamp)


class _Position(Protocol):
    """Where a YAML node or event starts (PyYAML's and libyaml's marks alike)."""

    line: int
    column: int


class _Refused(ValueError):
    """A part of the file refused while reading it, already worded with where it is."""


def _refused(mark: _Position | None, problem: str) -> _Refused:
    return _Refused(f"{_at(mark)}: {problem}")


def _at(mark: _Position | None) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"


def _check_digits(number: str, mark: _Position | None = None) -> None:
    digits = sum(char.isdigit() for char in number)
    if digits > MAX_DIGITS:
        raise _refused(mark, f"a number of {digits:,} digits; at most {MAX_DIGITS} are allowed (quote an id as text)")


def read_schedule_file(path: str | Path, *, lenient: bool = False) -> ScheduleDocument:
    """Parse a schedule file; ScheduleFormatError lists every mistake with its path.

    `lenient` keeps reading mistakes in `document.errors` instead, so the importer can
    report them together with the model's own validation errors.
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(settings.SCHEDULE_FILE_MAX_BYTES + 1)  # enough to know it is too big
    except OSError as error:
        raise ScheduleFormatError([f"{path}: cannot read the file ({error.strerror})"]) from None
    return parse_schedule_bytes(data, json_only=path.suffix.lower() == ".json", lenient=lenient)


def parse_schedule_bytes(data: bytes, *, json_only: bool = False, lenient: bool = False) -> ScheduleDocument:
    """Parse a schedule file's bytes, as uploaded; see `parse_schedule`."""
    return parse_schedule(decode_schedule(data), json_only=json_only, lenient=lenient)


def decode_schedule(data: bytes) -> str:
    """The file's text: at most SCHEDULE_FILE_MAX_BYTES of UTF-8 (a byte order mark is dropped)."""
    limit = settings.SCHEDULE_FILE_MAX_BYTES
    if len(data) > limit:
        raise ScheduleFormatError([f"file: larger than the limit of {limit:,} bytes (SCHEDULE_FILE_MAX_BYTES)"])
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ScheduleFormatError(["file: the file is UTF-16 or UTF-32 text; save it as UTF-8"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        raise ScheduleFormatError(
            [f"line {line}: byte 0x{byte:02x} is not UTF-8 text; save the file as UTF-8"]
        ) from None


def parse_schedule(text: str, *, json_only: bool = False, lenient: bool = False) -> ScheduleDocument:
    """Parse schedule text (YAML, or JSON); ScheduleFormatError lists every mistake with its path."""
    try:
        _check_characters(text)
        data = _load_json(text) if json_only else _load_yaml(text)
    except _Refused as error:
        raise ScheduleFormatError([str(error)]) from None
    document = _document(data or {})
    if document.errors and not lenient:
        raise ScheduleFormatError(document.errors)
    return document


def _check_characters(text: str) -> None:
    control = _NOT_TEXT.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        code = ord(control.group())
        raise _Refused(f"line {line}: the control character U+{code:04X} is not allowed in a schedule file")


def _load_yaml(text: str) -> Any:
    """YAML, checked event by event before anything is built: no anchors, aliases or tags, bounded size."""
    try:
        _check_events(yaml.parse(text, Loader=_BaseLoader))
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader
    except yaml.MarkedYAMLError as error:
        raise _Refused(f"the file is not valid YAML: {_at(error.problem_mark)}: {error.problem}") from None
    except yaml.YAMLError as error:  # a ReaderError: its first line says which character, not where
        raise _Refused(f"the file is not valid YAML: {str(error).splitlines()[0]}") from None


def _check_events(events: Iterable[yaml.Event]) -> None:
    depth = nodes = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _refused(event.start_mark, "YAML anchors and aliases (&name, *name) are not allowed: write it out")
        tag = getattr(event, "tag", None)
        if tag:
            raise _refused(event.start_mark, f"YAML tags such as {brief(tag)} are not allowed")
        nodes += isinstance(event, yaml.NodeEvent)
        depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
        _check_size(depth, nodes, event.start_mark)


def _check_size(depth: int, nodes: int, mark: _Position | None = None) -> None:
    if depth > MAX_DEPTH:
        raise _refused(mark, f"nested deeper than {MAX_DEPTH} levels; a schedule needs 4")
    if nodes > MAX_NODES:
        raise _refused(mark, f"more than {MAX_NODES:,} values; split the schedule into several files")


def _load_json(text: str) -> Any:
    """JSON without NaN or Infinity, duplicate keys or over-long numbers."""
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_int=_json_int, parse_float=_json_float,
                          object_pairs_hook=_unique_keys)  # fmt: skip
    except RecursionError:
        raise _Refused(f"file: nested deeper than {MAX_DEPTH} levels; a schedule needs 4") from None
    except json.JSONDecodeError as error:
        raise _Refused(f"the file is not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}") from None
    _check_shape(data)
    return data


def _no_constant(name: str) -> Any:
    raise _Refused(f"file: {name} is not a number a schedule can hold")


def _json_int(number: str) -> int:
    _check_digits(number)
    return int(number)


def _json_float(number: str) -> float:
    _check_digits(number)
    return float(number)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise _Refused(f"file: the key {brief(key)} appears twice in one object")
        mapping[key] = value
    return mapping


def _check_shape(data: Any) -> None:
    """Depth and size of loaded JSON (its parser has no hook for them; YAML's events are checked instead)."""
    stack, nodes = [(data, 1)], 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if isinstance(value, dict | list):
            _check_size(depth, nodes)
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    _check_size(0, nodes)


def _document(data: Any) -> ScheduleDocument:
    errors: list[str] = []
    top = _top(data, errors)
    zone = {"timezone": top.timezone}
    document = ScheduleDocument(
        timezone=top.timezone,
        queues=_entries(QueueEntry, top.queues, errors, defaults={"hours_timezone": top.timezone}),
        agents=_entries(AgentEntry, top.agents, errors),
        shifts=_entries(ShiftEntry, top.shifts, errors, defaults=zone),
        time_off=_entries(TimeOffEntry, top.time_off, errors, defaults=zone),
        errors=errors,
        named_ids={"queues": _named_ids(top.queues), "agents": _named_ids(top.agents)},
    )
    document.changes = _changes(document.shifts, errors)
    errors.extend(_duplicates(document.queues, "id") + _duplicates(document.agents, "id"))
    errors.extend(_duplicates(document.shifts, "name"))
    return document


def _changes(shifts: list[ShiftEntry], errors: list[str]) -> list[ChangeEntry]:
    """Every shift's readable changes, each under its path (`shifts[2].changes[0]`) and knowing its shift."""
    found = []
    for shift in shifts:
        entries = _entries(ChangeEntry, shift.changes, errors, prefix=f"{shift.path}.")
        for entry in entries:
            entry._shift = shift.name
        seen: dict[date, str] = {}
        for entry in entries:
            if entry.occurrence in seen:
                errors.append(
                    f"{entry.path}.occurrence: {entry.occurrence} is already changed by {seen[entry.occurrence]}"
                )
            seen.setdefault(entry.occurrence, entry.path)
        found += entries
    return found


def _top(data: Any, errors: list[str]) -> _Top:
    """The top level; a bad key is reported and read as absent, so the rest is still checked."""
    data = _present(data)
    try:
        return _Top.model_validate(data)
    except ValidationError as error:
        errors.extend(_messages(error, _Top, ""))
        refused = {e["loc"][0] for e in error.errors() if e["loc"]}
        usable = {k: v for k, v in data.items() if k not in refused} if isinstance(data, dict) else {}
        return _Top.model_validate(usable)


def _entries(
    model: type[E], items: list[Any], errors: list[str], defaults: dict[str, str] | None = None, prefix: str = ""
) -> list[E]:
    """The section's readable entries; each unreadable one adds its mistakes to `errors`."""
    entries = []
    for i, item in enumerate(items):
        path = f"{prefix}{model.section}[{i}]"
        try:
            entry = model.model_validate(_present(item, defaults))
        except ValidationError as error:
            errors.extend(_messages(error, model, path))
            continue
        entry._path = path
        entries.append(entry)
    return entries


def _present(item: Any, defaults: dict[str, str] | None = None) -> Any:
    """A mapping without its null values, over `defaults`; anything else as it is, for pydantic to refuse."""
    if not isinstance(item, dict):
        return item
    return (defaults or {}) | {k: v for k, v in item.items() if v is not None}


def _named_ids(items: list[Any]) -> set[str]:
    return {str(item["id"]).strip() for item in items if isinstance(item, dict) and item.get("id") is not None}


def _messages(error: ValidationError, model: type[BaseModel], path: str) -> list[str]:
    """pydantic's errors for one mapping of the file, in the format's words, each after its path."""
    return [f"{_where(path, e)}: {_message(e, model)}" for e in error.errors()]


def _where(path: str, error: ErrorDetails) -> str:
    key = error["loc"][0] if error["loc"] else ""
    shown = key if isinstance(key, str) and (key.isidentifier() or not key) and len(key) <= 40 else brief(key)
    # Within a list of mappings (a queue's opening_hours): the item and its key, e.g. opening_hours[0].opens
    inner = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"][1:3] if key in _NESTED)
    return ".".join(p for p in (path, f"{shown}{inner}") if p) or "file"


def _message(error: ErrorDetails, model: type[BaseModel]) -> str:
    match error["type"]:
        case "missing":
            return "is required"
        case "extra_forbidden" | "invalid_key":
            model = _NESTED.get(str(error["loc"][0]), model) if len(error["loc"]) > 1 else model
            return f"unknown key: expected one of {', '.join(sorted(model.model_fields))}"
        case "list_type":
            return "must be a list"
        case "model_type":
            return "must be a mapping of keys to values"
        case "value_error":  # a validator's ValueError: its own words, without pydantic's "Value error, "
            return str(error["ctx"]["error"])
    return error["msg"]


def _duplicates(entries: Sequence[QueueEntry | AgentEntry | ShiftEntry], key: str) -> list[str]:
    first: dict[str, str] = {}
    errors = []
    for entry in entries:
        value = getattr(entry, key)
        if value in first:
            errors.append(f"{entry.path}.{key}: {brief(value)} is already used by {first[value]}")
        first.setdefault(value, entry.path)
    return errors


def wall_time_to_utc(value: datetime, tz: ZoneInfo) -> datetime:
    """A time off's start or end as the file means it: wall time in `tz`, unless it carries an offset."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return recurrence.to_utc(value.date(), value.time(), tz)
