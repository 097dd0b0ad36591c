"""System checks on the database's state that code alone cannot see."""

from django.core.checks import Error, register
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from . import audit_guard


@register()
def check_audit_guard(app_configs, databases=None, **kwargs) -> list[Error]:
    """queues.E001: the audit table exists without its append-only triggers, and no migrate is pending to fix it."""
    errors = []
    for alias in databases or ["default"]:
        connection = connections[alias]
        try:
            absent = audit_guard.missing(connection)
            if absent and not _migrations_pending(connection):
                errors.append(_unguarded(alias, absent))
        except DatabaseError:
            continue  # an unreachable database gets its own, clearer error from whatever uses it
    return errors


def _migrations_pending(connection) -> bool:
    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _unguarded(alias: str, absent: list[str]) -> Error:
    return Error(
        f"The audit table {audit_guard.TABLE} on database '{alias}' can be edited: trigger(s) "
        f"{', '.join(absent)} are missing.",
        hint="Run `manage.py migrate --skip-checks`, which reinstalls them.",
        id="queues.E001",
    )
