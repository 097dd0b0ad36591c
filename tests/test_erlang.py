"""Erlang C against published figures and against exact rational arithmetic, and the staffing command."""

import json
import math
from fractions import Fraction
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scheduler.forecast.erlang import (
    agents_needed,
    average_speed_of_answer,
    probability_of_waiting,
    service_level,
    staffing,
    with_shrinkage,
)


def exact_waiting(agents: int, erlangs: Fraction) -> Fraction:
    """Erlang C with big integers and fractions: no rounding anywhere."""
    term, head = Fraction(1), Fraction(0)
    for k in range(agents):
        head += term
        term = term * erlangs / (k + 1)  # A^(k+1) / (k+1)!
    last = term * agents / (agents - erlangs)
    return last / (head + last)


def test_the_published_example_200_calls_3_minutes_80_in_20():
    result = staffing(calls_per_hour=200, aht_seconds=180, target_sl=0.8, answer_within=20)
    assert result.agents == 14
    assert result.service_level == pytest.approx(0.888, abs=0.0005)
    assert result.occupancy == pytest.approx(0.714, abs=0.0005)
    assert result.traffic_erlangs == 10
    assert result.asa_seconds == pytest.approx(7.8, abs=0.05)
    # one agent fewer misses the target: 13 agents give 79.6%
    assert 0.79 < service_level(13, 10, 180, 20) < 0.8


@pytest.mark.parametrize(
    "agents, erlangs",
    [(11, 10), (14, 10), (2, Fraction(1, 2)), (262, 250), (270, 250), (1020, 1000), (5, Fraction(49, 10))],
)
def test_log_space_agrees_with_exact_arithmetic(agents, erlangs):
    exact = exact_waiting(agents, Fraction(erlangs))
    assert probability_of_waiting(agents, float(erlangs)) == pytest.approx(float(exact), rel=1e-9)


def test_5000_calls_an_hour_are_exact_where_floats_would_overflow():
    assert math.factorial(262) > 10**308  # N! alone is past a float
    result = staffing(calls_per_hour=5000, aht_seconds=180, target_sl=0.9, answer_within=20)
    exact = 1 - float(exact_waiting(result.agents, Fraction(250))) * math.exp(-(result.agents - 250) * 20 / 180)
    assert result.service_level == pytest.approx(exact, rel=1e-9)
    assert service_level(result.agents - 1, 250, 180, 20) < 0.9 <= result.service_level


def test_more_agents_never_serve_worse():
    levels = [service_level(n, 37.5, 240, 30) for n in range(38, 80)]
    assert levels == sorted(levels) and levels[-1] > 0.999
    waits = [average_speed_of_answer(n, 37.5, 240) for n in range(38, 80)]
    assert waits == sorted(waits, reverse=True)


def test_edges_no_calls_overload_and_shrinkage():
    assert staffing(calls_per_hour=0, aht_seconds=180, target_sl=0.8, answer_within=20).agents == 0
    assert probability_of_waiting(10, 10) == 1 and service_level(9, 10, 180, 20) == 0
    assert agents_needed(0.01, 180, 0.99, 20) == 1
    assert with_shrinkage(14, 0.3) == 20 and with_shrinkage(14, 0) == 14 and with_shrinkage(7, 0.5) == 14


def run(*args) -> str:
    out = StringIO()
    call_command("staffing", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_the_documented_json():
    printed = json.loads(
        run(
            "--calls-per-hour",
            "200",
            "--aht",
            "180",
            "--target-sl",
            "0.8",
            "--answer-within",
            "20",
            "--shrinkage",
            "0.3",
            "--json",
        )  # fmt: skip
    )
    assert set(printed) == {"agents", "agents_with_shrinkage", "service_level", "asa_seconds", "occupancy",
                            "traffic_erlangs"}  # fmt: skip
    assert (printed["agents"], printed["agents_with_shrinkage"]) == (14, 20)
    assert round(printed["service_level"], 3) == 0.888 and round(printed["occupancy"], 3) == 0.714


def test_the_command_in_words():
    text = run("--calls-per-hour", "200", "--aht", "180", "--target-sl", "0.8", "--answer-within", "20")
    assert text.startswith("14 agents on the phones") and "service level 88.8% within 20 s" in text


@pytest.mark.parametrize(
    "flag, value",
    [("--calls-per-hour", "many"), ("--aht", "0"), ("--target-sl", "1"), ("--shrinkage", "1"), ("--aht", "inf")],
)
def test_bad_figures_name_their_flag(flag, value):
    args = {"--calls-per-hour": "200", "--aht": "180", "--target-sl": "0.8", "--answer-within": "20"} | {flag: value}
    with pytest.raises(CommandError, match=flag):
        run(*[part for pair in args.items() for part in pair])


def test_a_load_past_any_queue_is_refused_in_words():
    with pytest.raises(CommandError, match="check the figures"):
        run("--calls-per-hour", "1000000", "--aht", "86400", "--target-sl", "0.8", "--answer-within", "20")
