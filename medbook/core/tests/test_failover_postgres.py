"""Booking through the JSON API while the primary dies: pg_auto_failover promotes its synchronous secondary.

A formation of our own (medbook/core/tests/autofailover.py: monitor, primary node1, secondary node2 with
synchronous replication, each on a free port under a temporary directory, as the postgres OS user) holds a
database migrated by `manage.py migrate` through the application's multi-host DATABASE_URL
(`target_session_attrs=read-write`). gunicorn serves the app on it as `make serve` does (pooled connections).
Three clients book distinct slots, each with an Idempotency-Key it replays after a 503 or a lost answer, while
node1's keeper and postmaster are killed with SIGKILL. It proves: every answer is a 201 or a 503 with
Retry-After (no 500, no answer later than the client's timeout); bookings succeed again within 30 s of the kill;
every booking answered 201 is on the new primary, once per key and no other; the worker, run after, sends each
e-mail of the outbox exactly once (a local SMTP server counts Message-IDs) and each booking's webhook exactly
once (a local receiver counts `webhook-id`s), and a second run sends nothing.
docs/deployment-db.md says how to run it.
"""

import base64
import itertools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from medbook.core.tests.autofailover import Formation, pg_autoctl, ready_for_postgres
from medbook.core.tests.clusters import postgres_owned_tempdir, run, sql, wait_for
from medbook.core.tests.ports import free_port
from medbook.notifications.tests.smtp import SmtpServer
from medbook.webhooks.tests.receiver import Receiver

# serial: the 30 s recovery aim and the clients' 20 s timeout are wall-clock bounds; make test runs it alone.
pytestmark = [pytest.mark.postgres, pytest.mark.serial]

ROOT = Path(__file__).resolve().parents[3]
CLIENTS = 3
CLIENT_TIMEOUT_SECONDS = 20
RECOVERY_AIM_SECONDS = 30
BOOKED_BEFORE_KILL = 12
BOOKED_AFTER_RECOVERY = 12
DBNAME = "medbook_failover"

# Run in the app's own process (manage.py shell): the test cast and a token of its admin, as JSON.
SETUP = """
import json, os
from conftest import cast_build
from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.webhooks.services import webhook_endpoint_create
cast = cast_build()
token = api_token_create(actor=actor_for(cast.alice), name="failover")[1]
webhook_endpoint_create(actor=actor_for(cast.alice), url=os.environ["FAILOVER_HOOK"], events=["booking.created"])
print(json.dumps({"token": token, "location_id": cast.location_a1.pk, "physician_id": cast.physician_a.pk,
                  "service_id": cast.service_a.pk, "patient_id": cast.patient_a.pk,
                  "time_zone": cast.institution_a.time_zone}))
"""


def _major() -> int | None:
    """The newest PostgreSQL on the machine that has the pgautofailover extension."""
    for major in sorted((int(p.name) for p in Path("/usr/lib/postgresql").glob("[0-9]*")), reverse=True):
        if Path(f"/usr/share/postgresql/{major}/extension/pgautofailover.control").exists():
            return major
    return None


@pytest.fixture(scope="module")
def formation():
    major = _major()
    if pg_autoctl() is None or major is None:
        pytest.skip(
            "pg_auto_failover is not installed (make pg-auto-failover): the failover test did NOT run"
        )
    base = postgres_owned_tempdir("medbook-failover-")
    ready_for_postgres(base)
    cluster = Formation(base, major, DBNAME)
    try:
        try:
            cluster.start()
        except Exception as error:
            raise AssertionError(f"{error}\n{cluster.logs()}") from error
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


def _environment(cluster: Formation, smtp_port: int, hook: str) -> dict[str, str]:
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("DATABASE_", "DJANGO_"))
    }
    return environment | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": cluster.url(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "REQUIRE_2FA_FOR_ADMINS": "false",
        "DEBUG": "false",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "ALLOWED_HOSTS": "127.0.0.1",
        # The booking webhooks go to this machine's receiver (plain HTTP, a loopback address).
        "FAILOVER_HOOK": hook,
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
    }


def _manage(environment: dict, *arguments: str, timeout: float = 300) -> str:
    return run(
        [sys.executable, str(ROOT / "manage.py"), *arguments], timeout=timeout, env=environment, cwd=ROOT
    )


def _slots(time_zone: str):
    """Distinct half-hour slots within the physician's hours (8-16 every day), from a week ahead on."""
    zone = ZoneInfo(time_zone)
    first = date.today() + timedelta(days=7)
    for day in itertools.count():
        for half_hour in range(16):
            start = datetime.combine(first + timedelta(days=day), clock(8), zone)
            yield (start + timedelta(minutes=30 * half_hour)).isoformat()


