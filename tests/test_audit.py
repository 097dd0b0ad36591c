"""The audit history is append-only, in the app and in the database."""

import pytest
from django.db import DatabaseError, connection, transaction

from queues.models import Agent, AppendOnlyError, AuditEntry


@pytest.fixture
def entry(db):
    agent = Agent.objects.create(provider_id="1", name="Ann")
    return AuditEntry.objects.create(agent=agent, reason="shift start: Early", field="dndStatus", outcome="applied")


def test_the_model_refuses_to_change_or_delete_a_row(entry):
    entry.reason = "edited"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="edited")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_the_database_refuses_raw_updates(entry):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE queues_auditentry SET reason = 'edited' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).reason == "shift start: Early"


def test_the_database_refuses_raw_deletes(entry):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM queues_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
