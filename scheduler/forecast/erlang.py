"""Erlang C: how many agents a queue needs to answer its calls within a target time.

The queue is M/M/N: calls arrive at random (Poisson), handle times are exponential, N agents
answer in turn and nobody hangs up. Traffic A is calls per hour times handle time, in Erlangs.
Probabilities are computed in log space (terms A^k / k! as k*ln A - ln k!, summed with the
log-sum-exp trick), so they stay exact where A^N and N! overflow a float: 5,000 calls an hour
at 3 minutes each is 250 Erlangs and needs some 270 agents.
"""

import math
from dataclasses import asdict, dataclass

MAX_AGENTS = 100_000  # a bound on the search; far beyond any queue RingCentral serves


@dataclass(frozen=True, slots=True)
class Staffing:
    agents: int
    agents_with_shrinkage: int
    service_level: float
    asa_seconds: float
    occupancy: float
    traffic_erlangs: float

    def as_json(self) -> dict:
        return asdict(self)


def traffic(calls_per_hour: float, aht_seconds: float) -> float:
    """The offered load in Erlangs: how many agents would be busy all the time."""
    return calls_per_hour * aht_seconds / 3600


def probability_of_waiting(agents: int, erlangs: float) -> float:
    """Erlang C: the chance a call waits at all; 1 when the agents cannot keep up (N <= A)."""
    if erlangs <= 0:
        return 0.0
    if agents <= erlangs:
        return 1.0
    log_a = math.log(erlangs)
    return _waiting(agents, erlangs, _log_sum_exp([k * log_a - math.lgamma(k + 1) for k in range(agents)]))


def _waiting(agents: int, erlangs: float, log_head: float) -> float:
    """Erlang C from ln of the sum of A^k/k! for k < N, the part that grows with N."""
    log_last = agents * math.log(erlangs) - math.lgamma(agents + 1) + math.log(agents / (agents - erlangs))
    return math.exp(log_last - _log_sum_exp([log_head, log_last]))


def service_level(agents: int, erlangs: float, aht_seconds: float, answer_within: float) -> float:
    """The share of calls answered within `answer_within` seconds."""
    if agents <= erlangs:
        return 0.0 if erlangs > 0 else 1.0
    waiting = probability_of_waiting(agents, erlangs)
    return 1 - waiting * math.exp(-(agents - erlangs) * answer_within / aht_seconds)


def average_speed_of_answer(agents: int, erlangs: float, aht_seconds: float) -> float:
    """The mean wait of all calls, in seconds (infinite when the agents cannot keep up)."""
    if agents <= erlangs:
        return math.inf if erlangs > 0 else 0.0
    return probability_of_waiting(agents, erlangs) * aht_seconds / (agents - erlangs)


def occupancy(agents: int, erlangs: float) -> float:
    """The share of their time the agents spend on calls."""
    return min(1.0, erlangs / agents) if agents else 0.0


def agents_needed(erlangs: float, aht_seconds: float, target: float, answer_within: float) -> int:
    """The fewest agents whose service level meets the target (at least one).

    The sum under Erlang C grows by one term per agent, so the search adds that term instead
    of summing again: linear in the answer, whatever the target.
    """
    agents = max(1, math.floor(erlangs) + 1)
    if agents > MAX_AGENTS:
        raise ValueError(f"{erlangs:,.0f} Erlangs need more than {MAX_AGENTS:,} agents; check the figures")
    if erlangs <= 0:
        return agents
    log_a = math.log(erlangs)
    log_head = _log_sum_exp([k * log_a - math.lgamma(k + 1) for k in range(agents)])
    while True:
        waiting = _waiting(agents, erlangs, log_head)
        if 1 - waiting * math.exp(-(agents - erlangs) * answer_within / aht_seconds) >= target:
            return agents
        log_head = _log_sum_exp([log_head, agents * log_a - math.lgamma(agents + 1)])
        agents += 1
        if agents > MAX_AGENTS:
            raise ValueError(f"more than {MAX_AGENTS:,} agents needed; check the figures")


def with_shrinkage(agents: int, shrinkage: float) -> int:
    """Agents to schedule so that `agents` are on the phones when a share `shrinkage` is away."""
    return math.ceil(agents / (1 - shrinkage) - 1e-9)


def staffing(
    *, calls_per_hour: float, aht_seconds: float, target_sl: float, answer_within: float, shrinkage: float = 0.0
) -> Staffing:
    """Everything a supervisor asks of one interval, for the smallest agent count that meets the target."""
    erlangs = traffic(calls_per_hour, aht_seconds)
    agents = agents_needed(erlangs, aht_seconds, target_sl, answer_within) if calls_per_hour else 0
    return Staffing(
        agents=agents,
        agents_with_shrinkage=with_shrinkage(agents, shrinkage),
        service_level=service_level(agents, erlangs, aht_seconds, answer_within) if agents else 1.0,
        asa_seconds=average_speed_of_answer(agents, erlangs, aht_seconds) if agents else 0.0,
        occupancy=occupancy(agents, erlangs),
        traffic_erlangs=erlangs,
    )


def _log_sum_exp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(math.fsum(math.exp(v - top) for v in values))