class Clients:
    """CLIENTS threads booking until told to stop; every answer recorded (time, status, Retry-After)."""

    def __init__(self, base_url: str, setup: dict):
        self.base_url, self.setup = base_url, setup
        self.slots = _slots(setup["time_zone"])
        self.lock = threading.Lock()
        self.answers: list[tuple[float, int | str, str | None]] = []
        self.booked: dict[str, int] = {}  # Idempotency-Key -> booking id answered 201
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=CLIENT_TIMEOUT_SECONDS * 3)
        assert not any(thread.is_alive() for thread in self.threads), "a client hung"

    def successes_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for at, status, _ in self.answers if at >= moment and status == 201)

    def _client(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                starts_at = next(self.slots)
            body = {
                key: self.setup[key] for key in ("location_id", "physician_id", "service_id", "patient_id")
            } | {"starts_at": starts_at}
            key = str(uuid.uuid4())
            while True:  # the same request with the same key until it is answered 201
                sent = time.monotonic()
                status, retry_after, booking_id = self._post(body, key)
                with self.lock:
                    self.answers.append((sent, status, retry_after))
                    if status == 201:
                        assert self.booked.setdefault(key, booking_id) == booking_id
                if status == 201 or status not in (503, "lost"):
                    break
                time.sleep(0.2)

    def _post(self, body: dict, key: str):
        request = urllib.request.Request(
            f"{self.base_url}/api/v1/bookings",
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.setup['token']}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT_SECONDS) as response:
                return response.status, response.headers.get("Retry-After"), json.load(response)["id"]
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Retry-After"), None
        except TimeoutError:
            return "timeout", None, None
        except (urllib.error.URLError, ConnectionError) as error:
            if isinstance(getattr(error, "reason", None), TimeoutError):
                return "timeout", None, None
            return "lost", None, None


def test_bookings_survive_the_primary_killed(formation, tmp_path):
    started = time.monotonic()
    smtp = SmtpServer()
    smtp.start()
    hooks = Receiver().__enter__()
    server = None
    try:
        environment = _environment(formation, smtp.port, hooks.url)
        _manage(environment, "migrate", "--noinput", "-v0")
        setup = json.loads(_manage(environment, "shell", "-c", SETUP).strip().splitlines()[-1])
        assert formation.synchronous().startswith("ANY 1"), "the secondary is not synchronous"

        port = free_port()
        server_log = open(tmp_path / "gunicorn.log", "wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2", "--threads", "4"]
            + ["--bind", f"127.0.0.1:{port}", "--timeout", "60"],
            env=environment,
            cwd=ROOT,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        wait_for(lambda: urllib.request.urlopen(f"{base_url}/healthz", timeout=5).status == 200, "gunicorn")

        clients = Clients(base_url, setup)
        clients.start()
        try:
            wait_for(lambda: clients.successes_since(0) >= BOOKED_BEFORE_KILL, "bookings before the kill", 60)
            formation.nodes[0].kill()
            killed = time.monotonic()  # from here on, node1 is gone: any 201 comes from node2
            # node1's walsender and backends may still commit for a moment (a SIGKILLed postmaster's children
            # notice its death at their next wait): bookings of that moment are on node2 too, as the
            # synchronous commit waited for it. The aim counts from the kill to node2's first booking.
            new_primary = formation.nodes[1]
            wait_for(
                lambda: sql(new_primary.port, "SELECT pg_is_in_recovery()").strip() == "f",
                "node2 promoted",
                RECOVERY_AIM_SECONDS + 30,  # bounded; the aim is asserted below
            )
            promoted = time.monotonic()
            wait_for(
                lambda: clients.successes_since(promoted) >= BOOKED_AFTER_RECOVERY, "bookings on node2", 60
            )
            recovered = min(at for at, status, _ in clients.answers if at >= promoted and status == 201)
        finally:
            clients.stop()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

        # Every answer during the switch: a success or a 503 that says when to come back.
        statuses = [status for _, status, _ in clients.answers]
        refused = [(status, retry) for _, status, retry in clients.answers if status != 201]
        assert set(statuses) <= {201, 503}, Counter(statuses)  # no 500, no client timeout, no dropped answer
        assert all(retry for _, retry in refused), "a 503 without Retry-After"
        assert recovered - killed <= RECOVERY_AIM_SECONDS, (
            f"bookings resumed after {recovered - killed:.1f} s"
        )

        # On the new primary: every booking answered 201, once, and nothing else.
        assert formation.states()["node2"][0] in ("wait_primary", "primary")
        ids = sorted(clients.booked.values())
        stored = sql(new_primary.port, "SELECT id FROM scheduling_booking ORDER BY id", DBNAME).split()
        assert [int(pk) for pk in stored] == ids
        assert len(set(ids)) == len(ids) == len(clients.booked)

        # The worker after the switch: each e-mail exactly once, and a second run sends nothing more.
        worker_environment = environment | {"DATABASE_URL": formation.url()}
        _manage(worker_environment, "run_worker", "--once")
        _manage(worker_environment, "run_worker", "--once")
        rows = sql(
            new_primary.port,
            # Reminders wait until a day before the visit: only what is due counts.
            "SELECT status, count(*) FROM notifications_outboxmessage WHERE next_attempt_at <= now() "
            "OR status <> 'pending' GROUP BY status ORDER BY status",
            DBNAME,
        )
        counts = dict(line.split("|") for line in rows.splitlines())
        sent = int(counts.pop("sent", 0))
        assert sent >= len(ids) and not counts, rows
        delivered = smtp.message_ids()
        assert sum(delivered.values()) == sent
        assert set(delivered.values()) == {1}, "an e-mail went out twice"
        # Each booking's webhook (booking.created, the endpoint's one event), once, however often retried.
        events = Counter(hook["headers"]["webhook-id"] for hook in hooks.received)
        assert set(events.values()) == {1}, "a webhook went out twice"
        hooked = sorted(json.loads(hook["body"])["data"]["booking"]["id"] for hook in hooks.received)
        assert hooked == ids
        print(
            f"\nfailover: {len(ids)} bookings, refused during the switch: {Counter(s for s, _ in refused)}, "
            f"node2 promoted {promoted - killed:.1f} s and booking {recovered - killed:.1f} s after the kill, test {time.monotonic() - started:.0f} s"
        )
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        smtp.stop()
        hooks.__exit__(None, None, None)
