import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from scheduler.schedule.parse import DEMO_SCHEDULE

DEMO_USER = "supervisor"


class Command(BaseCommand):
    help = "Load the demo schedule and create the demo supervisor login (for `make run`)."

    def handle(self, *args, **options):
        """Import the demo schedule, (re)set the demo superuser's password, print the login.

        The password comes from DEMO_ADMIN_PASSWORD, or is made fresh on every run.
        """
        call_command("import_schedule", str(DEMO_SCHEDULE), stdout=self.stdout, stderr=self.stderr)
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USER, defaults={"email": "demo@localhost"})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"Demo admin: http://127.0.0.1:8000/admin/  user {DEMO_USER}  password {password}")
