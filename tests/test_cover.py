"""The fewest calls for changed pairs: a minimum vertex cover, checked against brute force."""

import random
from itertools import combinations

import pytest

from scheduler.reconcile.fewest_calls import min_vertex_cover


def brute_force_cover_size(edges) -> int:
    vertices = sorted({("L", e[0]) for e in edges} | {("R", e[1]) for e in edges})
    for size in range(len(vertices) + 1):
        for chosen in combinations(vertices, size):
            picked = set(chosen)
            if all(("L", a) in picked or ("R", b) in picked for a, b in edges):
                return size
    raise AssertionError("unreachable")


@pytest.mark.parametrize("seed", range(40))
def test_cover_is_minimum_and_covers_every_edge(seed):
    rng = random.Random(seed)
    edges = {(f"q{rng.randrange(5)}", f"a{rng.randrange(6)}") for _ in range(rng.randrange(1, 14))}
    left, right = min_vertex_cover(edges)
    assert all(q in left or a in right for q, a in edges)
    assert len(left) + len(right) == brute_force_cover_size(edges)


def test_a_star_is_covered_by_its_centre():
    left, right = min_vertex_cover([("q1", "a1"), ("q1", "a2"), ("q1", "a3")])
    assert (left, right) == ({"q1"}, set())


def test_one_agent_across_many_queues_is_one_agent_call():
    left, right = min_vertex_cover([("q1", "a1"), ("q2", "a1"), ("q3", "a1")])
    assert (left, right) == (set(), {"a1"})


def test_no_edges_no_calls():
    assert min_vertex_cover([]) == (set(), set())
