"""Benchmark the notification outbox: enqueue N emails, send them with K concurrent workers to a local SMTP sink.

    .venv/bin/python bench/bench_outbox.py --count 2000 --workers 4
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_outbox.py --count 2000 --workers 4

Writes its rows (kind "bench") into the configured database and deletes them afterwards. Reports enqueue
and send throughput and checks that the SMTP server received every Message-ID exactly once.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from medbook.notifications.models import OutboxMessage  # noqa: E402
from medbook.notifications.services import outbox_write  # noqa: E402
from medbook.notifications.tests.smtp import SmtpServer  # noqa: E402
from medbook.notifications.worker import outbox_drain  # noqa: E402


def enqueue(count: int) -> float:
    """Write `count` emails, one transaction each as real changes would; return the seconds taken."""
    started = time.perf_counter()
    for n in range(count):
        with transaction.atomic():
            outbox_write(
                to=f"bench{n}@example.test",
                subject=f"Bench {n}",
                text_body="Your booking is confirmed.",
                html_body="<p>Your booking is confirmed.</p>",
                kind="bench",
            )
    return time.perf_counter() - started


def drain_concurrently(workers: int, batch: int) -> float:
    """Run `workers` threads, each a worker with its own database connection; return the seconds taken."""

    def work() -> None:
        try:
            outbox_drain(batch_size=batch)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()

    server = SmtpServer()
    server.start()
    try:
        with override_settings(**server.django_settings()):
            enqueue_seconds = enqueue(args.count)
            send_seconds = drain_concurrently(args.workers, args.batch)
        bench_ids = {m.message_id for m in OutboxMessage.objects.filter(kind="bench")}
        received = server.message_ids()
    finally:
        server.stop()
        OutboxMessage.objects.filter(kind="bench").delete()

    duplicates = sum(n - 1 for n in received.values() if n > 1)
    missing = len(bench_ids - set(received))
    print(f"database   {connection.vendor}, {args.workers} workers, batch {args.batch}")
    print(f"enqueue    {args.count} in {enqueue_seconds:.2f}s = {args.count / enqueue_seconds:.0f}/s")
    print(f"send       {len(received)} in {send_seconds:.2f}s = {len(received) / send_seconds:.0f}/s")
    print(
        f"exactly once: {'yes' if not duplicates and not missing else 'NO'} (missing {missing}, duplicates {duplicates})"
    )
    sys.exit(1 if duplicates or missing else 0)


if __name__ == "__main__":
    main()
