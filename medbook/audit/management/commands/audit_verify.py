"""Prove that no audit entry was changed, removed or left out: recompute every Merkle tree from its entries,
check every signed head and the consistency of successive heads, and the old hash chain.

On PostgreSQL the trees are recomputed by `--jobs` processes at once (one per core by default): each is this
command again, given its share of the trees (the largest first, each to the least loaded process), the
database's name and the entries an audited erasure emptied; it writes one problem per line to its own file.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from medbook.audit import triggers, verify
from medbook.audit.models import AuditEntry, AuditTree, AuditTreeHead

SHOWN = 20  # problems named in the error; the count says how many more
MANAGE = Path(settings.BASE_DIR) / "manage.py"


class Command(BaseCommand):
    help = (
        "Verify the audit log's Merkle trees, signed tree heads and old hash chain; exit non-zero naming each "
        "entry or head that was changed, removed, forked or left unsealed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--jobs",
            type=int,
            default=settings.AUDIT_VERIFY_JOBS,
            help="processes recomputing the trees at once, on PostgreSQL (default: AUDIT_VERIFY_JOBS)",
        )
        # One process's share of a parallel run (set by the command itself, not by people).
        parser.add_argument("--trees", help=argparse.SUPPRESS)
        parser.add_argument("--database-name", help=argparse.SUPPRESS)
        parser.add_argument("--erased-file", help=argparse.SUPPRESS)

    def handle(self, *args, database, jobs, trees, database_name, erased_file, **options):
        if trees is not None:
            self._share(database, database_name, trees, erased_file)
            return
        check = None
        if jobs > 1 and connections[database].vendor == "postgresql":
            check = _Parallel(database, jobs).check
        found = list(verify.problems(using=database, trees_check=check))
        if found:
            more = f" (and {len(found) - SHOWN} more)" if len(found) > SHOWN else ""
            raise CommandError("Audit log broken: " + "; ".join(found[:SHOWN]) + more + ".")
        entries = AuditEntry.objects.using(database).count()
        tree_count = AuditTree.objects.using(database).count()
        heads = AuditTreeHead.objects.using(database).count()
        self.stdout.write(
            f"Audit log intact: {entries} entries in {tree_count} trees, {heads} signed heads verified, none "
            f"left unsealed past {settings.AUDIT_SEAL_MAX_DELAY_SECONDS} s."
        )
        connection = connections[database]
        if not triggers.installed(connection) or not triggers.queue_installed(connection):
            self.stderr.write(
                "Warning: the audit triggers (append-only, queue) are missing on this database."
            )

    def _share(self, database: str, name: str | None, trees: str, erased_file: str | None) -> None:
        """One process of a parallel run: these trees' problems, one JSON string per line."""
        if name:
            connections[database].settings_dict["NAME"] = name  # the parent's database (a test's, say)
        erased = set(json.loads(Path(erased_file).read_text())) if erased_file else set()
        wanted = [int(pk) for pk in trees.split(",") if pk]
        found = list(AuditTree.objects.using(database).filter(pk__in=wanted).order_by("pk"))
        if len(found) != len(wanted):  # not the parent's data (an uncommitted test's, say): never a pass
            raise CommandError(f"trees {wanted} are not all in database {name or database}")
        for tree in found:
            for problem in verify.tree_problems(tree, using=database, erased=erased):
                self.stdout.write(json.dumps(problem))


class _Parallel:
    """Recompute the trees in `jobs` processes of this command and gather what they find."""

    def __init__(self, database: str, jobs: int) -> None:
        self.database, self.jobs = database, jobs

    def check(self, trees: list[AuditTree], erased: set[int]) -> Iterator[str]:
        shares: list[list[AuditTree]] = [[] for _ in range(min(self.jobs, len(trees)))]
        for tree in sorted(trees, key=lambda t: -t.size):
            min(shares, key=lambda share: sum(t.size for t in share)).append(tree)
        with tempfile.TemporaryDirectory(prefix="audit-verify-") as folder:
            erased_file = Path(folder) / "erased.json"
            erased_file.write_text(json.dumps(sorted(erased)))
            running = []
            for n, share in enumerate(shares):
                out = Path(folder) / f"share-{n}.jsonl"
                command = [
                    sys.executable,
                    str(MANAGE),
                    "audit_verify",
                    "--database",
                    self.database,
                    "--database-name",
                    str(connections[self.database].settings_dict["NAME"]),
                    "--trees",
                    ",".join(str(tree.pk) for tree in share),
                    "--erased-file",
                    str(erased_file),
                ]
                with out.open("w") as sink:
                    running.append((out, subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE)))
            failed = []
            for _sink, process in running:
                _nothing, error = process.communicate()
                if process.returncode != 0:
                    failed.append(
                        error.decode(errors="replace").strip().splitlines()[-1:] or ["(no message)"]
                    )
            if failed:
                raise CommandError(f"A process checking the trees failed: {failed[0][0]}")
            for out, _process in running:
                with out.open() as lines:
                    for line in lines:
                        if line.strip():
                            yield json.loads(line)
