from django.apps import AppConfig
from django.db.models.signals import post_migrate

TRIGGER_MIGRATION = ("audit", "0004_append_only_triggers")
QUEUE_MIGRATION = ("audit", "0005_merkle_trees")


def _reinstall_triggers(sender, using, **kwargs) -> None:
    """Put the append-only triggers back if a later migration rebuilt the table (SQLite's ALTER TABLE does)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from medbook.audit import triggers

    connection = connections[using]
    applied = MigrationRecorder(connection).applied_migrations()
    if TRIGGER_MIGRATION in applied and not triggers.installed(connection):
        triggers.install(connection)
    if QUEUE_MIGRATION in applied and not triggers.queue_installed(connection):
        triggers.queue_install(connection)


class AuditConfig(AppConfig):
    name = "medbook.audit"
    label = "audit"

    def ready(self) -> None:
        post_migrate.connect(_reinstall_triggers, sender=self, dispatch_uid="audit_reinstall_triggers")
