from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    name = "medbook.core"
    label = "core"

    def ready(self) -> None:
        """Let SQLite fold names as PostgreSQL's unaccent does (accent-insensitive search)."""
        from medbook.core.text import register_sqlite_fold

        connection_created.connect(register_sqlite_fold, dispatch_uid="medbook_fold")
