import json
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from queues.models import Agent, CallQueue
from scheduler.planning import desired_state
from scheduler.selectors import schedule_snapshot

from ._options import instant


class Command(BaseCommand):
    help = "Print who should take which queue, and each managed agent's DnD, at an instant (holds applied)."

    def add_arguments(self, parser):
        parser.add_argument("--at", type=instant, help="ISO 8601 instant (default: now)")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON for programs")
        parser.add_argument(
            "--schedule-only", action="store_true", help="the bare schedule, ignoring supervisors' and agents' holds"
        )

    def handle(self, *args, at, as_json, schedule_only, **options):
        at = at or timezone.now()
        snapshot = schedule_snapshot(start=at, end=at + timedelta(microseconds=1))
        state = desired_state(snapshot.schedule_only() if schedule_only else snapshot, at)
        if as_json:
            self.stdout.write(json.dumps(state.as_json()))
        else:
            self.stdout.write(self.table(state.as_json()))
        for problem in snapshot.problems:
            self.stderr.write(f"problem: {problem}")

    def table(self, plan: dict) -> str:
        """Queues with their agents marked on/off, then DnD, by name."""
        queue_names = dict(CallQueue.objects.values_list("provider_id", "name"))
        agent_names = dict(Agent.objects.values_list("provider_id", "name"))
        lines = [f"Plan at {plan['at']}"]
        for queue_id, agents in plan["queues"].items():
            lines.append(f"\n{queue_names.get(queue_id, '?')} ({queue_id})")
            for agent_id, accept in agents.items():
                lines.append(f"  {'ON ' if accept else 'off'}  {agent_names.get(agent_id, '?')} ({agent_id})")
        if plan["dnd"]:
            lines.append("\nDo Not Disturb")
            lines.extend(f"  {status:<28}{agent_names.get(a, '?')} ({a})" for a, status in plan["dnd"].items())
        if plan["overrides"]:
            lines.append("\nHeld against the schedule")
            for o in plan["overrides"]:
                what = (
                    f"{queue_names.get(o['queue'], '?')} {'ON' if o['value'] else 'off'}" if o["queue"] else o["value"]
                )
                lines.append(f"  {agent_names.get(o['agent'], '?')} ({o['agent']}): {what} until {o['until']}")
        return "\n".join(lines)
