"""`python manage.py run_worker`: send the notification outbox (see medbook.notifications.worker), and run
each of WORKER_TASKS (dotted paths of functions returning how much they did: the webhook deliveries)."""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils.module_loading import import_string

from medbook.notifications.digest import digests_send
from medbook.notifications.worker import outbox_drain, outbox_process_batch

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Send due outbox emails in a loop, writing the digests whose window has ended every "
        "DIGEST_POLL_SECONDS; with --once, write the due digests, send what is due and exit."
    )
    digests_due_at = 0.0

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="send everything due, then exit")
        parser.add_argument(
            "--batch", type=int, default=settings.OUTBOX_BATCH_SIZE, help="messages per claim"
        )
        parser.add_argument(
            "--sleep",
            type=float,
            default=settings.OUTBOX_POLL_SECONDS,
            help="seconds between polls when idle",
        )

    def handle(self, *args, once: bool, batch: int, sleep: float, **options) -> None:
        if once:
            digests = digests_send()
            others = sum(import_string(task)() for task in settings.WORKER_TASKS)
            sent = outbox_drain(batch_size=batch)
            self.stdout.write(f"digests: {digests} written; outbox: {sent} sent; other tasks: {others} done")
            return
        self.stdout.write(f"outbox worker running (batch {batch}, idle poll {sleep}s)")
        try:
            while True:
                if not self.round(batch):
                    time.sleep(sleep)
        except KeyboardInterrupt:
            pass

    def round(self, batch: int) -> int:
        """Process one batch; return how many messages were claimed (0 when idle or the database failed)."""
        close_old_connections()  # survive a database restart between rounds
        try:
            self.digests_if_due()
            others = sum(import_string(task)() for task in settings.WORKER_TASKS)
            return outbox_process_batch(batch_size=batch).claimed + others
        except DatabaseError:
            log.exception("outbox worker: database error, retrying after the poll interval")
            return 0

    def digests_if_due(self) -> None:
        """Write the digests whose window has ended, at most once every DIGEST_POLL_SECONDS."""
        if time.monotonic() < self.digests_due_at:
            return
        self.digests_due_at = time.monotonic() + settings.DIGEST_POLL_SECONDS
        digests_send()
