import json
import math
from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError

from scheduler.forecast.erlang import staffing


def _bounded(low: float, high: float, *, low_open: bool = False, high_open: bool = False):
    """An argparse type: a number within [low, high] (or open at either end); argparse names the flag."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ArgumentTypeError(f"{text[:20]!r} is not a number") from None
        below = value <= low if low_open else value < low
        above = value >= high if high_open else value > high
        if not math.isfinite(value) or below or above:
            left, right = "(" if low_open else "[", ")" if high_open else "]"
            raise ArgumentTypeError(f"{text[:20]!r} must be in {left}{low:g}, {high:g}{right}")
        return value

    return parse


class Command(BaseCommand):
    help = "Agents needed for a service level, by Erlang C: the smallest count that meets the target."

    def add_arguments(self, parser):
        parser.add_argument("--calls-per-hour", required=True, type=_bounded(0, 1_000_000))
        parser.add_argument(
            "--aht", required=True, type=_bounded(0, 86_400, low_open=True), help="average handle time (s)"
        )
        parser.add_argument("--target-sl", required=True, type=_bounded(0, 1, low_open=True, high_open=True))
        parser.add_argument("--answer-within", required=True, type=_bounded(0, 86_400), help="s")
        parser.add_argument("--shrinkage", default=0.0, type=_bounded(0, 1, high_open=True))
        parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON for programs")

    def handle(self, *args, calls_per_hour, aht, target_sl, answer_within, shrinkage, as_json, **options):
        try:
            result = staffing(
                calls_per_hour=calls_per_hour,
                aht_seconds=aht,
                target_sl=target_sl,
                answer_within=answer_within,
                shrinkage=shrinkage,
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        if as_json:
            self.stdout.write(json.dumps(result.as_json()))
            return
        self.stdout.write(
            f"{result.agents} agents on the phones ({result.agents_with_shrinkage} scheduled with "
            f"{shrinkage:.0%} shrinkage) for {result.traffic_erlangs:.2f} Erlangs: service level "
            f"{result.service_level:.1%} within {answer_within:g} s, average answer {result.asa_seconds:.1f} s, "
            f"occupancy {result.occupancy:.1%}"
        )
