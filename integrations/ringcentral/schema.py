"""RingCentral's answers as small typed objects, parsed at the edge of the client.

RingCentral spells ids as strings in some answers and numbers in others; here they are
always strings. Request bodies say `callQueue`; RingCentral's own docs also show
`callqueue`, so answers are read in either spelling.
"""

import re
from dataclasses import dataclass
from datetime import time

from ..base import BusinessHours, WeeklyRange

POST_TEXT_LIMIT = 10_000  # characters of a Team Messaging post's text (Create Post's request body)
DND_STATUSES = ("TakeAllCalls", "DoNotAcceptDepartmentCalls", "DoNotAcceptAnyCalls")
# Still shown in answers, but RingCentral refuses it in writes ("legacy, not supported via API").
LEGACY_DND_STATUS = "TakeDepartmentCallsOnly"


@dataclass(frozen=True, slots=True)
class QueueDetails:
    id: str
    name: str
    extension_number: str
    status: str
    editable_member_status: bool

    @classmethod
    def from_api(cls, data: dict) -> "QueueDetails":
        return cls(
            id=str(data["id"]),
            name=data.get("name", ""),
            extension_number=str(data.get("extensionNumber", "")),
            status=data.get("status", ""),
            editable_member_status=bool(data.get("editableMemberStatus", False)),
        )


@dataclass(frozen=True, slots=True)
class QueueMemberPresence:
    """One member's two switches in one queue: all queues (from DnD) and this queue."""

    agent_id: str
    name: str
    accept_queue_calls: bool
    accept_current_queue_calls: bool

    @classmethod
    def from_api(cls, data: dict) -> "QueueMemberPresence":
        member = data["member"]
        return cls(
            agent_id=str(member["id"]),
            name=member.get("name", ""),
            accept_queue_calls=bool(data.get("acceptQueueCalls", False)),
            accept_current_queue_calls=bool(data.get("acceptCurrentQueueCalls", False)),
        )


@dataclass(frozen=True, slots=True)
class AgentQueuePresence:
    """Whether one agent takes calls from one of their queues."""

    queue_id: str
    queue_name: str
    accept_calls: bool
    editable_member_status: bool | None

    @classmethod
    def from_api(cls, data: dict) -> "AgentQueuePresence":
        queue = data.get("callQueue") or data["callqueue"]
        return cls(
            queue_id=str(queue["id"]),
            queue_name=queue.get("name", ""),
            accept_calls=bool(data.get("acceptCalls", False)),
            editable_member_status=queue.get("editableMemberStatus"),
        )


@dataclass(frozen=True, slots=True)
class Presence:
    extension_id: str
    presence_status: str
    user_status: str
    dnd_status: str  # empty for extensions that have none (a queue, a department)
    telephony_status: str

    @classmethod
    def from_api(cls, data: dict) -> "Presence":
        return cls(
            extension_id=str(data["extension"]["id"]),
            presence_status=data.get("presenceStatus", ""),
            user_status=data.get("userStatus", ""),
            dnd_status=data.get("dndStatus", ""),
            telephony_status=data.get("telephonyStatus", ""),
        )


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    available: bool
    detail: str


@dataclass(frozen=True, slots=True)
class CallLeg:
    leg_type: str
    result: str
    direction: str
    start_time: str
    duration: int
    from_number: str
    to_number: str
    master: bool

    @classmethod
    def from_api(cls, data: dict) -> "CallLeg":
        return cls(
            leg_type=data.get("legType", ""),
            result=data.get("result", ""),
            direction=data.get("direction", ""),
            start_time=data.get("startTime", ""),
            duration=int(data.get("duration", 0)),
            from_number=(data.get("from") or {}).get("phoneNumber", ""),
            to_number=(data.get("to") or {}).get("phoneNumber", ""),
            master=bool(data.get("master", False)),
        )


@dataclass(frozen=True, slots=True)
class CallLogRecord:
    id: str
    session_id: str
    start_time: str
    duration: int
    direction: str
    action: str
    result: str
    legs: tuple[CallLeg, ...]

    @classmethod
    def from_api(cls, data: dict) -> "CallLogRecord":
        return cls(
            id=str(data["id"]),
            session_id=str(data.get("sessionId", "")),
            start_time=data.get("startTime", ""),
            duration=int(data.get("duration", 0)),
            direction=data.get("direction", ""),
            action=data.get("action", ""),
            result=data.get("result", ""),
            legs=tuple(CallLeg.from_api(leg) for leg in data.get("legs", ())),
        )

    def leg_result(self, leg_type: str) -> str | None:
        """The result of the leg of this type (e.g. RingOutClientToCaller), None if the call had no such leg."""
        return next((leg.result for leg in self.legs if leg.leg_type == leg_type), None)


@dataclass(frozen=True, slots=True)
class WsTicket:
    """The answer of POST /restapi/oauth/wstoken: where the WebSocket gateway is, and a one-use token for it."""

    uri: str
    token: str
    expires_in: int

    @classmethod
    def from_api(cls, data: dict) -> "WsTicket":
        return cls(uri=data["uri"], token=data["ws_access_token"], expires_in=int(data.get("expires_in", 60)))


# The weekday keys of RingCentral's WeeklyScheduleInfo, Monday first (weekday 0).
WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def business_hours_from_api(hours: dict, extension: dict) -> BusinessHours:
    """GetUserBusinessHoursResponse and the extension's info -> its weekly ranges in its zone.

    An empty schedule is RingCentral's "24 hours/7 days a week". Times are "hh:mm"; "24:00" ends the
    day (read as midnight, which closes on the next day); the spec's own example gives a number of
    minutes after midnight, so that is read too. ValueError names what cannot be read.
    """
    zone = ((extension.get("regionalSettings") or {}).get("timezone") or {}).get("name") or ""
    weekly = (hours.get("schedule") or {}).get("weeklyRanges") or {}
    ranges = tuple(
        WeeklyRange(weekday, _clock(interval, "from", key), _clock(interval, "to", key))
        for weekday, key in enumerate(WEEKDAY_KEYS)
        for interval in weekly.get(key) or ()
    )
    return BusinessHours(zone, ranges)


def _clock(interval: dict, name: str, day: str) -> time:
    value = interval.get(name) if isinstance(interval, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1440:
        return time(value // 60 % 24, value % 60)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value) if isinstance(value, str) else None
    if match and (int(match[1]), int(match[2])) <= (24, 0) and int(match[2]) < 60:
        return time(int(match[1]) % 24, int(match[2]))
    raise ValueError(f"business hours: weeklyRanges.{day}.{name} {value!r} is not a time (hh:mm)")
