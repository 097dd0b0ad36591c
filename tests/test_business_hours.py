"""A queue's business hours from RingCentral: the client's verb, the emulator's answers per the spec, the sync."""

from datetime import time
from pathlib import Path

import pytest
import yaml

from integrations.base import BusinessHours, WeeklyRange
from integrations.ringcentral.errors import RingCentralError
from integrations.ringcentral.ratelimit import LIGHT, group_for
from integrations.ringcentral.schema import business_hours_from_api
from queues.models import CallQueue
from queues.opening_hours import opening_hours_of
from queues.sync import sync_queues

SPEC = yaml.safe_load((Path(__file__).parent / "ringcentral_spec" / "extension_business_hours.yaml").read_text())
SUPPORT, ADAMS, DEMO_QUEUE, JAMES = "1081167000", "62284876000", "61986637000", "111111111"
WEEKDAYS_8_TO_20 = {WeeklyRange(d, time(8), time(20)) for d in range(5)}


def spec_problems(value, schema, path="$") -> list[str]:
    """Where `value` breaks the spec's `schema` (types, enums, and no key the spec does not define)."""
    if "$ref" in schema:
        return spec_problems(value, SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], path)
    kind = schema.get("type", "object" if "properties" in schema else None)
    python: dict[str, type | tuple[type, ...]] = {
        "object": dict,
        "array": list,
        "string": str,
        "integer": int,
        "boolean": bool,
        "number": (int, float),
    }
    if kind in python and (not isinstance(value, python[kind]) or (kind == "integer" and isinstance(value, bool))):
        return [f"{path}: {value!r} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of {schema['enum']}"]
    if kind == "array":
        return [p for i, item in enumerate(value) for p in spec_problems(item, schema["items"], f"{path}[{i}]")]
    if kind == "object":
        known = schema.get("properties", {})
        return [f"{path}.{key}: not in the spec" for key in value if known and key not in known] + [
            p for key, item in value.items() if key in known for p in spec_problems(item, known[key], f"{path}.{key}")
        ]
    return []


def answer_schema(path: str) -> dict:
    responses = SPEC["paths"][path]["get"]["responses"]
    return (responses.get("200") or responses["default"])["content"]["application/json"]["schema"]


EXTENSION = "/restapi/v1.0/account/{accountId}/extension/{extensionId}"


@pytest.mark.parametrize("extension_id", [SUPPORT, DEMO_QUEUE, JAMES])
def test_the_emulators_business_hours_and_extension_answers_follow_the_spec(demo_rc, extension_id):
    base = f"/restapi/v1.0/account/~/extension/{extension_id}"
    hours = demo_rc._request("GET", f"{base}/business-hours").json()
    extension = demo_rc._request("GET", base).json()
    assert spec_problems(hours, answer_schema(EXTENSION + "/business-hours")) == []
    assert spec_problems(extension, answer_schema(EXTENSION)) == []
    assert extension["regionalSettings"]["timezone"]["name"] == "America/New_York"


def test_both_reads_are_light_as_the_spec_says():
    for path in (EXTENSION, EXTENSION + "/business-hours"):
        assert SPEC["paths"][path]["get"]["x-throttling-group"].lower() == LIGHT
        assert group_for("GET", path.replace("{accountId}", "~").replace("{extensionId}", SUPPORT)) == LIGHT


def test_the_client_reads_a_queues_business_hours_in_its_zone(demo_rc, demo_emulator):
    demo_emulator.clear_requests()
    assert demo_rc.read_business_hours(SUPPORT) == BusinessHours("America/New_York", tuple(sorted(
        WEEKDAYS_8_TO_20, key=lambda r: r.weekday)))  # fmt: skip
    saturday = demo_rc.read_business_hours(DEMO_QUEUE).ranges
    assert WeeklyRange(5, time(9), time(18)) in saturday and len(saturday) == 6
    assert [r["group"] for r in demo_emulator.requests() if "/extension/" in r["path"]] == [LIGHT] * 4


