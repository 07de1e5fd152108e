# Triggers that refuse UPDATE and DELETE of audit entries (F9): PostgreSQL both, SQLite UPDATE (see triggers.py).

from django.db import migrations


def install(apps, schema_editor):
    from medbook.audit import triggers

    triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    from medbook.audit import triggers

    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_hash_chain"),
    ]

    operations = [migrations.RunPython(install, remove)]
