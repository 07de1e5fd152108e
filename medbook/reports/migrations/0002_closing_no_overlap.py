"""R-4: on PostgreSQL the database itself refuses two closed statements of one partner whose periods overlap."""

from django.db import migrations

FORWARD = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE reports_statementclosing ADD CONSTRAINT closing_no_overlap
    EXCLUDE USING gist (institution_id WITH =, partner_id WITH =, daterange(date_from, date_until, '[]') WITH &&);
"""
BACKWARD = "ALTER TABLE reports_statementclosing DROP CONSTRAINT IF EXISTS closing_no_overlap;"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
