"""One mechanism for append-only tables (the audit, the request log): the model side and the database side.

The model side refuses to update or delete a saved row through the ORM (`AppendOnlyQuerySet` here, and the
abstract model queues.models.AppendOnly, kept there as this module loads before the app registry);
the database side is a set of row triggers that refuse UPDATE, DELETE and SQLite's INSERT OR REPLACE (a delete
that fires no delete trigger), so raw SQL is refused too. A table's guard module adds what only it needs (the
audit also refuses TRUNCATE and any entry time but the database's).
"""

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk update and delete with the model's own words."""

    def update(self, **kwargs):
        raise AppendOnlyError(self.model.append_only_refusal)

    def delete(self):
        raise AppendOnlyError(self.model.append_only_refusal)


def refuse_function(function: str, refusal: str) -> str:
    """PostgreSQL: the trigger function that refuses whatever operation fired it, naming it."""
    return f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{refusal}: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;"""


def row_triggers(*, table: str, refusal: str, prefix: str, function: str) -> dict[str, dict[str, str]]:
    """Per database vendor, the named triggers that refuse changing or removing a row of `table`.

    PostgreSQL's trigger calls `function`, made by `refuse_function`; the names are `{prefix}_refuse_...`.
    """
    return {
        "postgresql": {
            f"{prefix}_refuse_change": f"""CREATE TRIGGER {prefix}_refuse_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}()""",
        },
        "sqlite": {
            f"{prefix}_refuse_update": f"""CREATE TRIGGER {prefix}_refuse_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{refusal}: UPDATE refused'); END""",
            f"{prefix}_refuse_delete": f"""CREATE TRIGGER {prefix}_refuse_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{refusal}: DELETE refused'); END""",
            # REPLACE deletes the old row without firing delete triggers (unless recursive_triggers is on).
            f"{prefix}_refuse_replace": f"""CREATE TRIGGER {prefix}_refuse_replace BEFORE INSERT ON {table}
            WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id)
            BEGIN SELECT RAISE(ABORT, '{refusal}: REPLACE refused'); END""",  # noqa: S608 - constants only
        },
    }


def present_triggers(connection: BaseDatabaseWrapper, table: str) -> set[str]:
    """The names of the user triggers on `table`."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table])
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        return {name for (name,) in cursor.fetchall()}


def drop_triggers(connection: BaseDatabaseWrapper, table: str, names) -> None:
    """Drop these triggers of `table` where they exist."""
    with connection.cursor() as cursor:
        for name in names:
            on_table = f" ON {table}" if connection.vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on_table}")
