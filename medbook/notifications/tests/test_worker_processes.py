"""The worker as real processes: killed mid-batch and restarted, or several at once, still sends each email once."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from medbook.notifications import worker
from medbook.notifications.models import OutboxMessage
from medbook.notifications.tests.smtp import SmtpServer
from medbook.notifications.worker import outbox_drain

LEASE_SECONDS = 2
ENQUEUE = """
from django.db import transaction
from medbook.notifications.services import outbox_write
for n in range({count}):
    with transaction.atomic():
        outbox_write(to=f"patient{{n}}@example.test", subject=f"Booking {{n}}", text_body="t", html_body="<p>h</p>")
"""
ROWS = """
import json
from medbook.notifications.models import OutboxMessage
print(json.dumps([[m.message_id, m.status] for m in OutboxMessage.objects.all()]))
"""


def database_url(tmp_path: Path) -> str:
    """The database the worker subprocess shares with the test: the test database, or a SQLite file."""
    if connection.vendor != "postgresql":
        return f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def manage(env: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def slow_smtp() -> SmtpServer:
    server = SmtpServer(delay=0.05)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker_env(tmp_path, slow_smtp) -> dict:
    """Environment of a worker process: same database, the slow SMTP server, a short lease."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(tmp_path),
        "EMAIL_URL": f"smtp://127.0.0.1:{slow_smtp.port}",
        "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    if connection.vendor != "postgresql":
        manage(env, "migrate", "--noinput")  # the in-memory test database cannot be shared: use a file
    return env


def start_worker(env: dict, log_path: Path, *args: str) -> subprocess.Popen:
    """`manage.py run_worker` as a separate process, its output kept in `log_path`."""
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--batch", "50", *args],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def outbox_rows(env: dict) -> dict[str, str]:
    return dict(json.loads(manage(env, "shell", "--no-imports", "-c", ROWS).stdout))


@pytest.mark.django_db(transaction=True)
def test_n_outbox_worker_killed_mid_batch_and_restarted_delivers_each_exactly_once(
    slow_smtp, worker_env, tmp_path
):
    manage(worker_env, "shell", "--no-imports", "-c", ENQUEUE.format(count=20))
    slow_smtp.handler.hold_after = 5  # the server answers five, then keeps the sixth waiting for its 250
    process = start_worker(worker_env, tmp_path / "worker.log")
    wait_until(lambda: len(slow_smtp.messages) == 5 and slow_smtp.handler.receiving == 1)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    wait_until(lambda: slow_smtp.handler.receiving == 0)  # the dropped connection cancelled the sixth
    slow_smtp.handler.hold_after = None

    rows = outbox_rows(worker_env)
    statuses = sorted(rows.values())
    assert statuses.count("sent") == 5 and statuses.count("sending") == 15, statuses
    assert {mid for mid, status in rows.items() if status == "sent"} == set(slow_smtp.message_ids())

    time.sleep(LEASE_SECONDS + 0.5)  # the dead worker's lease on its batch runs out
    manage(worker_env, "run_worker", "--once")

    assert slow_smtp.message_ids() == {message_id: 1 for message_id in rows}
    assert set(outbox_rows(worker_env).values()) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_n_outbox_three_workers_at_once_send_each_message_exactly_once(slow_smtp, worker_env, tmp_path):
    manage(worker_env, "shell", "--no-imports", "-c", ENQUEUE.format(count=60))

    logs = [tmp_path / f"worker{n}.log" for n in range(3)]
    processes = [start_worker(worker_env, log, "--once", "--batch", "4") for log in logs]
    for process, log in zip(processes, logs, strict=True):
        assert process.wait(timeout=120) == 0, log.read_text()

    rows = outbox_rows(worker_env)
    assert slow_smtp.message_ids() == {message_id: 1 for message_id in rows}
    assert set(rows.values()) == {"sent"}
    assert sum("outbox: 0 sent" not in log.read_text() for log in logs) >= 2  # they did overlap


def test_n_outbox_crash_between_acceptance_and_marking_sent_resends_with_the_same_message_id(
    db, smtp_server, monkeypatch
):
    """The one duplicate window, stated by a test: a crash right after the server's 250 resends that message."""
    with transaction.atomic():
        message = OutboxMessage.objects.create(
            to_email="anna@example.test", subject="Booked", text_body="Booked."
        )

    def crash(message: OutboxMessage) -> None:
        raise SystemExit("the worker died after the 250, before marking the message sent")

    with monkeypatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr(worker, "mark_sent", crash)
        outbox_drain()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENDING

    OutboxMessage.objects.update(claimed_at=message.claimed_at - timedelta(hours=1))  # its lease ran out
    assert outbox_drain() == 1

    assert smtp_server.message_ids() == {message.message_id: 2}
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
