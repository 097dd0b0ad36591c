"""Shared fixtures, kept in their own modules and registered here: providers, and the personas (tests/support/)."""

import pytest
from django.db import connections
from django.test import TransactionTestCase

from queues import audit_guard
from scheduler.requests import log_guard

pytest_plugins = ["tests.fixtures_ringcentral", "tests.support.personas"]


@pytest.fixture(scope="session", autouse=True)
def audit_guard_lifted_for_the_test_flush():
    """Transactional tests end with a flush of every table, which the audit's guard refuses (as it
    refuses `manage.py flush`): lift the guard for that flush alone and put it back straight after."""
    flush = TransactionTestCase._fixture_teardown

    def flush_past_the_guard(test_case):
        aliases = test_case._databases_names(include_mirrors=False)
        for alias in aliases:
            audit_guard.remove(connections[alias])
            log_guard.remove(connections[alias])
        try:
            flush(test_case)
        finally:
            for alias in aliases:
                audit_guard.install(connections[alias])
                log_guard.install(connections[alias])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", flush_past_the_guard)
        yield
