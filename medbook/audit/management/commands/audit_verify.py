"""Prove that no audit entry was changed, removed or left out: recompute every Merkle tree from its entries,
check every signed head and the consistency of successive heads, and the old hash chain."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from medbook.audit import triggers, verify
from medbook.audit.models import AuditEntry, AuditTree, AuditTreeHead

SHOWN = 20  # problems named in the error; the count says how many more


class Command(BaseCommand):
    help = (
        "Verify the audit log's Merkle trees, signed tree heads and old hash chain; exit non-zero naming each "
        "entry or head that was changed, removed, forked or left unsealed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database, **options):
        found = list(verify.problems(using=database))
        if found:
            more = f" (and {len(found) - SHOWN} more)" if len(found) > SHOWN else ""
            raise CommandError("Audit log broken: " + "; ".join(found[:SHOWN]) + more + ".")
        entries = AuditEntry.objects.using(database).count()
        trees = AuditTree.objects.using(database).count()
        heads = AuditTreeHead.objects.using(database).count()
        self.stdout.write(
            f"Audit log intact: {entries} entries in {trees} trees, {heads} signed heads verified, none left "
            f"unsealed past {settings.AUDIT_SEAL_MAX_DELAY_SECONDS} s."
        )
        connection = connections[database]
        if not triggers.installed(connection) or not triggers.queue_installed(connection):
            self.stderr.write(
                "Warning: the audit triggers (append-only, queue) are missing on this database."
            )
