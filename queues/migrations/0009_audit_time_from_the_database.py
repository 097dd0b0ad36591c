"""The database sets an audit entry's time (its clock, not a worker's).

The triggers that refuse any other time, and every UPDATE, DELETE, TRUNCATE and REPLACE, are kept by
queues.apps.guard_the_audit after every migrate (queues/audit_guard.py), so migrating back past 0005
leaves the table guarded.
"""

import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('queues', '0008_audit_outcome_unknown'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='created_at',
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), db_index=True),
        ),
    ]
