"""The database itself refuses to change audit rows, whatever code or console asks.

PostgreSQL refuses UPDATE and DELETE (TRUNCATE, which test databases use to reset, is left
alone). SQLite refuses UPDATE; its flush deletes rows, so deletes there are refused by the
model and queryset only.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION callrota_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON queues_auditentry
    FOR EACH ROW EXECUTE FUNCTION callrota_audit_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS audit_append_only ON queues_auditentry;
DROP FUNCTION IF EXISTS callrota_audit_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER audit_append_only BEFORE UPDATE ON queues_auditentry
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS audit_append_only;"


def install(apps, schema_editor):
    sql = {"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


def remove(apps, schema_editor):
    sql = {"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("queues", "0004_ringplan_provider")]
    operations = [migrations.RunPython(install, remove)]
