"""The supervisor's console at a glance: plans that cannot apply, staffed hours, readable lists."""

import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from queues.models import Agent, CallQueue, QueueMembership, ReconcileRun
from scheduler.models import Shift
from scheduler.schedule.membership import cannot_apply, current_shift_pairs

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tue 10:00 New York
SUPPORT, ADAMS, JAMES, MARIA, OLENA = "1081167000", "62284876000", "111111111", "222222222", "333333333"


def member(queue_id, *agent_ids):
    queue = CallQueue.objects.get(provider_id=queue_id)
    for agent_id in agent_ids:
        QueueMembership.objects.get_or_create(queue=queue, agent=Agent.objects.get(provider_id=agent_id))


@pytest.fixture
def support_read(demo):
    """Support's members as the provider lists them: James and Maria, not Olena (who has a night shift on it)."""
    member(SUPPORT, JAMES, MARIA)


def warnings_of(response):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


def test_a_rostered_pair_the_provider_lacks_is_found_with_its_shift(support_read):
    found = cannot_apply(current_shift_pairs(today=date(2026, 11, 24)))
    assert [str(p) for p in found] == [
        "Olena Kovalenko is not a member of Support at the provider (shift Support night (Kyiv))"
    ]


def test_a_queue_whose_members_were_never_read_is_not_judged(demo):
    assert cannot_apply(current_shift_pairs(today=date(2026, 11, 24))) == []


def test_saving_a_shift_with_a_non_member_warns_naming_the_pair_and_still_saves(bob, client, support_read):
    support, olena = CallQueue.objects.get(provider_id=SUPPORT), Agent.objects.get(provider_id=OLENA)
    form = {
        "name": "Olena mornings", "queues": [support.pk], "agents": [olena.pk], "timezone": "America/New_York",
        "start_time": "08:00", "end_time": "12:00", "days": ["mon"], "rrule": "", "dtstart": "",
        "valid_from": "", "valid_until": "", "_save": "Save",
    }  # fmt: skip
    response = client.post(reverse("admin:scheduler_shift_add"), form, follow=True)
    assert Shift.objects.filter(name="Olena mornings").exists()
    assert warnings_of(response) == [
        "Saved, but this cannot apply: Olena Kovalenko is not a member of Support at the provider "
        "(shift Olena mornings). Add her to the queue at the provider, then sync queues, or take her off the shift."
    ]


def test_saving_a_shift_of_members_says_nothing_more(bob, client, support_read):
    shift = Shift.objects.get(name="Support mornings")
    form = {
        "name": shift.name, "queues": [q.pk for q in shift.queues.all()], "agents": [a.pk for a in shift.agents.all()],
        "timezone": shift.timezone, "start_time": "08:00", "end_time": "12:00", "days": ["mon", "tue"],
        "rrule": "", "dtstart": "", "valid_from": "", "valid_until": "", "_save": "Save",
    }  # fmt: skip
    response = client.post(reverse("admin:scheduler_shift_change", args=[shift.pk]), form, follow=True)
    assert warnings_of(response) == []


def test_a_csv_import_warns_of_each_pair_it_cannot_apply(bob, client, support_read):
    url = reverse("admin:scheduler_shift_import")
    csv = (
        "name,timezone,start_time,end_time,days,rrule,dtstart,valid_from,valid_until,queues,agents\n"
        f"Olena cover,America/New_York,09:00,10:00,sat,,,,,{SUPPORT},{OLENA}\n"
    )
    upload = io.BytesIO(csv.encode())
    upload.name = "roster.csv"
    preview = client.post(url, {"import_file": upload, "format": "0"})
    assert preview.status_code == 200, preview.content[:2000]
    confirm = preview.context["confirm_form"].initial
    response = client.post(reverse("admin:scheduler_shift_process_import"), confirm, follow=True)
    assert Shift.objects.filter(name="Olena cover").exists()
    assert any("Olena Kovalenko is not a member of Support" in w for w in warnings_of(response))


def test_the_schedule_file_preview_and_import_name_the_pairs(bob, client, support_read):
    url = reverse("admin:scheduler_supervision_roster")
    text = (
        "shifts:\n  - name: Olena Saturday\n    queues: ['1081167000']\n    agents: ['333333333']\n"
        "    days: [sat]\n    start: '09:00'\n    end: '10:00'\n    timezone: America/New_York\n"
    )
    preview = client.post(url, {"text": text})
    assert "this cannot apply: Olena Kovalenko is not a member of Support at the provider" in preview.text
    assert "Olena Saturday" in preview.text
    done = client.post(url, {"text": text, "confirm": "1"}, follow=True)
    assert any("Olena Kovalenko is not a member of Support" in w for w in warnings_of(done))


@time_machine.travel(NOW, tick=False)
def test_the_board_lists_the_pairs_it_cannot_apply(bob, client, support_read):
    page = client.get(reverse("admin:scheduler_supervision_board")).text
    assert "Can't apply: 1 rostered pair the provider does not have" in page
    assert "Olena Kovalenko is not a member of Support at the provider (shift Support night (Kyiv))" in page


def test_the_run_report_says_its_problems_in_words(bob, client, admin_user):
    run = ReconcileRun.objects.create(
        at=NOW, trigger="beat", problems=["queue 1081167000: agent 333333333 is not a member at the provider"]
    )
    client.force_login(admin_user)
    page = client.get(reverse("admin:queues_reconcilerun_change", args=[run.pk])).text
    assert "<li>queue 1081167000: agent 333333333 is not a member at the provider</li>" in page
    assert "[&quot;" not in page and '["' not in page