@pytest.mark.parametrize(
    ("weekly", "ranges"),
    [
        ({}, ()),  # "24 hours/7 days a week": an empty schedule
        ({"monday": [{"from": "09:00", "to": "24:00"}]}, (WeeklyRange(0, time(9), time(0)),)),  # to the day's end
        ({"friday": [{"from": "09:00", "to": 1080}]}, (WeeklyRange(4, time(9), time(18)),)),  # the spec's example
        ({"sunday": [{"from": "22:00", "to": "02:00"}]}, (WeeklyRange(6, time(22), time(2)),)),
    ],
)
def test_business_hours_are_parsed_at_the_edge(weekly, ranges):
    extension = {"regionalSettings": {"timezone": {"name": "US/Eastern"}}}
    assert business_hours_from_api({"schedule": {"weeklyRanges": weekly}}, extension).ranges == ranges


@pytest.mark.parametrize("bad", ["9am", "25:00", None, True])
def test_an_unreadable_time_names_the_day_and_the_field(bad):
    with pytest.raises(ValueError, match=r"weeklyRanges.tuesday.from .* is not a time \(hh:mm\)"):
        business_hours_from_api({"schedule": {"weeklyRanges": {"tuesday": [{"from": bad, "to": "10:00"}]}}}, {})


def test_the_client_turns_an_unreadable_answer_into_a_permanent_error(demo_rc, monkeypatch):
    def garbled(hours, extension):
        raise ValueError("business hours: weeklyRanges.monday.from 'x' is not a time (hh:mm)")

    monkeypatch.setattr("integrations.ringcentral.client.business_hours_from_api", garbled)
    with pytest.raises(RingCentralError) as error:
        demo_rc.read_business_hours(SUPPORT)
    assert error.value.permanent and f"queue {SUPPORT}: business hours" in error.value.message


# The sync: RingCentral's hours are stored where none were entered by hand.


def forget_hours(provider_id, source=CallQueue.HoursSource.PROVIDER):
    queue = CallQueue.objects.get(provider_id=provider_id)
    queue.opening_ranges.all().delete()
    CallQueue.objects.filter(pk=queue.pk).update(hours_source=source, hours_timezone="")


def ranges(provider_id):
    return {
        WeeklyRange(r.weekday, r.opens, r.closes)
        for r in CallQueue.objects.get(provider_id=provider_id).opening_ranges.all()
    }  # noqa: E501


def test_the_sync_stores_the_providers_hours_on_a_queue_without_hours_by_hand(demo_rc):
    forget_hours(SUPPORT)
    report = sync_queues(demo_rc)
    support = CallQueue.objects.get(provider_id=SUPPORT)
    assert ranges(SUPPORT) == WEEKDAYS_8_TO_20
    assert (support.hours_timezone, support.hours_source) == ("America/New_York", "provider")
    assert SUPPORT in report.hours_stored and SUPPORT not in report.hours_kept
    assert opening_hours_of(support).closed  # closed dates are the admin's: the sync leaves them


def test_the_sync_leaves_hours_entered_by_hand_and_spends_no_call_on_them(demo_rc, demo_emulator):
    forget_hours(ADAMS, source=CallQueue.HoursSource.ADMIN)  # by hand: open around the clock
    demo_emulator.clear_requests()
    report = sync_queues(demo_rc)
    assert ranges(ADAMS) == set() and ADAMS in report.hours_kept
    assert not any(r["path"].endswith(f"/extension/{ADAMS}/business-hours") for r in demo_emulator.requests())


def test_a_second_sync_changes_nothing(demo_rc):
    forget_hours(SUPPORT)
    sync_queues(demo_rc)
    assert sync_queues(demo_rc).hours_stored == []


def test_a_refused_read_is_reported_and_the_rest_of_the_sync_still_counts(demo_rc, monkeypatch):
    forget_hours(SUPPORT)
    forget_hours(DEMO_QUEUE)

    def refused(queue_id):
        if queue_id == SUPPORT:
            raise RingCentralError("In order to call this API endpoint, application needs to have [ReadAccounts]",
                                   status=403, code="CMN-401", permanent=True)  # fmt: skip
        return BusinessHours("Mars/Olympus", (WeeklyRange(0, time(9), time(17)),))

    monkeypatch.setattr(demo_rc, "read_business_hours", refused)
    report = sync_queues(demo_rc)
    assert set(report.hours_unread) == {SUPPORT, DEMO_QUEUE}
    assert "'Mars/Olympus' is not an IANA zone" in report.hours_unread[DEMO_QUEUE]
    assert ranges(SUPPORT) == ranges(DEMO_QUEUE) == set()
