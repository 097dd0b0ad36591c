"""An agent who left is deactivated, not deleted: planning, the reconciler, the board, holds and the
receptionist page leave her out, and deleting an agent with audit history points to deactivation."""

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.test import Client

from queues.models import Agent, AuditEntry
from scheduler.planning import desired_state
from scheduler.reconcile.run import reconcile_locked
from scheduler.selectors import schedule_snapshot
from scheduler.supervisor.board import now_board
from scheduler.supervisor.views import HoldForm
from tests.support.personas import link_receptionist

MORNING = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # Tue 08:00 New York: Support mornings start
SUPPORT, JAMES, MARIA = "1081167000", "111111111", "222222222"


def deactivate(provider_id: str) -> Agent:
    agent = Agent.objects.get(provider_id=provider_id)
    agent.active = False
    agent.save()
    return agent


def test_the_plan_leaves_an_inactive_agent_out(demo):
    deactivate(JAMES)
    snapshot = schedule_snapshot(start=MORNING, end=MORNING.replace(hour=23))
    state = desired_state(snapshot, MORNING)
    assert not any(agent == JAMES for _, agent in state.accept)
    assert JAMES not in state.dnd and JAMES not in snapshot.off_shift_dnd
    assert (SUPPORT, MARIA) in state.accept


def test_the_reconciler_neither_reads_nor_writes_for_an_inactive_agent(demo_emulator, demo_rc):
    deactivate(JAMES)
    reconcile_locked(provider=demo_rc, at=MORNING, trigger="test")
    assert AuditEntry.objects.filter(agent__provider_id=MARIA).exists()
    assert not AuditEntry.objects.filter(agent__provider_id=JAMES).exists()
    assert not any(JAMES in r["path"] for r in demo_emulator.requests())


def test_the_board_leaves_an_inactive_agent_out(demo):
    deactivate(JAMES)
    support = next(q for q in now_board(at=MORNING) if q.queue.provider_id == SUPPORT)
    assert JAMES not in [r.agent.provider_id for r in support.rows]
    assert MARIA in [r.agent.provider_id for r in support.rows]


def test_a_hold_cannot_name_an_inactive_agent(demo):
    james = deactivate(JAMES)
    assert james not in HoldForm(tz=UTC).fields["agent"].queryset


def test_an_inactive_agents_login_sees_no_queues_and_changes_nothing(demo):
    client = Client()
    client.force_login(link_receptionist(JAMES, "james"))
    deactivate(JAMES)
    assert "not linked to a phone extension" in client.get("/").content.decode()
    answer = client.post("/away/", {"agent": JAMES, "status": "DoNotAcceptDepartmentCalls"})
    assert answer.status_code == 403
    assert not AuditEntry.objects.exists()


def test_the_deactivate_action_keeps_the_agent_and_records_the_change(bob, client):
    james = Agent.objects.get(provider_id=JAMES)
    answer = client.post("/admin/queues/agent/", {"action": "deactivate", "_selected_action": [james.pk]}, follow=True)
    assert "Deactivated 1 agent" in answer.content.decode()
    james.refresh_from_db()
    assert james.active is False
    assert james.history.first().active is False


def _superuser_client() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", password="pw-root-123"))
    return client


def _with_history(provider_id: str) -> Agent:
    agent = Agent.objects.get(provider_id=provider_id)
    AuditEntry.objects.create(agent=agent, reason="shift start: x", field="dndStatus", outcome="applied")
    return agent


def test_deleting_an_agent_with_history_points_to_deactivation(demo):
    james, client = _with_history(JAMES), _superuser_client()
    page = client.get(f"/admin/queues/agent/{james.pk}/delete/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "James Smith has audit history" in text and "Deactivate the agent instead" in text
    assert "audit entry:" not in text.lower()  # not a list of every protected row
    assert client.post(f"/admin/queues/agent/{james.pk}/delete/", {"post": "yes"}).status_code == 200
    assert Agent.objects.filter(pk=james.pk).exists()


def test_the_bulk_delete_says_the_same(demo):
    james, client = _with_history(JAMES), _superuser_client()
    maria = Agent.objects.get(provider_id=MARIA)
    page = client.post("/admin/queues/agent/", {"action": "delete_selected", "_selected_action": [james.pk, maria.pk]})
    assert page.status_code == 200
    assert "Deactivate the agent instead" in page.content.decode()


def test_an_agent_without_history_can_still_be_deleted(demo):
    maria, client = Agent.objects.get(provider_id=MARIA), _superuser_client()
    client.post(f"/admin/queues/agent/{maria.pk}/delete/", {"post": "yes"})
    assert not Agent.objects.filter(pk=maria.pk).exists()
