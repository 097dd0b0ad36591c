"""The database's own guard on the audit table: rows are only ever appended, stamped with its clock.

Triggers refuse UPDATE, DELETE, TRUNCATE (PostgreSQL) of a table that holds entries (so `flush` too),
SQLite's `INSERT OR REPLACE` (a delete that fires no delete trigger), and any entry time but the
database's own. `post_migrate` keeps the guard, so a migrate (forward or back) that leaves the table
leaves it guarded; a system check (queues.E001) stops every command while it is missing. Only a test
run lifts it, around the flush that empties the test database between tests.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "queues_auditentry"
REFUSAL = "audit rows are append-only"
CLOCK = "audit entry times are set by the database"
SUPERSEDED = {  # migration 0005's partial guard, replaced by the one below
    "postgresql": f"DROP TRIGGER IF EXISTS audit_append_only ON {TABLE}",
    "sqlite": "DROP TRIGGER IF EXISTS audit_append_only",
}
POSTGRES_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION callrota_audit_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION callrota_audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM {TABLE}) THEN
        RAISE EXCEPTION '{REFUSAL}: TRUNCATE refused';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION callrota_audit_clock() RETURNS trigger AS $$
BEGIN
    IF NEW.created_at IS DISTINCT FROM statement_timestamp() THEN
        RAISE EXCEPTION '{CLOCK}';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""  # noqa: S608 - module constants only, no input
TRIGGERS = {
    "postgresql": {
        "audit_refuse_change": f"""CREATE TRIGGER audit_refuse_change BEFORE UPDATE OR DELETE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION callrota_audit_refuse()""",
        "audit_refuse_truncate": f"""CREATE TRIGGER audit_refuse_truncate BEFORE TRUNCATE ON {TABLE}
            FOR EACH STATEMENT EXECUTE FUNCTION callrota_audit_refuse_truncate()""",
        "audit_database_clock": f"""CREATE TRIGGER audit_database_clock BEFORE INSERT ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION callrota_audit_clock()""",
    },
    "sqlite": {
        "audit_refuse_update": f"""CREATE TRIGGER audit_refuse_update BEFORE UPDATE ON {TABLE}
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: UPDATE refused'); END""",
        "audit_refuse_delete": f"""CREATE TRIGGER audit_refuse_delete BEFORE DELETE ON {TABLE}
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: DELETE refused'); END""",
        # REPLACE deletes the old row without firing delete triggers (unless recursive_triggers is on).
        "audit_refuse_replace": f"""CREATE TRIGGER audit_refuse_replace BEFORE INSERT ON {TABLE}
            WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE id = NEW.id)
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: REPLACE refused'); END""",  # noqa: S608 - constants only
        # 'now' is fixed for the whole statement, so the column default and this comparison agree.
        "audit_database_clock": f"""CREATE TRIGGER audit_database_clock BEFORE INSERT ON {TABLE}
            WHEN NEW.created_at IS NOT STRFTIME('%Y-%m-%d %H:%M:%f', 'now')
            BEGIN SELECT RAISE(ABORT, '{CLOCK}'); END""",
    },
}


def missing(connection: BaseDatabaseWrapper) -> list[str]:
    """The guard's triggers absent from an existing audit table (none when there is no table yet)."""
    expected = TRIGGERS.get(connection.vendor, {})
    if not expected or TABLE not in connection.introspection.table_names():
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [TABLE])
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        present = {name for (name,) in cursor.fetchall()}
    return [name for name in expected if name not in present]


def guards_entries(connection: BaseDatabaseWrapper) -> bool:
    """Whether the guard is in place over an audit table that holds entries (which it will refuse to empty)."""
    if TABLE not in connection.introspection.table_names() or missing(connection):
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {TABLE})")  # noqa: S608 - a constant
        return bool(cursor.fetchone()[0])


def install(connection: BaseDatabaseWrapper) -> None:
    """Create whichever of the guard's triggers are missing; a no-op on a guarded table."""
    absent = missing(connection)
    if not absent:
        return
    with connection.cursor() as cursor:
        cursor.execute(SUPERSEDED[connection.vendor])
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_FUNCTIONS)
        for name in absent:
            cursor.execute(TRIGGERS[connection.vendor][name])


def remove(connection: BaseDatabaseWrapper) -> None:
    """Drop the guard's triggers. For the test run's flush only: production never lifts the guard."""
    with connection.cursor() as cursor:
        for name in TRIGGERS.get(connection.vendor, {}):
            on_table = f" ON {TABLE}" if connection.vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on_table}")
