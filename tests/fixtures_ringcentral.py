"""Pytest fixtures: a real RingCentral emulator in a child process, reset before each test."""

import contextlib
from pathlib import Path

import pytest

from integrations.base import ProviderError
from integrations.models import ProviderToken
from integrations.providers import default_provider
from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from tests.support.emulators import TEST_CREDENTIALS, RingCentralProcess

SAMPLES_SEED = Path(__file__).parent / "ringcentral_samples" / "seed.yaml"
# Real limit counts over a 1 s window: rate limiting is on, and waiting it out stays cheap.
FAST_WINDOW = ("--rate-window", "1")


@pytest.fixture(scope="session")
def emulator_process():
    """One emulator for the session, seeded with the ids RingCentral's samples use."""
    with RingCentralProcess(SAMPLES_SEED, *FAST_WINDOW) as process:
        yield process


@pytest.fixture
def emulator(emulator_process):
    """The session's emulator, back to its seed: `.url`, and control methods (requests, configure, ...)."""
    emulator_process.reset()
    return emulator_process


@pytest.fixture
def start_emulator():
    """Start an emulator of one's own: start_emulator(*flags, seed=...); stopped after the test."""
    started = []

    def start(*options, seed=SAMPLES_SEED):
        started.append(RingCentralProcess(seed, *options).start())
        return started[-1]

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def make_client():
    """make_client(emulator, **options): a client for an emulator, pacing in-process, retrying quickly."""

    def make(emulator, **options) -> RingCentralClient:
        defaults = {**emulator.client_kwargs(), "store": InProcessStore(), "backoff": (0.01, 0.05)}
        return RingCentralClient(**(defaults | options))

    return make


@pytest.fixture
def rc_client(emulator, make_client):
    """A client for the session's emulator (reset to its seed)."""
    return make_client(emulator)


@pytest.fixture(scope="session")
def demo_emulator_process():
    """One emulator seeded with the demo schedule, limits off, for tests of the reconciler and overrides."""
    with RingCentralProcess(DEMO_SCHEDULE, "--rate-limits", "off") as process:
        yield process


@pytest.fixture
def demo_emulator(demo_emulator_process, db):
    """The demo emulator back at its seed, and the demo schedule in the database."""
    demo_emulator_process.reset()
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    return demo_emulator_process


@pytest.fixture
def demo_rc(demo_emulator, make_client):
    """A client for the demo emulator that gives up quickly (tests should not wait for backoff)."""
    return make_client(demo_emulator, max_attempts=2)


@pytest.fixture
def point_app_at(settings):
    """point_app_at(emulator, **settings): the product's RC_* settings and default_provider() on an emulator."""

    def point(emulator, **overrides):
        settings.RC_SERVER_URL = emulator.url
        for name, value in (TEST_CREDENTIALS | overrides).items():
            setattr(settings, name, value)
        default_provider.cache_clear()
        ProviderToken.objects.all().delete()  # the emulator forgot every session: so does the installation
        with contextlib.suppress(ProviderError):  # refused credentials: the test meets the refusal itself
            # Sign in from the test's thread: threads of the app (the receptionist's live reads) then use
            # this process's token, rather than wait on SQLite's lock held by the test's transaction.
            default_provider().sign_in()

    yield point
    default_provider.cache_clear()
