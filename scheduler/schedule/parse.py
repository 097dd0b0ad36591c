"""Reading the schedule file: YAML or JSON text -> typed entries, every mistake with its path.

Each entry is validated on its own, so one bad entry hides no mistake in another; pydantic's
errors are reworded into the format's own messages (`shifts[2].end: '25:00' is not a time (HH:MM)`).
A key with no value (`key:` or `null`) counts as absent, as it always has.
"""

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

import yaml
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

DEMO_SCHEDULE = Path(__file__).resolve().parent.parent / "demo" / "schedule.yaml"


class ScheduleFormatError(Exception):
    """The file has mistakes; `errors` lists each one with its path."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


# ---------------------------------------------------------------------------- value types


def _worded(template: str, shown: Callable[[Any], str] = repr) -> WrapValidator:
    """Replace pydantic's wording of a bad value with the format's; `{value}` is the value as `shown`."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("schedule_value", template, {"value": shown(value)}) from None

    return WrapValidator(validate)


def _quoted_text(value: Any) -> str:
    return repr(str(value))


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


def _midnight(value: Any) -> Any:
    """A bare date (YAML reads 2026-12-24 as one) means the start of that day."""
    return datetime.combine(value, time()) if type(value) is date else value


def _known_zone(name: str) -> str:
    recurrence.zone(name)  # ValueError names the zone and hints at the right form
    return name


def _known_days(days: list[str]) -> list[str]:
    recurrence.parse_days(",".join(days))  # ValueError names the unknown day
    return days


Text = Annotated[
    str, BeforeValidator(_number_as_text), StringConstraints(strip_whitespace=True), _worded("{value} is not text")
]
Ids = Annotated[list[Text], _worded("{value} is not a list of ids or names")]
WholeNumber = Annotated[int, Field(ge=0), _worded("{value} is not a whole number of 0 or more")]
Flag = Annotated[bool, _worded("{value} is not true or false")]
ClockTime = Annotated[time, BeforeValidator(_clock_time), _worded("{value} is not a time (HH:MM)", _quoted_text)]
Day = Annotated[
    date, BeforeValidator(_iso(date.fromisoformat)), _worded("{value} is not a date (YYYY-MM-DD)", _quoted_text)
]
LocalDateTime = Annotated[
    datetime,
    BeforeValidator(_midnight),
    BeforeValidator(_iso(datetime.fromisoformat)),
    _worded("{value} is not a date and time (YYYY-MM-DDTHH:MM)", _quoted_text),
]
# Zones and weekdays are checked while reading, so they are reported with the entry's other mistakes;
# rules across fields (end vs start, weekdays vs a recurrence rule) stay with the models.
Zone = Annotated[Text, AfterValidator(_known_zone)]
Days = Annotated[Ids, AfterValidator(_known_days)]
Section = Annotated[list[Any], _worded("must be a list")]


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


class QueueEntry(Entry):
    section = "queues"
    id: Text
    name: Text
    min_staff: WholeNumber = 0
    editable_member_status: Flag = True


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
    errors: list[str] = field(default_factory=list)  # mistakes found while reading (lenient reads only)
    # Section -> every id it names, readable entry or not: a shift naming a queue whose entry has
    # a mistake gets that one mistake, not also "unknown queue".
    named_ids: dict[str, set[str]] = field(default_factory=dict)


# ---------------------------------------------------------------------------- reading


class _Loader(yaml.SafeLoader):
    """YAML 1.1 without sexagesimal numbers, so an unquoted 12:00 stays a time, not 720."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(0|[1-9][0-9_]*)$"), list("-+0123456789"))


def read_schedule_file(path: str | Path, *, lenient: bool = False) -> ScheduleDocument:
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
    document = _document(data or {})
    if document.errors and not lenient:
        raise ScheduleFormatError(document.errors)
    return document


def _document(data: Any) -> ScheduleDocument:
    errors: list[str] = []
    top = _top(data, errors)
    zone = {"timezone": top.timezone}
    document = ScheduleDocument(
        timezone=top.timezone,
        queues=_entries(QueueEntry, top.queues, errors),
        agents=_entries(AgentEntry, top.agents, errors),
        shifts=_entries(ShiftEntry, top.shifts, errors, defaults=zone),
        time_off=_entries(TimeOffEntry, top.time_off, errors, defaults=zone),
        errors=errors,
        named_ids={"queues": _named_ids(top.queues), "agents": _named_ids(top.agents)},
    )
    errors.extend(_duplicates(document.queues, "id") + _duplicates(document.agents, "id"))
    errors.extend(_duplicates(document.shifts, "name"))
    return document


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


def _entries(model: type[E], items: list[Any], errors: list[str], defaults: dict[str, str] | None = None) -> list[E]:
    """The section's readable entries; each unreadable one adds its mistakes to `errors`."""
    entries = []
    for i, item in enumerate(items):
        path = f"{model.section}[{i}]"
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
    key = str(error["loc"][0]) if error["loc"] else ""
    return ".".join(p for p in (path, key) if p) or "file"


def _message(error: ErrorDetails, model: type[BaseModel]) -> str:
    match error["type"]:
        case "missing":
            return "is required"
        case "extra_forbidden" | "invalid_key":
            return f"unknown key: expected one of {', '.join(sorted(model.model_fields))}"
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
            errors.append(f"{entry.path}.{key}: {value!r} is already used by {first[value]}")
        first.setdefault(value, entry.path)
    return errors


def wall_time_to_utc(value: datetime, tz: ZoneInfo) -> datetime:
    """A time off's start or end as the file means it: wall time in `tz`, unless it carries an offset."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return recurrence.to_utc(value.date(), value.time(), tz)
