"""`python manage.py run_worker`: send the notification outbox (see medbook.notifications.worker), and run
each of WORKER_TASKS (dotted paths of functions returning how much they did: the webhook deliveries, and
the audit sealer, medbook.audit.sealer.audit_seal, which integrates new audit entries into their Merkle
trees and signs the heads; several workers may run it at once)."""

import logging
import time
from collections.abc import Callable

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
            digests = self.step("digests", digests_send)
            others = sum(self.step(task, import_string(task)) for task in settings.WORKER_TASKS)
            sent = self.step("outbox", lambda: outbox_drain(batch_size=batch))
            self.stdout.write(f"digests: {digests} written; outbox: {sent} sent; other tasks: {others} done")
            return
        self.stdout.write(f"outbox worker running (batch {batch}, idle poll {sleep}s)")
        try:
            while True:
                self.loop(batch, sleep)
        except KeyboardInterrupt:
            pass

    def loop(self, batch: int, sleep: float) -> None:
        """Run rounds until an unexpected error, which is logged; the caller starts the loop again."""
        try:
            while True:
                if not self.round(batch):
                    time.sleep(sleep)
        except Exception:  # noqa: BLE001 - the loop outlives any error; a supervisor restarts a dead process
            log.exception("outbox worker: unexpected error, the loop starts again after the poll interval")
            time.sleep(sleep)

    def round(self, batch: int) -> int:
        """Run each task once; return how much was done (0 when idle or when every task failed). A task
        that fails is logged and tried again next round: it never holds up the others (a webhook endpoint's
        failure never stops the emails)."""
        close_old_connections()  # survive a database restart between rounds
        done = self.step("digests", self.digests_if_due)
        done += sum(self.step(task, import_string(task)) for task in settings.WORKER_TASKS)
        return done + self.step("outbox", lambda: outbox_process_batch(batch_size=batch).claimed)

    def step(self, name: str, task: Callable[[], int | None]) -> int:
        """Run one task; log its failure and go on (a database error, or a bug one row set off)."""
        try:
            return task() or 0
        except DatabaseError:
            log.exception("outbox worker: database error in %s, retrying after the poll interval", name)
        except Exception:  # noqa: BLE001 - one task's failure must not stop the others
            log.exception("outbox worker: %s failed, retrying after the poll interval", name)
        return 0

    def digests_if_due(self) -> int:
        """Write the digests whose window has ended, at most once every DIGEST_POLL_SECONDS."""
        if time.monotonic() < self.digests_due_at:
            return 0
        self.digests_due_at = time.monotonic() + settings.DIGEST_POLL_SECONDS
        digests_send()
        return 0  # writing digests fills the outbox; it is not work that should skip the idle sleep
