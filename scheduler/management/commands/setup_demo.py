import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from queues.models import Agent
from scheduler.forecast.history import seed_demo_call_volume
from scheduler.schedule.parse import DEMO_SCHEDULE

DEMO_USER = "supervisor"
DEMO_RECEPTIONIST = "james"  # linked to James Smith, the demo's agent on Support
DEMO_RECEPTIONIST_AGENT = "111111111"
HISTORY_WEEKS = 8  # as the Procfile's emulator: run_emulator --history-weeks 8


class Command(BaseCommand):
    help = "Load the demo schedule and create the demo logins: a supervisor and a receptionist (for `make run`)."

    def handle(self, *args, **options):
        """Import the demo schedule, store its call history, (re)set both demo passwords, print the logins last.

        The password comes from DEMO_ADMIN_PASSWORD, or is made fresh on every run; both
        demo users share it, so there is one thing to copy.
        """
        call_command("import_schedule", str(DEMO_SCHEDULE), stdout=self.stdout, stderr=self.stderr)
        calls = seed_demo_call_volume(now=timezone.now(), weeks=HISTORY_WEEKS)
        self.stdout.write(f"Call history: {calls} calls over {HISTORY_WEEKS} weeks, for the forecast")
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(9)
        users = get_user_model().objects
        supervisor, _ = users.get_or_create(username=DEMO_USER, defaults={"email": "demo@localhost"})
        supervisor.is_staff = supervisor.is_superuser = True
        supervisor.set_password(password)
        supervisor.save()
        receptionist, _ = users.get_or_create(username=DEMO_RECEPTIONIST)
        receptionist.set_password(password)
        receptionist.save()
        Agent.objects.filter(provider_id=DEMO_RECEPTIONIST_AGENT).update(user=receptionist)
        rule = "=" * 72
        self.stdout.write(
            f"{rule}\n"
            f"Receptionist (My queues): http://127.0.0.1:8000/  user {DEMO_RECEPTIONIST}  password {password}\n"
            f"{rule}\n"
            f"Demo admin: http://127.0.0.1:8000/admin/  user {DEMO_USER}  password {password}"
        )
