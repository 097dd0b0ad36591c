"""The understaffed alert: one email to the Supervisor group per episode, only while open, never for min staff 0;
the board says so in red; the compliance page and the board's compliance, as the supervisor sees them."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User

from integrations.base import WeeklyRange
from queues.models import ActualChange, Agent, AuditEntry, AuditField, CallQueue, QueueMembership
from queues.opening_hours import replace_opening_hours
from scheduler.models import UnderstaffedEpisode
from scheduler.roles import SUPERVISOR, ensure_supervisor_group
from scheduler.supervisor.understaffed import _open_episode, check_understaffed

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SUPPORT, JAMES, MARIA = "1081167000", "111111111", "222222222"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def team(db, settings):
    """Support needs 2; James and Maria are members; two supervisors and one other user."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    group = ensure_supervisor_group()
    for name in ("sue", "sam"):
        User.objects.create_user(name, email=f"{name}@example.com").groups.add(group)
    User.objects.create_user("olga", email="olga@example.com")  # not a supervisor
    User.objects.create_user("ivan", email="ivan@example.com", is_active=False).groups.add(group)
    queue = CallQueue.objects.create(provider_id=SUPPORT, name="Support", min_staff=2)
    for agent_id, name in ((JAMES, "James"), (MARIA, "Maria")):
        agent = Agent.objects.create(provider_id=agent_id, name=name, dnd_status="TakeAllCalls")
        QueueMembership.objects.create(queue=queue, agent=agent, accepting=True)
    return queue


def taking(agent_id: str, on: bool) -> None:
    QueueMembership.objects.filter(agent__provider_id=agent_id).update(accepting=on)


def checks(minutes) -> list[int]:
    return [len(check_understaffed(now=at(m))) for m in minutes]


def test_one_email_per_episode_to_the_supervisors_only(team, mailoutbox):
    taking(MARIA, False)
    assert checks(range(0, 8)) == [0, 0, 0, 0, 0, 1, 0, 0]  # notified once it has lasted 5 minutes
    assert sorted(m.to[0] for m in mailoutbox) == ["sam@example.com", "sue@example.com"]
    assert mailoutbox[0].subject == "Understaffed: Support: 1 of 2 taking calls for 5 min"
    taking(MARIA, True)
    check_understaffed(now=at(8))  # recovered: the episode closes, nothing sent
    assert UnderstaffedEpisode.objects.get().ended_at == at(8)
    taking(JAMES, False)
    checks(range(9, 20))
    assert len(mailoutbox) == 4  # a second episode, a second (and only a second) email to each
    assert UnderstaffedEpisode.objects.count() == 2


def test_a_restarted_check_does_not_send_again(team, mailoutbox):
    taking(MARIA, False)
    checks(range(0, 6))
    assert len(mailoutbox) == 2
    checks(range(0, 10))  # as if a second worker, or a restart, ran the same minutes again
    assert len(mailoutbox) == 2


def test_dnd_keeping_queue_calls_away_counts_as_not_taking(team, mailoutbox):
    Agent.objects.filter(provider_id=MARIA).update(dnd_status="DoNotAcceptDepartmentCalls")
    checks(range(0, 6))
    assert len(mailoutbox) == 2


def test_none_outside_open_hours(team, mailoutbox):
    CallQueue.objects.filter(pk=team.pk).update(hours_timezone="UTC")
    replace_opening_hours(team, ranges=[WeeklyRange(day, time(9), time(10)) for day in range(7)])
    taking(MARIA, False)
    assert checks(range(0, 30)) == [0] * 30
    assert not mailoutbox and not UnderstaffedEpisode.objects.exists()


def test_none_for_a_queue_with_min_staff_0(team, mailoutbox):
    CallQueue.objects.filter(pk=team.pk).update(min_staff=0)
    taking(MARIA, False)
    taking(JAMES, False)
    checks(range(0, 30))
    assert not mailoutbox and not UnderstaffedEpisode.objects.exists()


def test_the_minutes_are_a_setting(team, mailoutbox, settings):
    settings.UNDERSTAFFED_MINUTES = 2
    taking(MARIA, False)
    assert checks(range(0, 4)) == [0, 0, 1, 0]


def test_the_beat_entry_is_there(db):
    from django_celery_beat.models import PeriodicTask

    from scheduler.periodic import ensure_periodic_tasks

    ensure_periodic_tasks()
    assert PeriodicTask.objects.get(name="alerts: understaffed queues").task == "scheduler.tasks.check_understaffed"


# --- as the supervisor sees it (the demo schedule, bob) ---


def test_the_board_says_so_in_red_and_shows_compliance_today(bob, client):
    queue = CallQueue.objects.get(provider_id=SUPPORT)
    james = Agent.objects.get(provider_id=JAMES)
    QueueMembership.objects.update_or_create(queue=queue, agent=james, defaults={"accepting": True})
    start = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tue 10:00 New York: James and Maria planned on Support
    UnderstaffedEpisode.objects.create(queue=queue, started_at=start - timedelta(minutes=7), min_staff=2, taking=1)
    with time_machine.travel(start, tick=False):
        page = client.get("/admin/scheduler/supervision/board/panel/").content.decode()
    assert 'class="callrota-mark callrota-understaffed" role="alert">Support: 1 of 2 taking calls for 7 min' in page
    assert "compliance today" in page


def test_the_compliance_page_lists_queue_days_and_links_deviations_to_the_audit(bob, client):
    queue = CallQueue.objects.get(provider_id=SUPPORT)
    maria = Agent.objects.get(provider_id=MARIA)
    day_start = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # Support mornings: 08:00 New York
    for value, minutes in (("true", 0), ("false", 60), ("true", 90)):
        ActualChange.objects.create(queue=queue, agent=maria, field=AuditField.QUEUE_CALLS, value=value,
                                    at=day_start + timedelta(minutes=minutes), source="heard")  # fmt: skip
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), tick=False):
        page = client.get("/admin/scheduler/supervision/compliance/?day=2026-11-24&days=1&tz=America/New_York")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-queue="{SUPPORT}" data-day="2026-11-24"' in html
    assert "planned on, not taking calls (queue switch)" in html
    link = next(line for line in html.splitlines() if "audit rows" in line)
    assert f"agent={maria.pk}" in link and f"queue={queue.pk}" in link and "created_at__gte=2026-11-24T13%3A59" in link
    AuditEntry.objects.create(queue=queue, agent=maria, field=AuditField.QUEUE_CALLS, old_value="false",
                              new_value="true", reason="drift correction", outcome="applied")  # fmt: skip
    href = link.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert client.get(href).status_code == 200  # the audit history takes these filters


def test_staff_without_the_group_cannot_open_the_compliance_page(carol, client):
    assert client.get("/admin/scheduler/supervision/compliance/").status_code == 403


def test_the_supervisor_group_has_its_members(team):
    assert Group.objects.get(name=SUPERVISOR).user_set.count() == 3


def test_a_second_check_at_the_same_time_does_not_open_a_second_episode(team, mailoutbox):
    taking(MARIA, False)
    check_understaffed(now=at(0))
    _open_episode(team, 1, at(0))  # as a check that read before the first one wrote would
    assert UnderstaffedEpisode.objects.count() == 1
