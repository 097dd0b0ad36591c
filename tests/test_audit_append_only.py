"""The database keeps the audit append-only on SQLite and PostgreSQL alike, whoever asks and however.

The first tests run on the suite's own database (CI runs the suite on both); the last ones build a
real database of each kind and attack it from outside Django: raw SQL, `flush`, migrating back, a
dropped trigger.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from queues.models import Agent, AuditEntry

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgres://postgres@127.0.0.1:5432"
COLUMNS = "reason, provider, field, old_value, new_value, outcome, error_code, error_message, api_call"
ROW = "'shift start: Early', 'ringcentral', 'dndStatus', 'a', 'b', 'applied', '', '', ''"


@pytest.fixture
def entry(db):
    agent = Agent.objects.create(provider_id="1", name="Ann")
    return AuditEntry.objects.create(agent=agent, reason="shift start: Early", field="dndStatus", outcome="applied")


def refused(statement: str, params=()) -> str:
    with pytest.raises(DatabaseError) as error, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
    return str(error.value)


def test_the_database_refuses_raw_deletes(entry):
    assert "append-only" in refused("DELETE FROM queues_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_base_manager_cannot_delete_or_update_either(entry):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry._base_manager.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry._base_manager.filter(pk=entry.pk).update(reason="edited")
    assert AuditEntry.objects.get(pk=entry.pk).reason == "shift start: Early"


def test_replacing_a_row_by_its_id_is_refused(entry):
    replace = {
        "sqlite": f"INSERT OR REPLACE INTO queues_auditentry (id, {COLUMNS}) VALUES (%s, {ROW})",  # noqa: S608
        "postgresql": f"INSERT INTO queues_auditentry (id, {COLUMNS}) VALUES (%s, {ROW}) ON CONFLICT (id) DO UPDATE"  # noqa: S608
        " SET reason = 'edited'",
    }[connection.vendor]
    assert "append-only" in refused(replace, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).reason == "shift start: Early"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
def test_postgresql_refuses_truncate(entry):
    # The test's own transaction holds deferred foreign-key checks, which TRUNCATE would refuse first.
    assert "append-only" in refused("SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE queues_auditentry CASCADE")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_entry_time_is_the_databases_not_the_callers(db):
    with time_machine.travel(datetime(2001, 1, 1, tzinfo=UTC), tick=False):  # a worker with a wrong clock
        made = AuditEntry.objects.create(reason="r", field="dndStatus", outcome="applied")
        many = AuditEntry.objects.bulk_create(AuditEntry(reason="r", field="f", outcome="skipped") for _ in range(3))
    stored = AuditEntry.objects.get(pk=made.pk).created_at
    assert made.created_at == stored and abs((timezone.now() - stored).total_seconds()) < 60
    assert all(abs((timezone.now() - row.created_at).total_seconds()) < 60 for row in many)


def test_a_time_given_by_the_caller_is_refused(db):
    backdated = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(DatabaseError, match="set by the database"), transaction.atomic():
        AuditEntry.objects.create(created_at=backdated, reason="r", field="dndStatus", outcome="applied")
    assert not AuditEntry.objects.exists()


# A real database of each kind, migrated once, copied for each test, attacked from outside Django.


class Database:
    """A throwaway migrated database: its URL, raw SQL on it, and manage.py against it."""

    def __init__(self, vendor: str, url: str, path: Path | None = None):
        self.vendor, self.url, self.path = vendor, url, path

    def sql(self, statement: str) -> list[tuple]:
        if self.vendor == "sqlite":
            with sqlite3.connect(str(self.path)) as conn:
                return conn.execute(statement).fetchall()
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env={**os.environ, "DATABASE_URL": self.url}, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    def count(self) -> int:
        return self.sql("SELECT count(*) FROM queues_auditentry")[0][0]


def create_postgres(name: str, template: str = "template1") -> Database:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return Database("postgresql", f"{POSTGRES}/{name}")


def drop_postgres(name: str) -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def migrated(request, tmp_path_factory):
    """One migrated database of each kind with one audit row, written by raw SQL (the database stamps it)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("audit") / "template.sqlite3"
        template = Database("sqlite", f"sqlite:///{path}", path)
    else:
        template = create_postgres(f"callrota_sec_template_{uuid.uuid4().hex[:8]}")
        request.addfinalizer(lambda: drop_postgres(template.url.rsplit("/", 1)[1]))
    migration = template.manage("migrate", "--no-input", "-v0")
    assert migration.returncode == 0, migration.stderr
    template.sql(f"INSERT INTO queues_auditentry ({COLUMNS}) VALUES ({ROW})")  # noqa: S608
    return template


@pytest.fixture
def database(migrated, tmp_path):
    if migrated.vendor == "sqlite":
        shutil.copy(migrated.path, tmp_path / "db.sqlite3")
        yield Database("sqlite", f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "db.sqlite3")
        return
    name = f"callrota_sec_{uuid.uuid4().hex[:8]}"
    yield create_postgres(name, template=migrated.url.rsplit("/", 1)[1])
    drop_postgres(name)


def attack(database: Database) -> list[str]:
    """Raw statements from outside Django that would change or remove the audit row; those that got through."""
    statements = [
        "DELETE FROM queues_auditentry",
        "UPDATE queues_auditentry SET reason = 'edited'",
        f"INSERT INTO queues_auditentry (created_at, {COLUMNS}) VALUES ('2020-01-01 00:00:00', {ROW})",  # noqa: S608
        *(
            [f"INSERT OR REPLACE INTO queues_auditentry (id, {COLUMNS}) SELECT id, {ROW} FROM queues_auditentry"]  # noqa: S608
            if database.vendor == "sqlite"
            else ["TRUNCATE queues_auditentry CASCADE"]
        ),
    ]
    passed = []
    for statement in statements:
        try:
            database.sql(statement)
            passed.append(statement)
        except (sqlite3.DatabaseError, psycopg.DatabaseError):
            pass
    return passed


@pytest.mark.slow  # builds and migrates real databases
def test_raw_sql_from_outside_django_changes_nothing(database):
    assert attack(database) == []
    assert database.count() == 1
    stamped = database.sql("SELECT created_at FROM queues_auditentry")[0][0]
    assert str(stamped).startswith(str(datetime.now(UTC).year))


@pytest.mark.slow  # builds and migrates real databases
def test_flush_keeps_the_audit_and_says_why(database):
    flushed = database.manage("flush", "--no-input")
    assert flushed.returncode == 1 and "Traceback" not in flushed.stderr
    assert "flush would empty the audit history, which is append-only: nothing was flushed" in flushed.stderr
    assert database.count() == 1


@pytest.mark.slow  # builds and migrates real databases
def test_migrating_queues_back_keeps_the_guard(database):
    back = database.manage("migrate", "queues", "0004", "--no-input", "-v0")
    assert back.returncode == 0, back.stderr
    assert attack(database) == [] and database.count() == 1
    assert database.manage("migrate", "--no-input", "-v0").returncode == 0


@pytest.mark.slow  # builds and migrates real databases
def test_a_missing_trigger_fails_the_checks_until_migrate_puts_it_back(database):
    on_table = " ON queues_auditentry" if database.vendor == "postgresql" else ""
    database.sql(f"DROP TRIGGER audit_database_clock{on_table}")
    checked = database.manage("check")
    assert checked.returncode == 1 and "queues.E001" in checked.stderr and "audit_database_clock" in checked.stderr
    assert database.manage("migrate", "--skip-checks", "--no-input", "-v0").returncode == 0
    assert database.manage("check").returncode == 0
    assert attack(database) == []
