"""The Ringostat client against its emulator over real HTTP, and the SIP priority rule."""

import re
from datetime import date, datetime

import pytest
import requests

from integrations.base import ProviderError
from integrations.ringostat.client import RingostatClient
from integrations.ringostat.statuses import Interval, merge_sips, parse_duration
from tests.support.emulators import RingostatProcess

PROJECT = 68861
MONDAY, TUESDAY = date(2026, 11, 23), date(2026, 11, 24)


@pytest.fixture(scope="module")
def emulator():
    with RingostatProcess() as running:
        yield running


@pytest.fixture
def client(emulator):
    requests.patch(emulator.url + "/_emulator/config", json={"malformed": False}, timeout=5)
    return RingostatClient(emulator.rpc_url, "emulator-ringostat-key")


def test_it_reads_custom_statuses(client):
    statuses = client.custom_statuses(PROJECT)
    assert [(s.id, s.title) for s in statuses][:2] == [(1763, "At lunch"), (1768, "Break")]


def test_it_reads_each_employee_day_with_two_sips_merged(client):
    rows = {r.employee: r for r in client.sip_status_report(PROJECT, TUESDAY, TUESDAY)}
    james = rows["James Smith"]
    # Desk online 08-10 and speaking 10-10:30; mobile DnD 09-13 counts only from 10:30.
    assert (james.online, james.speaking, james.dnd, james.offline) == (7200, 1800, 9000, 0)
    assert james.working == 9000


def test_daily_report_asks_one_day_at_a_time(client):
    days = client.daily_report(PROJECT, MONDAY, TUESDAY)
    assert list(days) == [MONDAY, TUESDAY]
    assert {r.employee for r in days[MONDAY]} >= {"James Smith", "Reception tablet"}


def test_a_wrong_auth_key_is_a_clear_permanent_401(emulator, client):
    with pytest.raises(ProviderError) as caught:
        RingostatClient(emulator.rpc_url, "wrong").custom_statuses(PROJECT)
    assert (caught.value.status, caught.value.code, caught.value.permanent) == (401, "auth", True)
    assert "Auth-key" in str(caught.value)


def test_the_references_own_invalid_example_is_a_provider_error(emulator, client):
    requests.patch(emulator.url + "/_emulator/config", json={"malformed": True}, timeout=5)
    with pytest.raises(ProviderError, match="not valid JSON") as caught:
        client.sip_status_report(PROJECT, MONDAY, MONDAY)
    assert caught.value.code == "malformed"


@pytest.mark.parametrize(
    "row,problem",
    [
        ({"employee": "A", "online": "1:31:55", "offline": "00:00:00"}, "online: '1:31:55' is not a duration"),
        ({"employee": "A", "online": "00:00:00", "offline": "00:61:00"}, "offline: '00:61:00' is not a duration"),
        ({"employee": "A", "online": "00:00:00"}, "offline: None is not a duration"),
        ({"employee": "A", "online": 95, "offline": "00:00:00"}, "online: 95 is not a duration"),
        ({"online": "00:00:00", "offline": "00:00:00"}, "has no employee"),
    ],
)
def test_a_malformed_report_row_is_a_provider_error_naming_the_field(emulator, client, row, problem):
    requests.patch(emulator.url + "/_emulator/config", json={"report_rows": [row]}, timeout=5)
    with pytest.raises(ProviderError, match=re.escape(problem)) as caught:
        client.sip_status_report(PROJECT, MONDAY, MONDAY)
    assert caught.value.code == "malformed"


def test_a_json_rpc_error_is_a_provider_error(emulator, client):
    with pytest.raises(ProviderError, match="Unknown projectId"):
        RingostatClient(emulator.rpc_url, "emulator-ringostat-key").custom_statuses(1)


def test_no_server_is_a_provider_error():
    with pytest.raises(ProviderError, match="ConnectionError"):
        RingostatClient("http://127.0.0.1:9/a/v2", "k", timeout=(0.5, 0.5)).custom_statuses(PROJECT)


@pytest.mark.parametrize(
    "value,seconds", [("00:00:21", 21), ("11:44:49", 42289), ("100:00:00", 360000), ("01:31:55", 5515)]
)
def test_it_parses_durations(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["1:31:55", "01:60:00", "01:00:60", "01:00", "01:00:00.5", " 01:00:00", 95, None, ""])
def test_it_rejects_malformed_durations_naming_the_field(value):
    with pytest.raises(ValueError, match="online: .* is not a duration"):
        parse_duration(value, field="online")


def at(hour, minute=0):
    return datetime(2026, 11, 24, hour, minute)


@pytest.mark.parametrize(
    "sips,expected",
    [
        # online on one SIP and DnD on the other: online
        ([(8, 10, "online"), (8, 10, "dnd")], [(8, 10, "online")]),
        # speaking on one beats online on the other
        ([(8, 12, "online"), (9, 10, "speaking")], [(8, 9, "online"), (9, 10, "speaking"), (10, 12, "online")]),
        # DnD beats offline
        ([(8, 12, "offline"), (10, 11, "dnd")], [(8, 10, "offline"), (10, 11, "dnd"), (11, 12, "offline")]),
        # overlapping online on both SIPs counts once
        ([(8, 11, "online"), (10, 12, "online")], [(8, 12, "online")]),
        # gaps stay gaps
        ([(8, 9, "online"), (10, 11, "online")], [(8, 9, "online"), (10, 11, "online")]),
    ],
)
def test_it_merges_sips_by_priority(sips, expected):
    merged = merge_sips([Interval(at(s), at(e), status) for s, e, status in sips])
    assert [(i.start.hour, i.end.hour, i.status) for i in merged] == expected
