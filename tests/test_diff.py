"""The drift rules, with literals: desired + actual + what each value remembers -> changes."""

from datetime import UTC, datetime

import pytest

from scheduler.planning import MANUAL_OVERRIDE
from scheduler.reconcile.diff import DRIFT, Memory, Slot, Target, diff, remembered

PAIR, DND = Target("a1", "q1"), Target("a1")
AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def why(target, wanted):
    return "shift start: X" if wanted else "shift end: X"


@pytest.mark.parametrize(
    ("actual", "slot", "held", "expected"),
    [
        (True, Slot(None, None), False, []),  # already right: nothing to do
        (False, Slot(False, False), False, [("shift start: X", "planned")]),  # the plan changed: a boundary
        (False, Slot(True, True), False, [(DRIFT, "planned")]),  # plan unchanged, value moved: drift, enforced
        (False, Slot(True, True, enforce=False), False, [("drift", "skipped")]),  # noted once, when it appears
        (False, Slot(False, True, enforce=False), False, []),  # already noted: left alone, silently
        (False, Slot(False, True, enforce=False), True, [(DRIFT, "planned")]),  # a hold is enforced anyway
        (False, Slot(False, False), True, [(MANUAL_OVERRIDE, "planned")]),  # a new hold says why
    ],
)
def test_each_difference_gets_its_reason(actual, slot, held, expected):
    found = diff({PAIR: True}, {PAIR: actual}, {PAIR: slot}, held=[PAIR] if held else [], why=why)
    assert [(c.reason, c.outcome) for c in found.changes + found.noted] == expected


def test_a_value_the_provider_did_not_return_is_never_guessed():
    assert diff({PAIR: True, DND: "TakeAllCalls"}, {}, {}, why=why).changes == []


def test_dnd_is_always_enforced_and_a_never_seen_pair_is_a_boundary():
    found = diff({DND: "TakeAllCalls", PAIR: True}, {DND: "DoNotAcceptAnyCalls", PAIR: False}, {}, why=why)
    assert [(c.target, c.old, c.new, c.reason) for c in found.changes] == [
        (DND, "DoNotAcceptAnyCalls", "TakeAllCalls", "shift start: X"),
        (PAIR, False, True, "shift start: X"),
    ]


def test_what_is_remembered_the_plan_only_once_the_provider_holds_it():
    wrong, right = Target("a2", "q1"), Target("a3", "q1")
    found = diff({PAIR: True, wrong: True, right: False}, {PAIR: False, wrong: False, right: False}, {}, why=why)
    found.changes[0].outcome = "applied"  # PAIR's write landed; wrong's failed
    found.changes[1].outcome = "failed"
    memory = remembered({PAIR: True, wrong: True, right: False}, {PAIR: False, wrong: False, right: False},
                        found.changes, AT)  # fmt: skip
    assert memory == {PAIR: Memory(True, AT, True), wrong: Memory(False, AT, None), right: Memory(False, AT, False)}
