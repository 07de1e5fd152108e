"""The rate counts need no crash safety: on PostgreSQL their table is UNLOGGED, so counting a request writes
no WAL and its commit waits for no disk flush and no synchronous standby (issue 20). A crash or a failover
starts every count again from zero; the reports' replica never reads it."""

from django.db import migrations


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE api_ratecount SET UNLOGGED")


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE api_ratecount SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_rate_count"),
    ]

    operations = [
        migrations.RunPython(unlogged, logged, elidable=False),
    ]
