"""Every supervisor and receptionist page through axe-core in Debian's chromium, at desktop and phone widths.

No serious or critical violation is allowed. Each page's axe result (a JSON summary) and a full-page
screenshot are written under test-artifacts/axe/ and test-artifacts/screenshots/ for every width.
"""

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from integrations.ringcentral.client import RingCentralClient
from integrations.ringcentral.ratelimit import InProcessStore
from queues.models import Agent
from scheduler.reconcile.run import reconcile_locked
from scheduler.roles import SUPERVISOR, ensure_supervisor_group
from scheduler.schedule.importer import import_schedule
from scheduler.schedule.parse import DEMO_SCHEDULE, read_schedule_file
from tests.e2e.conftest import ARTIFACTS
from tests.support.personas import RECEPTIONIST_PASSWORD, link_receptionist

pytestmark = pytest.mark.slow

JAMES = "111111111"
PASSWORD = "pw-bob-a11y-123"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
IMPACTS = ("critical", "serious", "moderate", "minor")
BLOCKING = {"serious", "critical"}

SUPERVISION = "/admin/scheduler/supervision"
ANONYMOUS_PAGES = {"login": "/accounts/login/", "admin-login": "/admin/login/"}


def supervisor_pages() -> dict[str, str]:
    james = Agent.objects.get(provider_id=JAMES)
    return {
        "board": f"{SUPERVISION}/board/",
        "week-grid": f"{SUPERVISION}/timeline/?days=7",
        "coverage": f"{SUPERVISION}/coverage/",
        "preview": f"{SUPERVISION}/preview/",
        "hold": f"{SUPERVISION}/hold/",
        "import": f"{SUPERVISION}/roster/",
        "audit-list": "/admin/queues/auditentry/",
        "shift-list": "/admin/scheduler/shift/",
        "shift-form": "/admin/scheduler/shift/add/",
        "agent-page": f"/admin/queues/agent/{james.pk}/change/",
        "admin-index": "/admin/",
        "my-settings": "/settings/",
    }


RECEPTIONIST_PAGES = {"receptionist": "/", "receptionist-settings": "/settings/"}


@pytest.fixture
def team(demo_emulator_process, transactional_db, point_app_at):
    """The demo schedule applied at the emulator, a supervisor (bob) and the receptionist james."""
    demo_emulator_process.reset()
    point_app_at(demo_emulator_process)
    import_schedule(read_schedule_file(DEMO_SCHEDULE))
    client = RingCentralClient(**demo_emulator_process.client_kwargs(), store=InProcessStore())
    reconcile_locked(provider=client, at=timezone.now(), trigger="test")  # the board and audit list have rows
    ensure_supervisor_group()
    bob = get_user_model().objects.create_user("bob", password=PASSWORD, is_staff=True)
    bob.groups.add(Group.objects.get(name=SUPERVISOR))
    link_receptionist(JAMES, "james")


def check(page, url: str, name: str, width: str) -> list[str]:
    """Open the page, run axe, keep its JSON summary and a screenshot; the blocking violations in words."""
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{name}: {url} answered {response and response.status}"
    page.wait_for_load_state("networkidle")
    results = Axe().run(page).response
    violations = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [
                {"target": n["target"], "html": n["html"][:300], "why": n.get("failureSummary", "")[:500]}
                for n in v["nodes"]
            ],
        }
        for v in results["violations"]
    ]
    summary = {"page": name, "url": url, "width": width, "axe": results["testEngine"]["version"],
               "passes": len(results.get("passes", [])), "violations": violations}  # fmt: skip
    folder = ARTIFACTS / "axe" / width
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(summary, indent=2))
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"a11y-{width}-{name}.png"), full_page=True)
    return [
        f"{name} ({width}): {v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_has_no_serious_accessibility_violation(browser, live_server, team, log_in, width):
    found = []
    w, h = WIDTHS[width]
    options = {"viewport": {"width": w, "height": h}}
    if width == "phone":
        options |= {"is_mobile": True, "has_touch": True}

    context = browser.new_context(**options)
    page = context.new_page()
    for name, path in ANONYMOUS_PAGES.items():
        found += check(page, live_server.url + path, name, width)
    log_in(page, "bob", PASSWORD, "/admin/")
    for name, path in supervisor_pages().items():
        found += check(page, live_server.url + path, name, width)
    context.close()

    context = browser.new_context(**options)
    page = context.new_page()
    log_in(page, "james", RECEPTIONIST_PASSWORD, "/")
    for name, path in RECEPTIONIST_PAGES.items():
        found += check(page, live_server.url + path, name, width)
    context.close()

    counts = {}
    for result in sorted((ARTIFACTS / "axe" / width).glob("*.json")):
        violations = json.loads(result.read_text())["violations"]
        counts[result.stem] = {impact: sum(v["impact"] == impact for v in violations) for impact in IMPACTS}
    (ARTIFACTS / "axe" / f"summary-{width}.json").write_text(json.dumps(counts, indent=2))
    assert not found, "\n".join(found)
