"""Apply retention now (`medbook.privacy.retention`; the worker does it by itself every
RETENTION_INTERVAL_SECONDS), or with --dry-run count what it would erase and delete, changing nothing."""

from django.core.management.base import BaseCommand

from medbook.privacy.retention import KINDS, retention_run


class Command(BaseCommand):
    help = (
        "Erase the patients past their institution's retention and delete what is kept only a while "
        "(docs/privacy.md, Retention); --dry-run prints the counts without changing anything."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count only; change nothing")

    def handle(self, *args, dry_run: bool, **options) -> None:
        result = retention_run(dry_run=dry_run)
        verb = "would erase or delete" if dry_run else "erased or deleted"
        self.stdout.write(f"retention ({'dry run' if dry_run else 'done'}): {verb}")
        for kind in KINDS:
            self.stdout.write(f"  {kind}: {result.counts[kind]}")
        self.stdout.write(f"  patients past retention but held (upcoming or unsettled visits): {result.held}")
