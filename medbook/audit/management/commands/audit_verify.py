"""Prove that no audit entry was changed or removed: walk the hash chain in id order (F9)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from medbook.audit import chain, triggers
from medbook.audit.models import AuditEntry


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain; exit non-zero naming the first entry that was changed or removed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database, **options):
        entries = AuditEntry.objects.using(database).order_by("pk")
        broken = chain.first_break(entries.iterator(chunk_size=2000))
        if broken is not None:
            entry, reason = broken
            raise CommandError(
                f"Audit chain broken at entry {entry.pk} ({entry.created_at:%Y-%m-%d %H:%M:%S} UTC, {entry.action}): {reason}."
            )
        count = entries.count()
        head = entries.values_list("row_hash", flat=True).last() or chain.GENESIS
        self.stdout.write(f"Audit chain intact: {count} entries, head {head}.")
        if not triggers.installed(connections[database]):
            self.stderr.write("Warning: the append-only triggers are missing on this database.")
