"""Set up Django for a benchmark script on its own database (never the development one)."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(name: str) -> None:
    """Point Django at BENCH_DATABASE_URL, or a fresh SQLite file var/bench-NAME.sqlite3, and migrate."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler.settings")
    os.environ.setdefault("DEBUG", "on")
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        path = ROOT / "var" / f"bench-{name}.sqlite3"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    os.environ["DATABASE_URL"] = url
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("flush", "--no-input", verbosity=0)
