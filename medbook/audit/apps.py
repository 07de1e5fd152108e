from django.apps import AppConfig
from django.db.models.signals import post_migrate

TRIGGER_MIGRATION = ("audit", "0004_append_only_triggers")


def _reinstall_triggers(sender, using, **kwargs) -> None:
    """Put the append-only triggers back if a later migration rebuilt the table (SQLite's ALTER TABLE does)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from medbook.audit import triggers

    connection = connections[using]
    if TRIGGER_MIGRATION not in MigrationRecorder(connection).applied_migrations():
        return
    if not triggers.installed(connection):
        triggers.install(connection)


class AuditConfig(AppConfig):
    name = "medbook.audit"
    label = "audit"

    def ready(self) -> None:
        post_migrate.connect(_reinstall_triggers, sender=self, dispatch_uid="audit_reinstall_triggers")
