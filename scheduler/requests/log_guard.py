"""The database's own guard on the request log: rows are only appended (the shared row guard of queues.append_only).

PostgreSQL refuses UPDATE and DELETE of a row (TRUNCATE stays possible, as for a new test database);
SQLite refuses UPDATE, DELETE and INSERT OR REPLACE. Installed by migration; a test run lifts it around the
flush between transactional tests only (tests/conftest.py), as it does for the audit.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

from queues.append_only import drop_triggers, refuse_function, row_triggers

TABLE = "scheduler_requestlogentry"
REFUSAL = "request log rows are append-only"
FUNCTION = "callrota_request_log_refuse"
TRIGGERS = row_triggers(table=TABLE, refusal=REFUSAL, prefix="request_log", function=FUNCTION)


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the guard's triggers (dropping any earlier copy first, so it is idempotent)."""
    remove(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(refuse_function(FUNCTION, REFUSAL))
        for sql in TRIGGERS.get(connection.vendor, {}).values():
            cursor.execute(sql)


def remove(connection: BaseDatabaseWrapper) -> None:
    """Drop the guard's triggers: for migrating back and the test run's flush, never in production."""
    drop_triggers(connection, TABLE, TRIGGERS.get(connection.vendor, {}))
