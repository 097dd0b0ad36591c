"""The database's own guard on the audit table: rows are only ever appended, stamped with its clock.

Triggers refuse UPDATE, DELETE, TRUNCATE (PostgreSQL) of a table that holds entries (so `flush` too),
SQLite's `INSERT OR REPLACE` (a delete that fires no delete trigger), and any entry time but the
database's own. `post_migrate` keeps the guard, so a migrate (forward or back) that leaves the table
leaves it guarded; a system check (queues.E001) stops every command while it is missing. Only a test
run lifts it, around the flush that empties the test database between tests.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

from .append_only import drop_triggers, present_triggers, refuse_function, row_triggers

TABLE = "queues_auditentry"
REFUSAL = "audit rows are append-only"
CLOCK = "audit entry times are set by the database"
SUPERSEDED = {  # migration 0005's partial guard, replaced by the one below
    "postgresql": f"DROP TRIGGER IF EXISTS audit_append_only ON {TABLE}",
    "sqlite": "DROP TRIGGER IF EXISTS audit_append_only",
}
ROWS = row_triggers(table=TABLE, refusal=REFUSAL, prefix="audit", function="callrota_audit_refuse")
_ONLY_THE_AUDIT = f"""
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
POSTGRES_FUNCTIONS = refuse_function("callrota_audit_refuse", REFUSAL) + "\n" + _ONLY_THE_AUDIT
TRIGGERS = {  # the shared row guard, then what only the audit refuses: TRUNCATE, and any clock but the database's
    "postgresql": ROWS["postgresql"]
    | {
        "audit_refuse_truncate": f"""CREATE TRIGGER audit_refuse_truncate BEFORE TRUNCATE ON {TABLE}
            FOR EACH STATEMENT EXECUTE FUNCTION callrota_audit_refuse_truncate()""",
        "audit_database_clock": f"""CREATE TRIGGER audit_database_clock BEFORE INSERT ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION callrota_audit_clock()""",
    },
    "sqlite": ROWS["sqlite"]
    | {
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
    present = present_triggers(connection, TABLE)
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
    drop_triggers(connection, TABLE, TRIGGERS.get(connection.vendor, {}))
