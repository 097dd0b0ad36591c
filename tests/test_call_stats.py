"""Calls handled per agent and shift from RingCentral's detailed call log, read from the emulator.

Tuesday 2026-11-24, New York (UTC-5). James is on Support mornings 08-12 and Dr. Adams 09-17;
Maria on Support mornings 08-12 and Support evenings 12-20.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from integrations.ringcentral.schema import CallLogRecord
from scheduler.reports.call_stats import (
    calls_per_day,
    handled,
    read_calls,
    ringout_statuses,
)
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from tests.support.emulators import RingCentralProcess

JAMES, MARIA = "111111111", "222222222"
NEW_YORK = ZoneInfo("America/New_York")
DAY_START, DAY_END = datetime(2026, 11, 24, 5, tzinfo=UTC), datetime(2026, 11, 25, 5, tzinfo=UTC)


def leg(leg_type, result):
    return {"legType": leg_type, "result": result, "startTime": "2026-11-24T15:00:00Z", "duration": 5}


def record(n, extension, start, result="Accepted", legs=(), action="Phone Call"):
    return {
        "id": f"rec-{n}",
        "sessionId": str(n),
        "startTime": start,
        "duration": 60,
        "type": "Voice",
        "direction": "Outbound" if legs else "Inbound",
        "action": action,
        "result": result,
        "extension": {"id": int(extension)},
        "legs": list(legs),
    }


CONNECTED_RINGOUT = [leg("RingOutClientToSubscriber", "Call connected"), leg("RingOutClientToCaller", "Call connected")]
RECORDS = [
    record(1, JAMES, "2026-11-24T13:30:00Z"),  # 08:30 inbound, accepted
    record(2, JAMES, "2026-11-24T15:00:00Z", "Call connected", CONNECTED_RINGOUT, "RingOut PC"),  # 10:00
    record(3, JAMES, "2026-11-24T16:00:00Z", "Busy", [leg("RingOutClientToCaller", "Busy")], "RingOut PC"),  # one leg
    record(
        4,
        JAMES,
        "2026-11-24T18:00:00Z",  # 13:00: the agent answered, the customer did not
        "No Answer",
        [leg("RingOutClientToCaller", "Call connected"), leg("RingOutClientToSubscriber", "No Answer")],
        "RingOut PC",
    ),
    record(5, JAMES, "2026-11-24T23:00:00Z"),  # 18:00: after James's shifts
    record(6, MARIA, "2026-11-24T14:00:00Z", "Missed"),  # 09:00
    record(7, MARIA, "2026-11-24T20:00:00Z"),  # 15:00
    record(8, MARIA, "2026-11-23T20:00:00Z"),  # Monday: outside the window
]


@pytest.fixture(scope="module")
def emulator_process():
    with RingCentralProcess(DEMO_SCHEDULE, "--rate-limits", "off") as process:
        yield process


@pytest.fixture
def calls(emulator_process, db):
    emulator_process.reset()
    emulator_process.add_call_log(RECORDS)
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    client = RingCentralClient(**emulator_process.client_kwargs(), store=InProcessStore(), page_size=2)
    return read_calls(client, [JAMES, MARIA], DAY_START, DAY_END)


@pytest.mark.parametrize(
    "n,caller,callee,is_handled",
    [
        (2, "Call connected", "Call connected", True),
        (3, "Busy", None, False),
        (4, "Call connected", "No Answer", False),
    ],
)
def test_ringout_statuses_come_from_the_legs(n, caller, callee, is_handled):
    rec = CallLogRecord.from_api(RECORDS[n - 1])
    assert ringout_statuses(rec) == (caller, callee)
    assert handled(rec) is is_handled


@pytest.mark.parametrize("n,is_handled", [(1, True), (6, False)])
def test_other_calls_count_by_their_own_result(n, is_handled):
    assert handled(CallLogRecord.from_api(RECORDS[n - 1])) is is_handled


def test_it_reads_each_extensions_detailed_log_in_the_window(calls):
    assert [r.id for r in calls[JAMES]] == ["rec-1", "rec-2", "rec-3", "rec-4", "rec-5"]
    assert [r.id for r in calls[MARIA]] == ["rec-6", "rec-7"]
    assert calls[JAMES][1].legs[0].leg_type == "RingOutClientToSubscriber"


def test_calls_handled_per_day_count_each_call_once(calls):
    assert calls_per_day(calls, NEW_YORK) == {(JAMES, date(2026, 11, 24)): 3, (MARIA, date(2026, 11, 24)): 1}
