import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations.providers import default_provider
from queues.models import Agent, CallQueue
from scheduler.reconcile.locks import LeaseBusy
from scheduler.reconcile.run import reconcile, reconcile_locked
from scheduler.reconcile.sweep import current_plan

from ._options import instant


class Command(BaseCommand):
    help = "Make the provider match the schedule now (or as if at --at); writes only the difference."

    def add_arguments(self, parser):
        parser.add_argument("--at", type=instant, help="ISO 8601 instant to plan for (default: now)")
        parser.add_argument("--dry-run", action="store_true", help="read and diff, write nothing")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON for programs")
        parser.add_argument(
            "--sweep-plan",
            action="store_true",
            help="run nothing: print how the rolling sweep covers what is managed (reads a minute, minutes a cycle)",
        )

    def handle(self, *args, at, dry_run, as_json, sweep_plan, **options):
        """Run once (under the leases of what it touches unless dry), print the changes; or print the sweep plan.

        Exit 1 unless the run is ok: a read failed, or a write failed or has an unknown outcome.
        """
        at = at or timezone.now()
        if sweep_plan:
            plan = current_plan(default_provider(), at)
            self.stdout.write(json.dumps(plan.as_json()) if as_json else self.sweep_table(plan))
            return
        try:
            if dry_run:
                result = reconcile(provider=default_provider(), at=at, trigger="command", dry_run=True)
            else:
                result = reconcile_locked(provider=default_provider(), at=at, trigger="command")
        except LeaseBusy:
            raise CommandError("another reconcile run is in progress; try again in a few seconds") from None
        if as_json:
            self.stdout.write(json.dumps(result.as_json()))
        else:
            self.stdout.write(self.table(result))
        if not result.ok:
            raise CommandError(self.what_went_wrong(result), returncode=1)

    def sweep_table(self, plan) -> str:
        return "\n".join(
            [
                f"Rolling sweep: {plan.queues} queue(s), {plan.agents} agent(s) with DnD managed",
                f"  {plan.reads_per_cycle} read(s) a full cycle, {plan.reads_per_minute} a minute "
                f"(budget {plan.budget} a minute at a share of {settings.SWEEP_BUDGET_SHARE:g})",
                f"  every value is read again at least every {plan.minutes_per_cycle} minute(s)",
            ]
        )

    def what_went_wrong(self, result) -> str:
        counts = {
            "read(s) failed": result.failed_reads,
            "change(s) failed": sum(c.outcome == "failed" for c in result.changes),
            "change(s) sent with no answer (the next run reads them back)": sum(
                c.outcome == "unknown" for c in result.changes
            ),
        }
        return "; ".join(f"{n} {what}" for what, n in counts.items() if n)

    def table(self, result) -> str:
        lines = [
            f"Reconcile at {result.at.isoformat()}: {result.writes} write call(s), {len(result.changes)} change(s)"
        ]
        agents = dict(Agent.objects.values_list("provider_id", "name"))
        queues = dict(CallQueue.objects.values_list("provider_id", "name"))
        for c in result.changes:
            who, where = (
                agents.get(c.target.agent_id, "?"),
                queues.get(c.target.queue_id, "?") if c.target.queue_id else "DnD",
            )
            error = f" [{c.error_code}]" if c.error_code else ""
            lines.append(f"  {c.outcome:<8} {who} / {where}: {c.old} -> {c.new} ({c.reason}){error}")
        lines.extend(f"  problem: {p}" for p in result.problems)
        return "\n".join(lines)
