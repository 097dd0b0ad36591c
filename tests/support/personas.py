"""The tests' named people, and the demo schedule they work in (registered in tests/conftest.py).

bob supervises (staff, in the Supervisor group); carol is staff without the group; a receptionist
is a user linked to one agent, who sees that agent's queues only. For requests and their notices:
`agents`, the demo's three agents each linked to a login with an address, and `boss`, a supervisor
with an address who is logged in nowhere.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User

from integrations.base import ProviderName
from integrations.models import IdentityKind, ProviderIdentity
from queues.models import Agent
from scheduler.roles import SUPERVISOR
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file

RECEPTIONIST_PASSWORD = "x-Secret-42"  # noqa: S105 - a made-up test password
DEMO_AGENTS = {"james": "111111111", "maria": "222222222", "olena": "333333333"}  # login name: provider id


@pytest.fixture
def demo(db):
    """The demo schedule (scheduler/demo/schedule.yaml) in the database."""
    import_schedule(read_schedule_file(DEMO_SCHEDULE))


@pytest.fixture
def bob(demo, client):
    """A supervisor: staff, in the Supervisor group, not a superuser; logged in to `client`."""
    user = get_user_model().objects.create_user("bob", password="pw-bob-123", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    client.force_login(user)
    return user


@pytest.fixture
def carol(demo, client):
    """Staff without the Supervisor group; logged in to `client`."""
    user = get_user_model().objects.create_user("carol", password="pw-carol-123", is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def agents(demo) -> dict[str, Agent]:
    """The demo's three agents by login name, each linked to a login named after her, at example.com."""
    found = {}
    for name, provider_id in DEMO_AGENTS.items():
        agent = Agent.objects.get(provider_id=provider_id)
        agent.user = get_user_model().objects.create_user(name, email=f"{name}@example.com")
        agent.save()
        found[name] = agent
    return found


@pytest.fixture
def boss(demo):
    """A supervisor (staff, in the Supervisor group) at boss@example.com, who hears of requests; logged in nowhere."""
    user = get_user_model().objects.create_user("boss", email="boss@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    return user


def link_receptionist(provider_id: str, username: str) -> User:
    """A receptionist: a new user (password RECEPTIONIST_PASSWORD) linked to the agent with this provider id."""
    agent = Agent.objects.get(provider_id=provider_id)
    user = get_user_model().objects.create_user(username, password=RECEPTIONIST_PASSWORD)
    agent.user = user
    agent.save()
    return user


def map_to_ringostat(ringostat, settings) -> None:
    """Point the settings at a Ringostat emulator and map the demo's three agents to its employees."""
    settings.RINGOSTAT_API_URL, settings.RINGOSTAT_AUTH_KEY = ringostat.rpc_url, "emulator-ringostat-key"
    settings.RINGOSTAT_PROJECT_ID, settings.RINGOSTAT_TIMEZONE = 68861, "America/New_York"
    for agent_id, employee in [
        ("111111111", "James Smith"),
        ("222222222", "Maria Lopez"),
        ("333333333", "Olena Kovalenko"),
    ]:
        ProviderIdentity.objects.create(
            agent=Agent.objects.get(provider_id=agent_id),
            provider=ProviderName.RINGOSTAT,
            kind=IdentityKind.EMPLOYEE,
            external_id=employee,
        )
