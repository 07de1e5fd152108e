"""Accent-insensitive search of the register: PostgreSQL's unaccent extension (SQLite folds in Python)."""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent;")


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_registered_by_partner")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
