"""The embedded broker when processes start together: `make run` starts the worker and beat at once, and each
creates the queues it uses on first use. kombu guards that only within one process; here, several processes
race for the same queues on one SQLite file and none fails."""

import multiprocessing

from kombu import Connection
from sqlalchemy import text

from scheduler import broker

PROCESSES, QUEUES = 6, 30


def declare_all(url: str, barrier, failures) -> None:
    with Connection(url) as connection:
        channel = connection.default_channel
        assert isinstance(channel, broker.Channel)
        channel.session  # noqa: B018 - opens the engine and tables before the race, as a started process has
        failed = 0
        for n in range(QUEUES):
            barrier.wait()  # every process asks for the same new queue at the same moment
            try:
                channel._get_or_create(f"queue-{n}")
            except Exception:  # noqa: BLE001 - any failure is what this test counts
                failed += 1
        failures.put(failed)


def test_processes_that_create_the_same_queues_at_once_all_succeed(tmp_path):
    url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    with Connection(url) as connection:
        channel = connection.default_channel
        assert isinstance(channel, broker.Channel)  # the alias points here
        channel.session  # noqa: B018 - the tables exist before the processes start
    fork = multiprocessing.get_context("fork")
    barrier, failures = fork.Barrier(PROCESSES), fork.Queue()
    racers = [fork.Process(target=declare_all, args=(url, barrier, failures)) for _ in range(PROCESSES)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)
    assert [failures.get(timeout=5) for _ in racers] == [0] * PROCESSES
    with Connection(url) as connection:
        channel = connection.default_channel
        assert isinstance(channel, broker.Channel)
        rows = channel.session.execute(text("SELECT name, COUNT(*) FROM kombu_queue GROUP BY name"))
        assert dict(rows.all()) == {f"queue-{n}": 1 for n in range(QUEUES)}
