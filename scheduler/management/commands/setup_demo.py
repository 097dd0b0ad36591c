import os
import secrets
import signal
import threading
import time
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import urlopen

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from queues.models import Agent
from scheduler.forecast.history import seed_demo_call_volume
from scheduler.schedule.parse import DEMO_SCHEDULE

DEMO_USER = "supervisor"
DEMO_RECEPTIONIST = "james"  # linked to James Smith, the demo's agent on Support
DEMO_RECEPTIONIST_AGENT = "111111111"
HISTORY_WEEKS = 8  # as the Procfile's emulator: run_emulator --history-weeks 8
DEFAULT_WEB = "http://127.0.0.1:8000/"
READY_WITHIN = 180  # seconds a slow first start (a cold machine, two cores) may take


class Command(BaseCommand):
    help = "Load the demo schedule and create the demo logins: a supervisor and a receptionist (for `make run`)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--then-wait-for",
            metavar="URL",
            help="print the logins only once this web server, the emulator and a Celery worker answer "
            "(`make run` starts this in its Procfile, so the logins come after every start-up banner)",
        )
        parser.add_argument(
            "--and-stay", action="store_true", help="then keep running until Ctrl-C or SIGTERM, and exit 0"
        )

    def handle(self, *args, then_wait_for=None, and_stay=False, **options):
        """Import the demo schedule, store its call history, (re)set both demo passwords, print the logins last.

        The password comes from DEMO_ADMIN_PASSWORD, or is made fresh on every run; both
        demo users share it, so there is one thing to copy.
        """
        stop = threading.Event()
        if and_stay:  # honcho stops a process with SIGTERM: a stop asked for is not an error
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            signal.signal(signal.SIGINT, lambda *_: stop.set())
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
        web = then_wait_for or DEFAULT_WEB
        if then_wait_for and not wait_until_ready(then_wait_for, stop):
            return  # stopped before everything was up: nothing to announce
        rule = "=" * 72
        self.stdout.write(
            f"{rule}\n"
            f"Receptionist (My queues): {web}  user {DEMO_RECEPTIONIST}  password {password}\n"
            f"{rule}\n"
            f"Demo admin: {web.rstrip('/')}/admin/  user {DEMO_USER}  password {password}"
        )
        if and_stay:
            self.stdout.write(f"{rule}\nCallrota is running. Ctrl-C stops everything.")
            self.stdout.flush()
            stop.wait()


def wait_until_ready(web: str, stop: threading.Event) -> bool:
    """Wait until the web server and the RingCentral emulator answer and a Celery worker runs a task."""
    if urlsplit(web).scheme not in ("http", "https"):
        raise CommandError(f"--then-wait-for: {web!r} is not an http:// URL; use e.g. {DEFAULT_WEB}")
    deadline = time.monotonic() + READY_WITHIN
    waiting = [lambda: _answers(web), lambda: _answers(settings.RC_SERVER_URL), _worker_answers]
    while waiting and not stop.is_set():
        if time.monotonic() > deadline:
            raise CommandError(f"web, emulator or worker did not start within {READY_WITHIN}s: see their lines above")
        waiting = [check for check in waiting if not check()]
        if waiting:
            stop.wait(0.5)
    return not stop.is_set()


def _answers(url: str) -> bool:
    try:
        with urlopen(url, timeout=2):  # noqa: S310 - a local URL this command was given
            return True
    except HTTPError:
        return True  # any HTTP answer means it is serving
    except OSError:
        return False


def _worker_answers() -> bool:
    from scheduler.tasks import ping

    try:
        return bool(ping.apply_async().get(timeout=5)["pong"])
    except Exception:  # noqa: BLE001 - not up yet, whichever way it says so
        return False
