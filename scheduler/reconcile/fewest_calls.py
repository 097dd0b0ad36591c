"""Fewest API calls for a set of changed (queue, agent) pairs.

Each pair can travel in its queue's bulk call or in its agent's call, so the fewest
calls that carry every pair form a minimum vertex cover of the bipartite graph
queues x agents. By König's theorem a maximum matching gives one exactly.
"""

from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from queues.models import LETS_QUEUE_CALLS_THROUGH

from .diff import Change


def min_vertex_cover(edges: Iterable[tuple[Hashable, Hashable]]) -> tuple[set, set]:
    """A minimum vertex cover (left vertices, right vertices) of a bipartite graph given by its edges."""
    adjacent = defaultdict(set)
    for left, right in edges:
        adjacent[left].add(right)
    match_of_left, match_of_right = _maximum_matching(adjacent)
    # König: from every unmatched left vertex, follow unmatched edges left->right and matched
    # edges right->left. The cover is the left vertices not reached plus the right ones reached.
    reached_left = {v for v in adjacent if v not in match_of_left}
    reached_right = set()
    queue = deque(reached_left)
    while queue:
        left = queue.popleft()
        for right in adjacent[left]:
            if right not in reached_right:
                reached_right.add(right)
                partner = match_of_right.get(right)
                if partner is not None and partner not in reached_left:
                    reached_left.add(partner)
                    queue.append(partner)
    return set(adjacent) - reached_left, reached_right


def _maximum_matching(adjacent: dict) -> tuple[dict, dict]:
    """Hopcroft-Karp: maximum matching as (left -> right, right -> left)."""
    match_of_left: dict = {}
    match_of_right: dict = {}
    while True:
        layer = _bfs_layers(adjacent, match_of_left, match_of_right)
        if layer is None:
            return match_of_left, match_of_right
        for left in adjacent:
            if left not in match_of_left:
                _augment(left, adjacent, layer, match_of_left, match_of_right)


def _bfs_layers(adjacent, match_of_left, match_of_right) -> dict | None:
    """Distances of left vertices from the free ones; None when no augmenting path is left."""
    layer = {v: 0 for v in adjacent if v not in match_of_left}
    queue = deque(layer)
    found = False
    while queue:
        left = queue.popleft()
        for right in adjacent[left]:
            partner = match_of_right.get(right)
            if partner is None:
                found = True
            elif partner not in layer:
                layer[partner] = layer[left] + 1
                queue.append(partner)
    return layer if found else None


def _augment(start, adjacent, layer, match_of_left, match_of_right) -> bool:
    """Find one shortest augmenting path from `start` along the layers and flip it (iteratively)."""
    stack = [(start, iter(adjacent[start]))]
    path: list[tuple[Hashable, Hashable]] = []
    while stack:
        left, rights = stack[-1]
        for right in rights:
            partner = match_of_right.get(right)
            if partner is None:
                for l_vertex, r_vertex in [*path, (left, right)]:
                    match_of_left[l_vertex], match_of_right[r_vertex] = r_vertex, l_vertex
                return True
            if layer.get(partner) == layer[left] + 1:
                path.append((left, right))
                stack.append((partner, iter(adjacent[partner])))
                break
        else:
            layer[left] = None  # dead end: never try it again in this phase
            stack.pop()
            if path:
                path.pop()
    return False


@dataclass
class Call:
    """One write to the provider: a queue's members ("queue"), an agent's queues ("agent") or her DnD ("dnd")."""

    kind: str
    target_id: str  # the queue id for "queue", else the agent id
    changes: list[Change]


def fewest_calls(changes: list[Change], *, member_editable: Callable[[str], bool]) -> list[Call]:
    """The fewest calls that carry every change (queue changes by a minimum vertex cover, one call per DnD),
    in the order they should be sent (`in_sending_order`).

    A pair in a queue whose members may not edit their own status must travel in the queue's call.
    """
    pairs = [c for c in changes if not c.target.is_dnd]
    forced = {c.target.queue_id for c in pairs if not member_editable(c.target.queue_id)}
    free = [(c.target.queue_id, c.target.agent_id) for c in pairs if c.target.queue_id not in forced]
    queue_ids, _ = min_vertex_cover(free)
    queue_ids |= forced
    calls: dict[tuple[str, str], list[Change]] = {}
    for change in pairs:
        by_queue = change.target.queue_id in queue_ids
        key = ("queue", change.target.queue_id) if by_queue else ("agent", change.target.agent_id)
        calls.setdefault(key, []).append(change)
    found = [Call(kind, target_id, group) for (kind, target_id), group in sorted(calls.items())]
    return in_sending_order(found + [Call("dnd", c.target.agent_id, [c]) for c in changes if c.target.is_dnd])


def in_sending_order(calls: list[Call]) -> list[Call]:
    """Calls that start someone taking queue calls first, then those that only stop someone, then DnD.

    Writes are paced (RingCentral: 40 a minute), so a busy boundary takes minutes: starting the
    incoming people before stopping the outgoing ones keeps each queue staffed meanwhile. Among
    DnD, the agents coming back to calls go before those stepping away, for the same reason.
    """

    def rank(call: Call) -> int:
        if call.kind == "dnd":
            return 2 if call.changes[0].new in LETS_QUEUE_CALLS_THROUGH else 3
        return 0 if any(c.new is True for c in call.changes) else 1

    return sorted(calls, key=rank)  # stable: the calls keep their order within each rank
