"""The database's own guard on the request log: rows are only appended (the audit's guard, for this table).

PostgreSQL refuses UPDATE and DELETE of a row (TRUNCATE stays possible, as for a new test database);
SQLite refuses UPDATE, DELETE and INSERT OR REPLACE. Installed by migration; a test run lifts it around the
flush between transactional tests only (tests/conftest.py), as it does for the audit.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "scheduler_requestlogentry"
REFUSAL = "request log rows are append-only"
TRIGGERS = {
    "postgresql": {
        "request_log_refuse_change": f"""
            CREATE OR REPLACE FUNCTION callrota_request_log_refuse() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER request_log_refuse_change BEFORE UPDATE OR DELETE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION callrota_request_log_refuse()""",
    },
    "sqlite": {
        "request_log_refuse_update": f"""CREATE TRIGGER request_log_refuse_update BEFORE UPDATE ON {TABLE}
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: UPDATE refused'); END""",
        "request_log_refuse_delete": f"""CREATE TRIGGER request_log_refuse_delete BEFORE DELETE ON {TABLE}
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: DELETE refused'); END""",
        "request_log_refuse_replace": f"""CREATE TRIGGER request_log_refuse_replace BEFORE INSERT ON {TABLE}
            WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE id = NEW.id)
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: REPLACE refused'); END""",  # noqa: S608 - constants only
    },
}


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the guard's triggers (dropping any earlier copy first, so it is idempotent)."""
    remove(connection)
    with connection.cursor() as cursor:
        for sql in TRIGGERS.get(connection.vendor, {}).values():
            cursor.execute(sql)


def remove(connection: BaseDatabaseWrapper) -> None:
    """Drop the guard's triggers: for migrating back and the test run's flush, never in production."""
    with connection.cursor() as cursor:
        for name in TRIGGERS.get(connection.vendor, {}):
            on_table = f" ON {TABLE}" if connection.vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on_table}")
