"""The benchmarks of issue 13 against a generated database: `make bench` (BENCH_SCALE=small|full), or

    .venv/bin/python bench/run.py --scale small --database medbook_bench [--smoke]

It picks its subjects by querying the data (the partner with the most partnerships, the busiest physician
next week, the institution with the most bookings in the last year, a frequent name for the search), starts
the production server as `make serve` does (gunicorn, pooled connections, hashed static files, DEBUG off) on
a free port, logs in over HTTP like a browser, makes API tokens through the app's own service, and measures:

1. free-slot search (one physician, a day and a week: API and the calendar page) and "Show calendars" of
   a partner over all its institutions for a week;
2. booking create through the JSON API with 1, 8 and 32 concurrent clients, beside pgbench's built-in
   TPC-B (scale 10, its own database, the same server, right after each level: the aims' anchor), the
   sealing lag of the audit trees under that load (the worker running), and, as a diagnosis, pgbench
   replaying the SQL of one such request (bench/replay.py);
3. traffic statistics, partner-submitted statistics and a statement over a year: the page (HTTP), the
   selector (in-process) and one raw SQL query (bench/rawsql.py);
4. the partner patient search (accent-insensitive); 4b. the public free-time search of online booking
   (issue 22), logged out: sequential, and 200 concurrent anonymous browsers (each its own address through
   the trusted proxy header) counting 5xx and 429s;
5. the outbox worker (`manage.py run_worker`, 1 and 4 processes) sending to a local SMTP sink;
6. `manage.py audit_verify` over the whole log, timed.

It prints one markdown table and writes it with the machine's description to bench/results/. The database
is dirtied and tidied: the bookings, patients and outbox messages it creates are deleted afterwards, the
audit entries they wrote stay (the log is append-only; sealed into their trees, it still verifies), and so do the
sessions, desk preferences and revoked API tokens of its logins.
"""

import argparse
import http.client
import json
import math
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable
RESULTS = ROOT / "bench" / "results"
MARKER = "medbook-bench scale="
DEMO_PASSWORD = "Demo-pass-2026"

# Repetitions per scale: timed requests per latency figure, API booking creates per concurrency level,
# pgbench seconds per level, e-mails per outbox run.
PLAN = {
    "small": {
        "repeat": 60,
        "report_repeat": 15,
        "creates": {1: 60, 8: 240, 32: 480},
        "pgbench": 10,
        "mails": 400,
        "browser_requests": 5,
    },
    "full": {
        "repeat": 200,
        "report_repeat": 30,
        "creates": {1: 200, 8: 800, 32: 1600},
        "pgbench": 30,
        "mails": 4000,
        "browser_requests": 10,
    },
    "smoke": {
        "repeat": 1,
        "report_repeat": 1,
        "creates": {1: 2, 8: 8, 32: 32},
        "pgbench": 2,
        "mails": 20,
        "browser_requests": 1,
    },
}
WARMUP = 3
ONLINE_WARMUP_PER_WORKER = 20  # the public search's warm-up: requests per gunicorn worker
BENCH_AUDIT_KEY = "dGVzdHMtb25seS1hdWRpdC1zaWduaW5nLWtleS0zMmI="  # config/settings_test.py's, not secret
TPCB_SCALE = 10
TPCB_SHARE_AIM = 0.05  # booking create through the API at 8 clients: at least 5 % of TPC-B's tps
ONE_CLIENT_P95_AIM = 30  # ms
SEAL_LAG_AIM = 5.0  # s, p95
AUDIT_VERIFY_AIM = 600  # s, at full scale (25 million entries)
BROWSERS = 200  # concurrent anonymous browsers on the public free-time search (issue 22)


def database_url(name: str) -> str:
    base = os.environ.get("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
    return f"{base.rstrip('/')}/{name}"


def psql(database: str, sql: str) -> str:
    """One statement through psql (used before Django is set up)."""
    out = subprocess.run(
        ["psql", database_url(database), "-Atqc", sql], capture_output=True, text=True, check=False
    )
    return out.stdout.strip() if out.returncode == 0 else ""


def marked_scale(database: str) -> str:
    """The scale the database says it holds (a comment on the database), or ''."""
    comment = psql(
        database,
        f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{database}'",
    )
    return comment.split(MARKER, 1)[1].split()[0] if MARKER in comment else ""


def generated_scale(database: str) -> str:
    """The scale of a generated database: our marker, or else the generator's own (bench/generate.py)."""
    found = marked_scale(database)
    if found:
        return found
    try:
        sys.path.insert(0, str(ROOT))
        from bench import generate  # type: ignore[attr-defined]

        probe = getattr(generate, "database_scale", None)
        return probe(database) if probe else ""
    except Exception:  # no generator yet, or one that cannot tell
        return ""


# --- Measuring --------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Row:
    measure: str
    median: float | None = None  # ms
    p95: float | None = None  # ms
    throughput: str = ""
    queries: str = ""
    aim: str = ""
    met: str = ""
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(
            f"  {row.measure}: median {fmt(row.median)} p95 {fmt(row.p95)} {row.throughput} {row.met}",
            flush=True,
        )
        return row


def fmt(ms: float | None) -> str:
    if ms is None:
        return "–"
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


class Http:
    """One client: stdlib http.client, one connection (kept alive when the server keeps it), cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, body, seconds); a connection the server closed is opened again."""
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=sent)
                response = self.connection.getresponse()
                content = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - started
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
            return response.status, content, elapsed
        raise RuntimeError("unreachable")

    def get(self, path: str, headers: dict | None = None):
        return self.request("GET", path, headers=headers)

    def login(self, email: str, passwords: list[str]) -> str:
        """Log in like a browser: the login form's CSRF token, then the post; return the password that worked."""
        for password in passwords:
            self.cookies.clear()
            status, page, _ = self.get("/accounts/login/")
            token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if status != 200 or token is None:
                raise RuntimeError(f"the login page answered {status} without a CSRF token")
            form = urlencode(
                {
                    "csrfmiddlewaretoken": token.group(1).decode(),
                    "username": email,
                    "password": password,
                    "next": "",
                }
            ).encode()
            status, _, _ = self.request(
                "POST", "/accounts/login/", form, {"Content-Type": "application/x-www-form-urlencoded"}
            )
            if status == 302 and "sessionid" in self.cookies:
                return password
        raise RuntimeError(f"could not log in as {email} with the known passwords (set BENCH_PASSWORD)")


BUDGET_SECONDS = 30  # per latency figure: a slow page stops early, after MIN_SAMPLES at least
MIN_SAMPLES = 3
SAMPLES: dict[int, int] = {}  # id(timings) -> requested repeat, for the table's note


def timed(
    client: Http, path: str, repeat: int, headers: dict | None = None, warmup: int = WARMUP
) -> list[float]:
    """Milliseconds of `repeat` GETs after `warmup` (or fewer once BUDGET_SECONDS have passed, at least
    MIN_SAMPLES); any answer but 200 stops the run."""
    timings: list[float] = []
    started = time.monotonic()
    for n in range(warmup + repeat):
        status, body, seconds = client.get(path, headers)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
        if n >= warmup or seconds > 1:  # a request of seconds is its own warm-up
            timings.append(seconds * 1000)
        if len(timings) >= min(repeat, MIN_SAMPLES) and time.monotonic() - started > BUDGET_SECONDS:
            break
    timings = timings[:repeat]
    SAMPLES[id(timings)] = repeat
    return timings


def samples_note(timings: list[float]) -> str:
    """ "n of m samples" when the time budget cut a figure short."""
    wanted = SAMPLES.get(id(timings), len(timings))
    return f"{len(timings)} of {wanted} samples (time budget)" if len(timings) < wanted else ""


def in_process(repeat: int, call) -> list[float]:
    timings = []
    for n in range(WARMUP + repeat):
        started = time.perf_counter()
        call()
        if n >= WARMUP:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class QueuePoller(threading.Thread):
    """Once a second, the sealer's queue: how many entries wait, and the age of the oldest."""

    SQL = (
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(e.created_at)), 0) FROM audit_auditpending p"
        " JOIN audit_auditentry e ON e.id = p.entry_id"
    )

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.halt = threading.Event()
        self.samples: list[tuple[int, float]] = []

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.halt.is_set():
                count, oldest = connection.execute(self.SQL).fetchone()
                self.samples.append((int(count), float(oldest)))
                self.halt.wait(1)

    def stop(self) -> None:
        self.halt.set()
        self.join()

    @property
    def most(self) -> int:
        return max((count for count, _ in self.samples), default=0)

    def oldest_p95(self) -> float:
        return percentile([oldest for _, oldest in self.samples], 95) if self.samples else 0.0


# --- The runner -------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args) -> None:
        self.args = args
        self.plan = PLAN["smoke" if args.smoke else args.scale]
        self.database = args.database
        self.report = Report()
        self.tmp = Path(tempfile.mkdtemp(prefix="medbook-bench-"))
        self.secret = secrets.token_urlsafe(50)
        # The generator signs the trees' heads with the test suite's key (config/settings_test.py, public: the
        # data are generated); the server and the sealer must sign with the same one for audit_verify to pass.
        self.audit_key = os.environ.get("AUDIT_SIGNING_KEY") or BENCH_AUDIT_KEY
        self.server: subprocess.Popen | None = None
        self.port = 0
        self.tokens: list[tuple[object, int]] = []  # (actor, token id) to revoke
        self.passwords: list[str] = []  # known once Django is set up (the generator's module imports models)
        self.workers = int(os.environ.get("WEB_WORKERS") or (os.cpu_count() or 1) * 2 + 1)

    @staticmethod
    def _generator_password() -> str:
        """The one password of every generated user, as the generator declares it."""
        for module in ("bench.generate", "bench.gen.network"):
            try:
                found = getattr(__import__(module, fromlist=["PASSWORD"]), "PASSWORD", "")
            except Exception:  # no generator yet
                continue
            if found:
                return str(found)
        return ""

    # The environment of every process: the production settings, with what the benchmark needs.
    def env(self, **more) -> dict:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=database_url(self.database),
            SECRET_KEY=self.secret,
            AUDIT_SIGNING_KEY=self.audit_key,
            DEBUG="false",
            REQUIRE_2FA_FOR_ADMINS="false",
            LOGIN_FAILURE_DELAY_SECONDS="0",
            API_RATE_LIMIT="100000000/m",
            PATIENT_SEARCH_QUOTA_USER_HOUR="0",
            PATIENT_SEARCH_QUOTA_USER_DAY="0",
            PATIENT_SEARCH_QUOTA_PARTNERSHIP_DAY="0",
            # The browsers of the online measure come through a trusted proxy, each with its own address.
            TRUSTED_PROXIES="127.0.0.1",
            LOG_LEVEL="ERROR",
            EMAIL_FILE_PATH=str(self.tmp / "mail"),
        )
        env.update(more)
        return env

    def setup_django(self) -> None:
        os.environ.update(self.env(DATABASE_POOL="false", ALLOWED_HOSTS="testserver,127.0.0.1,localhost"))
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        self.passwords = [
            p for p in (os.environ.get("BENCH_PASSWORD"), self._generator_password(), DEMO_PASSWORD) if p
        ]

    # --- server ---
    def start_server(self) -> None:
        self.port = free_port()
        env = self.env(
            # As `make serve`: each worker with its psycopg pool (this process reads with DATABASE_POOL=false,
            # which its environment now holds: until 2026-12-08 the server inherited it, and every request
            # it answered opened a connection of its own).
            DATABASE_POOL="true",
            STATIC_MANIFEST="true",
            STATIC_ROOT=str(self.tmp / "static"),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SITE_URL=f"http://127.0.0.1:{self.port}",
        )
        # As `make serve`: the migrations first (a database generated before the newest one is brought up
        # to date; /readyz would otherwise answer 503), then the hashed static files.
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        log = open(self.tmp / "server.log", "w")  # noqa: SIM115 (kept open for the server's life)
        self.server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--access-logfile",
                str(self.tmp / "access.log"),
                "--forwarded-allow-ips",
                "127.0.0.1",
                "--graceful-timeout",
                "30",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.tmp / 'server.log'}")
            try:
                status, body, _ = Http(self.port).get("/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not become ready within 90 s")

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.server.kill()

    # --- subjects and credentials ---
    def token(self, user, organization_id: int) -> str:
        from medbook.accounts.actor import actor_for
        from medbook.accounts.tokens import api_token_create

        actor = actor_for(user, organization_id)
        token, raw = api_token_create(actor=actor, name="benchmark", days=1)
        self.tokens.append((actor, token.pk))
        return raw

    def revoke_tokens(self) -> None:
        from medbook.accounts.tokens import api_token_revoke

        for actor, pk in self.tokens:
            api_token_revoke(actor=actor, token_id=pk)

    def browser(self, user) -> Http:
        client = Http(self.port)
        used = client.login(user.email, self.passwords)
        self.passwords = [used] + [p for p in self.passwords if p != used]
        return client

    def api(self, raw: str) -> Http:
        client = Http(self.port)
        client.headers["Authorization"] = f"Bearer {raw}"
        return client

    def queries_of(
        self,
        path: str,
        *,
        user=None,
        token: str = "",
        method: str = "get",
        body: dict | None = None,
        warm: bool = True,
    ) -> int:
        """How many queries the same request makes in-process (Django's test client, same database)."""
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}") if token else Client()
        if user is not None:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        if warm:
            client.get(path)  # warm the caches as the server's are
        connection.queries_log.clear()  # a full log (9,000 entries) would count nothing
        with CaptureQueriesContext(connection) as captured:
            if method == "get":
                client.get(path)
            else:
                client.post(path, json.dumps(body), content_type="application/json")
        return len(captured)

    # --- the machine ---
    def describe(self) -> list[str]:
        from django import get_version
        from django.db import connection

        def read(path: str) -> str:
            try:
                return Path(path).read_text()
            except OSError:
                return ""

        cpu = re.search(r"model name\s*:\s*(.*)", read("/proc/cpuinfo"))
        memory = re.search(r"MemTotal:\s*(\d+)", read("/proc/meminfo"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            pg_version = cursor.fetchone()[0].split(" on ")[0]
            settings = []
            for name in (
                "shared_buffers",
                "work_mem",
                "effective_cache_size",
                "max_connections",
                "synchronous_commit",
                "fsync",
                "random_page_cost",
                "jit",
                "max_wal_size",
            ):
                cursor.execute(f"SHOW {name}")
                settings.append(f"{name}={cursor.fetchone()[0]}")
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = cursor.fetchone()[0]
            counts = []
            for label, table in (
                ("institutions", "institutions_institution"),
                ("locations", "institutions_location"),
                ("physicians", "institutions_physician"),
                ("services", "institutions_service"),
                ("partners", "partners_partner"),
                ("partnerships", "partners_partnership"),
                ("users", "accounts_user"),
                ("patients", "patients_patient"),
                ("bookings", "scheduling_booking"),
                ("audit entries", "audit_auditentry"),
                ("outbox messages", "notifications_outboxmessage"),
            ):
                try:
                    cursor.execute(f"SELECT count(*) FROM {table}")
                    counts.append(f"{cursor.fetchone()[0]:,} {label}")
                except Exception:
                    connection.rollback() if not connection.get_autocommit() else None
        gunicorn = subprocess.run(
            [str(BIN / "gunicorn"), "--version"], capture_output=True, text=True
        ).stdout.strip()
        return [
            f"- CPU: {cpu.group(1).strip() if cpu else platform.processor()}, {os.cpu_count()} cores",
            f"- Memory: {int(memory.group(1)) / 1024 / 1024:.1f} GiB" if memory else "- Memory: unknown",
            f"- Kernel: {platform.system()} {platform.release()}",
            f"- {pg_version}; {', '.join(settings)}",
            f"- Python {platform.python_version()}, Django {get_version()}, {gunicorn or 'gunicorn'} "
            f"with {self.workers} sync workers (2 × cores + 1), psycopg pool per worker",
            f"- Database `{self.database}` ({size}): {', '.join(counts)}",
            f"- Load average when the run began: {', '.join(f'{x:.2f}' for x in os.getloadavg())} "
            "(the machine may be shared: compare figures of one run, not across machines)",
        ]

    # --- 1. slot search and Show calendars ---
    def measure_slots(self) -> None:
        from django.db.models import Count

        from medbook.accounts.models import Membership
        from medbook.institutions.models import Service
        from medbook.scheduling.models import Booking, WorkingHours

        print("1. slot search and Show calendars", flush=True)
        today = date.today()
        monday = today + timedelta(days=7 - today.weekday())
        week = (monday, monday + timedelta(days=6))
        busy = (
            Booking.objects.filter(
                starts_at__date__gte=week[0], starts_at__date__lte=week[1], status__in=Booking.ACTIVE_STATUSES
            )
            .values("physician_id", "location_id", "service_id")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        if busy is None:  # nothing booked next week: any physician with working hours
            hours = WorkingHours.objects.order_by("physician_id").first()
            service = Service.objects.filter(
                physicians=hours.physician_id, locations=hours.location_id
            ).first()
            busy = {
                "physician_id": hours.physician_id,
                "location_id": hours.location_id,
                "service_id": service.pk,
                "n": 0,
            }
        day = (
            Booking.objects.filter(
                physician_id=busy["physician_id"], starts_at__date__gte=week[0], starts_at__date__lte=week[1]
            )
            .values_list("starts_at__date", flat=True)
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        ) or week[0]
        booking = (
            Booking.objects.filter(physician_id=busy["physician_id"]).select_related("institution").first()
        )
        institution_id = booking.institution_id if booking else None
        staff = (
            Membership.objects.filter(
                organization_id=institution_id, is_active=True, invited_at__isnull=True, user__is_active=True
            )
            .select_related("user")
            .order_by("role")
            .first()
        )
        self.report.subjects.append(
            f"Slot search: physician {busy['physician_id']} (location {busy['location_id']}, service "
            f"{busy['service_id']}, {busy['n']} bookings next week), day {day}, week of {monday}, as {staff.user.email}"
        )
        token = self.token(staff.user, institution_id)
        api = self.api(token)
        where = {
            "location_id": busy["location_id"],
            "physician_id": busy["physician_id"],
            "service_id": busy["service_id"],
        }
        repeat = self.plan["repeat"]
        for label, first, last, aim in (
            ("Slot search, one physician, one day (API)", day, day, 20),
            ("Slot search, one physician, one week (API)", week[0], week[1], 50),
        ):
            path = "/api/v1/slots?" + urlencode(
                {**where, "date_from": first, "date_until": last, "limit": 100}
            )
            timings = timed(api, path, repeat)
            p95 = percentile(timings, 95)
            self.report.add(
                Row(
                    label,
                    statistics.median(timings),
                    p95,
                    queries=str(self.queries_of(path, token=token)),
                    aim=f"p95 < {aim} ms",
                    met=verdict(p95 < aim),
                    note=samples_note(timings),
                )
            )
        browser = self.browser(staff.user)
        path = "/calendar/?" + urlencode(
            {
                "location": busy["location_id"],
                "physician": busy["physician_id"],
                "service": busy["service_id"],
                "week": monday,
            }
        )
        timings = timed(browser, path, repeat)
        p95 = percentile(timings, 95)
        self.report.add(
            Row(
                "Calendar, one physician, one week (page)",
                statistics.median(timings),
                p95,
                queries=str(self.queries_of(path, user=staff.user)),
                aim="p95 < 50 ms",
                met=verdict(p95 < 50),
                note=samples_note(timings),
            )
        )
        # "Show calendars": the partner with the most partnerships, every calendar of every institution.
        partner_user, partner_id, partnerships = self.partner_booker()
        from medbook.accounts.actor import actor_for
        from medbook.partners.offers import bookable_offers

        calendars = len(bookable_offers(actor=actor_for(partner_user, partner_id)))
        self.report.subjects.append(
            f"Show calendars: partner {partner_id} ({partnerships} active partnerships, {calendars} calendars), "
            f"as {partner_user.email}"
        )
        browser = self.browser(partner_user)
        path = "/partner/book/?" + urlencode({"show": "1", "week": monday})
        timings = timed(browser, path, repeat)
        p95 = percentile(timings, 95)
        self.report.add(
            Row(
                f'"Show calendars", partner, its {calendars} calendars (the first page), one week (page)',
                statistics.median(timings),
                p95,
                queries=str(self.queries_of(path, user=partner_user, warm=statistics.median(timings) < 1000)),
                aim="p95 < 150 ms",
                met=verdict(p95 < 150),
                note=samples_note(timings),
            )
        )

    def partner_booker(self, *, patient_data: bool = False):
        """(user, partner id, active partnerships) of the partner with the most active partnerships (with
        patient-data access, of the institution with the most patients) and a user of it who may book."""
        from django.db.models import Count, Q

        from medbook.accounts.models import Membership
        from medbook.partners.models import Partnership

        active = Partnership.objects.filter(status=Partnership.Status.ACTIVE)
        bookers = Membership.objects.filter(
            Q(can_book=True) | Q(role="partner_admin"),
            is_active=True,
            invited_at__isnull=True,
            user__is_active=True,
        )
        if patient_data:
            ranked = (
                active.filter(patient_data_access=True, partner__memberships__in=bookers)
                .annotate(patients=Count("institution__patients", distinct=True))
                .order_by("-patients", "pk")
                .values_list("partner_id", "pk", "institution_id", "patients")
            )
        else:
            ranked = (
                active.filter(partner__memberships__in=bookers)
                .values("partner_id")
                .annotate(n=Count("pk", distinct=True))
                .order_by("-n", "partner_id")
                .values_list("partner_id", "n")
            )
        top = ranked.first()
        if top is None:
            raise RuntimeError("no active partnership with a user who may book")
        member = (
            bookers.filter(organization_id=top[0]).select_related("user").order_by("-can_book", "pk").first()
        )
        return (member.user, *top)

    # --- 2. booking create, API and pgbench ---
    def free_slots(self, actor, wanted: int) -> list:
        """Future free slots of the partner's calendars, none overlapping another of the same physician."""
        from medbook.partners.offers import bookable_offers
        from medbook.scheduling.selectors import available_slots

        offers = bookable_offers(actor=actor)
        found, taken = [], {}
        first = date.today() + timedelta(days=1)
        for span in range(0, 56, 14):
            for offer in offers:
                slots = available_slots(
                    physician=offer.physician,
                    location=offer.location,
                    service=offer.service,
                    date_from=first + timedelta(days=span),
                    date_until=first + timedelta(days=span + 13),
                    partner=True,
                )
                mine = taken.setdefault(offer.physician.pk, [])
                for slot in slots:
                    if any(s < slot.ends_at and slot.starts_at < e for s, e in mine):
                        continue
                    mine.append((slot.starts_at, slot.ends_at))
                    found.append((offer, slot))
                    if len(found) >= wanted:
                        return found
        return found

    def measure_booking(self) -> None:
        import random

        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from medbook.accounts.actor import actor_for
        from medbook.audit.chain import canonical
        from medbook.audit.models import AuditEntry
        from medbook.notifications.models import OutboxMessage
        from medbook.patients.models import Patient
        from medbook.scheduling.models import Booking

        print("2. booking create: API under gunicorn, and pgbench", flush=True)
        user, partner_id, _ = self.partner_booker()
        actor = actor_for(user, partner_id)
        levels = self.plan["creates"]
        slots = self.free_slots(actor, sum(levels.values()) + 1)
        if len(slots) < sum(levels.values()) + 1:
            factor = (len(slots) - 1) / sum(levels.values())
            levels = {c: max(c, int(n * factor)) for c, n in levels.items()}
            self.report.notes.append(
                f"Only {len(slots)} free slots for the partner: fewer creates per level."
            )
        random.Random(13).shuffle(slots)
        before = {
            "booking": Booking.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
            "patient": Patient.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
            "outbox": OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
            "audit": AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        }
        raw = self.token(user, partner_id)

        def body(offer, slot, n: int) -> dict:
            return {
                "location_id": offer.location.pk,
                "physician_id": offer.physician.pk,
                "service_id": offer.service.pk,
                "starts_at": slot.starts_at.isoformat(),
                "new_patient": {"full_name": f"Bench Patient {n}"},
            }

        try:
            # The SQL of one create, in-process through the same view (the audit entries it writes, for the chain).
            offer, slot = slots.pop()
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as captured:
                answer = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").post(
                    "/api/v1/bookings", json.dumps(body(offer, slot, 0)), content_type="application/json"
                )
            if answer.status_code != 201:
                raise RuntimeError(
                    f"the captured booking create answered {answer.status_code}: {answer.content[:300]!r}"
                )
            created = answer.json()
            queries = [q["sql"] for q in captured.captured_queries]
            self.report.subjects.append(
                f"Booking create: partner {partner_id} as {user.email}, new patient each time, "
                f"{len(slots)} free slots over {len({o.physician.pk for o, _ in slots})} physicians"
            )
            # The API under gunicorn: `clients` threads, each with its own connection and its own slots, while
            # the worker seals (as `make serve` runs it), and right after each level pgbench's built-in TPC-B
            # for the plan's seconds on the same server: the anchor of the aims (issue 20).
            self.tpcb_init()
            cursor = 0
            api_rows, tpcb_rows, lag_rows = {}, {}, {}
            sealer = self.start_sealer()
            try:
                self.queue_drained()  # the backlog written before the load (logins, tokens) is not the load's
                for clients, total in levels.items():
                    mine = slots[cursor : cursor + total]
                    cursor += total
                    shares = [mine[n::clients] for n in range(clients)]
                    latencies: list[float] = []
                    statuses: Counter = Counter()
                    lock = threading.Lock()

                    def work(
                        share, clients=clients, latencies=latencies, statuses=statuses, lock=lock
                    ) -> None:
                        client = self.api(raw)
                        for n, (offer, slot) in enumerate(share):
                            payload = json.dumps(body(offer, slot, n)).encode()
                            status, content, seconds = client.request(
                                "POST", "/api/v1/bookings", payload, {"Content-Type": "application/json"}
                            )
                            with lock:
                                statuses[status] += 1
                                latencies.append(seconds * 1000)

                    first_entry = self.last_audit_id()
                    poller = QueuePoller(database_url(self.database))
                    poller.start()
                    threads = [threading.Thread(target=work, args=(share,)) for share in shares]
                    started = time.perf_counter()
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                    wall = time.perf_counter() - started
                    poller.stop()
                    done = statuses.get(201, 0)
                    api_rows[clients] = (done / wall, latencies, statuses)
                    lag_rows[clients] = (first_entry, self.last_audit_id(), poller)
                    tpcb_rows[clients] = self.tpcb(clients)
                lags = {
                    clients: self.seal_lags(first, last) for clients, (first, last, _) in lag_rows.items()
                }
            finally:
                self.stop_sealer(sealer)
            # pgbench replaying the captured SQL, same database, same machine.
            from bench.replay import build_script

            booking = Booking.objects.select_related("service").get(pk=created["id"])
            entries = list(
                AuditEntry.objects.filter(pk__gt=before["audit"], request_id=_request_id(queries)).order_by(
                    "pk"
                )
            )
            script = build_script(
                queries=queries,
                patient_id=created["patient"]["id"],
                starts_at=booking.starts_at,
                ends_at=booking.ends_at,
                duration_minutes=booking.service.duration_minutes,
                audit_entries=entries,
                canonical=lambda e: canonical(e).decode(),
            )
            script_path = self.tmp / "booking_create.sql"
            script_path.write_text(script)
            shutil.copy(
                script_path, RESULTS / "booking_create.pgbench.sql"
            ) if self.args.keep_script else None
            pg_rows = {}
            for run, clients in enumerate(levels, start=1):
                pg_rows[clients] = self.pgbench(script_path, clients, run)
            eight = api_rows.get(8, (0.0,))[0]
            for clients in levels:
                tps, latencies, statuses = api_rows[clients]
                tpcb_tps, tpcb_p95, tpcb_error = tpcb_rows[clients]
                pg_tps, pg_p95, pg_error = pg_rows[clients]
                refused = sum(n for s, n in statuses.items() if s != 201)
                share = tps / tpcb_tps if tpcb_tps else 0
                aim, met = f"{share:.1%} of TPC-B", ""
                if clients == 1:
                    p95 = percentile(latencies, 95)
                    aim, met = f"p95 < {ONE_CLIENT_P95_AIM} ms", verdict(p95 < ONE_CLIENT_P95_AIM)
                elif clients == 8:
                    aim, met = f"≥ {TPCB_SHARE_AIM:.0%} of TPC-B", verdict(share >= TPCB_SHARE_AIM)
                elif clients == 32 and eight:
                    aim, met = "not below 8 clients'", verdict(tps >= eight)
                self.report.add(
                    Row(
                        f"Booking create (API), {clients} concurrent client{'s' if clients > 1 else ''}",
                        statistics.median(latencies),
                        percentile(latencies, 95),
                        throughput=f"{tps:.0f}/s"
                        + (f" ({refused} refused: {dict(statuses)})" if refused else ""),
                        queries=str(len(queries)),
                        aim=aim,
                        met=met
                        + (f" ({share:.1%} of TPC-B)" if tpcb_tps and clients != 8 else "")
                        + (f" ({share:.1%})" if tpcb_tps and clients == 8 else ""),
                    )
                )
                self.report.add(
                    Row(
                        f"  pgbench built-in TPC-B (scale {TPCB_SCALE}), -c {clients} -j {clients}, same minute",
                        None,
                        tpcb_p95,
                        throughput=f"{tpcb_tps:.0f} tps" if tpcb_tps else f"failed: {tpcb_error}",
                    )
                )
                lag, unsealed = lags[clients]
                poller = lag_rows[clients][2]
                self.report.add(
                    Row(
                        f"  sealing lag (signed head − entry's time), {clients} client{'s' if clients > 1 else ''}",
                        statistics.median(lag) * 1000 if lag else None,
                        percentile(lag, 95) * 1000 if lag else None,
                        throughput=f"{len(lag)} entries",
                        aim=f"p95 < {SEAL_LAG_AIM:.0f} s",
                        met=verdict(bool(lag) and percentile(lag, 95) < SEAL_LAG_AIM and not unsealed),
                        note=(
                            f"queue polled each second: at most {poller.most} pending, oldest pending p95 "
                            f"{poller.oldest_p95():.1f} s"
                            + (
                                f"; {unsealed} entries not covered by a signed head after the wait"
                                if unsealed
                                else ""
                            )
                        ),
                    )
                )
                self.report.add(
                    Row(
                        f"  diagnosis: pgbench replaying the request's SQL, -c {clients} -j {min(clients, 2)}",
                        None,
                        pg_p95,
                        throughput=f"{pg_tps:.0f} tps" if pg_tps else f"failed: {pg_error}",
                        queries=str(len(queries)),
                    )
                )
        finally:
            self.tidy_bookings(before)

    def pgbench(self, script: Path, clients: int, run: int) -> tuple[float, float | None, str]:
        """(tps, p95 ms, error) of the script for the plan's seconds."""
        logs = self.tmp / f"pgbench-{clients}"
        logs.mkdir(exist_ok=True)
        command = [
            "pgbench", "-n", "-M", "simple", "-f", str(script), "-c", str(clients), "-j", str(min(clients, 2)),
            "-T", str(self.plan["pgbench"]), "-D", f"bmk_run={run}", "-D", "bmk_n=0",
            "-l", "--log-prefix", str(logs / "log"), database_url(self.database),
        ]  # fmt: skip
        return self.pgbench_result(
            subprocess.run(command, capture_output=True, text=True, cwd=self.tmp), logs
        )

    @staticmethod
    def pgbench_result(out: subprocess.CompletedProcess, logs: Path) -> tuple[float, float | None, str]:
        tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout)
        latencies = []
        for log in logs.glob("log*"):
            for line in log.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[2].isdigit():
                    latencies.append(int(parts[2]) / 1000)
        error = "" if out.returncode == 0 else (out.stderr.strip().splitlines() or ["?"])[-1][:200]
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
        return (float(tps.group(1)) if tps and out.returncode == 0 else 0.0,
                percentile(latencies, 95) if latencies else None, error)  # fmt: skip

    # pgbench's built-in TPC-B, the anchor of the booking aims: a database of its own on the same server.
    @property
    def tpcb_database(self) -> str:
        return f"{self.database}_tpcb"

    def tpcb_init(self) -> None:
        """`pgbench -i -s 10` into <database>_tpcb, unless it already holds that scale."""
        import psycopg

        name = self.tpcb_database
        with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                connection.execute(f'CREATE DATABASE "{name}"')
        if psql(name, "SELECT count(*) FROM pgbench_branches") == str(TPCB_SCALE):
            return
        print(f"  pgbench -i -s {TPCB_SCALE} into {name}", flush=True)
        subprocess.run(
            ["pgbench", "-i", "-q", "-s", str(TPCB_SCALE), database_url(name)],
            capture_output=True,
            check=True,
        )

    def tpcb(self, clients: int) -> tuple[float, float | None, str]:
        """(tps, p95 ms, error) of `pgbench -b tpcb-like -c N -j N -T <the plan's seconds>`."""
        logs = self.tmp / f"tpcb-{clients}"
        logs.mkdir(exist_ok=True)
        command = [
            "pgbench", "-b", "tpcb-like", "-c", str(clients), "-j", str(clients), "-T", str(self.plan["pgbench"]),
            "-l", "--log-prefix", str(logs / "log"), database_url(self.tpcb_database),
        ]  # fmt: skip
        return self.pgbench_result(
            subprocess.run(command, capture_output=True, text=True, cwd=self.tmp), logs
        )

    # The sealer under the booking load: the worker as `make serve` runs it, and the lag it leaves.
    def start_sealer(self) -> subprocess.Popen:
        log = self.tmp / "sealer.log"
        with log.open("w") as out:  # a file, not a pipe: a pipe nobody reads would stop the worker once full
            worker = subprocess.Popen(
                [PYTHON, "manage.py", "run_worker"],
                cwd=ROOT,
                env=self.env(DATABASE_POOL="false", LOG_LEVEL="INFO"),
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        deadline = time.monotonic() + 60
        while (
            "worker running" not in log.read_text() and time.monotonic() < deadline
        ):  # it says so once it polls
            if worker.poll() is not None:
                raise RuntimeError(f"the worker stopped: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        return worker

    def stop_sealer(self, worker: subprocess.Popen) -> None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        text = (self.tmp / "sealer.log").read_text()
        if "Traceback" in text or "ERROR" in text:
            print(f"the worker's log ({self.tmp / 'sealer.log'}):\n{text[-3000:]}", file=sys.stderr)

    @staticmethod
    def queue_drained(wait: float = 120) -> None:
        """Wait (up to `wait` seconds) until the worker has sealed every queued entry."""
        from medbook.audit.models import AuditPending

        deadline = time.monotonic() + wait
        while AuditPending.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)

    @staticmethod
    def last_audit_id() -> int:
        from medbook.audit.models import AuditEntry

        return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def seal_lags(self, first: int, last: int, wait: float = 30) -> tuple[list[float], int]:
        """Seconds from each entry's time (ids first < id <= last) to the first signed head of its tree that
        covers its leaf, and how many no head covered after waiting up to `wait` seconds for the worker."""
        from django.db import connection

        sql = """
            SELECT extract(epoch FROM (SELECT min(h.signed_at) FROM audit_audittreehead h
                                       WHERE h.tree_id = l.tree_id AND h.size > l.index) - e.created_at)
            FROM audit_auditentry e LEFT JOIN audit_auditleaf l ON l.entry_id = e.id
            WHERE e.id > %s AND e.id <= %s"""
        deadline = time.monotonic() + wait
        while True:
            with connection.cursor() as cursor:
                cursor.execute(sql, [first, last])
                found = [row[0] for row in cursor.fetchall()]
            lags = sorted(float(value) for value in found if value is not None)
            if len(lags) == len(found) or time.monotonic() > deadline:
                return lags, len(found) - len(lags)
            time.sleep(0.5)

    def tidy_bookings(self, before: dict) -> None:
        """Delete what measure 2 created: the bookings (API and pgbench), their new patients, the e-mails."""
        from django.db import connection

        from bench.replay import cleanup_sql
        from medbook.notifications.models import OutboxMessage
        from medbook.patients.models import Patient
        from medbook.scheduling.models import Booking

        with connection.cursor() as cursor:
            cursor.execute(cleanup_sql())
        Booking.objects.filter(
            pk__gt=before["booking"], patient__full_name__startswith="Bench Patient"
        ).delete()
        Patient.objects.filter(
            pk__gt=before["patient"], full_name__startswith="Bench Patient", bookings__isnull=True
        ).delete()
        OutboxMessage.objects.filter(pk__gt=before["outbox"]).delete()

    # --- 6. audit_verify at this scale ---
    def measure_audit_verify(self) -> None:
        print("6. audit_verify over the whole log", flush=True)
        env = self.env(DATABASE_POOL="false")
        for _ in range(2):  # seal what the run wrote, then sign the heads the once-a-second rule left
            subprocess.run(
                [PYTHON, "manage.py", "audit_seal"], cwd=ROOT, env=env, capture_output=True, check=True
            )
            time.sleep(1.1)
        entries = self.last_audit_id()
        started = time.perf_counter()
        out = subprocess.run(
            [PYTHON, "manage.py", "audit_verify"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        seconds = time.perf_counter() - started
        said = (out.stdout.strip() or out.stderr.strip()).splitlines() or ["?"]
        full = self.args.scale == "full" and not self.args.smoke
        self.report.add(
            Row(
                f"audit_verify, {entries:,} entries",
                seconds * 1000,
                None,
                throughput=f"{entries / seconds:,.0f} entries/s",
                aim=f"≤ {AUDIT_VERIFY_AIM // 60} min at full scale",
                met=(
                    "**failed**"
                    if out.returncode
                    else verdict(seconds <= AUDIT_VERIFY_AIM)
                    if full
                    else "(not full)"
                ),
                note=said[-1][:300],
            )
        )

    # --- 3. reports ---
    def measure_reports(self) -> None:
        from django.db import connection
        from django.db.models import Count
        from django.utils import timezone

        from bench import rawsql
        from medbook.accounts.actor import actor_for
        from medbook.accounts.models import Membership, Organization
        from medbook.institutions.models import Institution
        from medbook.reports import selectors, statements
        from medbook.scheduling.models import Booking

        print("3. reports over a year: page, selector, raw SQL", flush=True)
        now = timezone.now()
        top = (
            Booking.objects.filter(starts_at__gte=now - timedelta(days=365), starts_at__lt=now)
            .values("institution_id")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        institution = Institution.objects.get(pk=top["institution_id"])
        admin = (
            Membership.objects.filter(
                organization_id=institution.pk,
                role="admin",
                is_active=True,
                invited_at__isnull=True,
                user__is_active=True,
            )
            .select_related("user")
            .first()
        )
        today = timezone.localdate(timezone=__import__("zoneinfo").ZoneInfo(institution.time_zone))
        period = selectors.Period(today - timedelta(days=364), today, institution.time_zone)
        start, end = period.bounds()
        partner_row = (
            Booking.objects.filter(
                institution=institution, partner__isnull=False, starts_at__gte=start, starts_at__lt=end
            )
            .values("partner_id")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        partner = Organization.objects.get(pk=partner_row["partner_id"])
        in_year = Booking.objects.filter(
            institution=institution, starts_at__gte=start, starts_at__lt=end
        ).count()
        self.report.subjects.append(
            f"Reports: {institution.name} (id {institution.pk}, {in_year:,} bookings from {period.date_from} to "
            f"{period.date_until}), statement of partner {partner.pk} ({partner_row['n']:,} bookings), as {admin.user.email}"
        )
        actor = actor_for(admin.user, institution.pk)
        browser = self.browser(admin.user)
        query = urlencode({"date_from": period.date_from, "date_until": period.date_until})
        per_week = period.days > selectors.DAILY_UP_TO_DAYS
        earns = institution.no_show_earns_commission

        def first_page():
            bookings = selectors.partner_bookings(actor=actor, period=period)
            return list(bookings[:50]), bookings.count()

        cases = [
            (
                "Traffic statistics",
                f"/reports/traffic/?{query}",
                lambda: selectors.traffic_report(actor=actor, period=period),
                rawsql.traffic(institution_id=institution.pk, start=start, end=end, time_zone=institution.time_zone,
                               no_show_earns=earns, per_week=per_week),
            ),
            (
                "Partner-submitted statistics (first page)",
                f"/reports/partner-bookings/?{query}",
                first_page,
                rawsql.partner_bookings(institution_id=institution.pk, start=start, end=end, no_show_earns=earns),
            ),
            (
                "Statement of one partner (CSV)",
                f"/reports/settlement/{partner.pk}.csv?{query}",
                lambda: statements.statement(institution=institution, partner=partner, period=period),
                rawsql.statement(institution_id=institution.pk, partner_id=partner.pk, start=start, end=end),
            ),
        ]  # fmt: skip
        repeat = self.plan["report_repeat"]
        for label, path, selector, (sql, params) in cases:

            def raw_query(sql=sql, params=params):
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    return cursor.fetchall()

            raw_ms = in_process(repeat, raw_query)
            selector_ms = in_process(repeat, selector)
            page_ms = timed(browser, path, repeat)
            raw_median = statistics.median(raw_ms)
            from django.test.utils import CaptureQueriesContext

            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as captured:
                selector()
            for kind, timings, queries in (
                ("page (HTTP)", page_ms, str(self.queries_of(path, user=admin.user))),
                ("selector (in-process)", selector_ms, str(len(captured))),
            ):
                ratio = statistics.median(timings) / raw_median
                self.report.add(
                    Row(f"{label}, a year, {kind}", statistics.median(timings), percentile(timings, 95),
                        queries=queries, aim="≤ 2× raw SQL (medians)", met=f"{verdict(ratio <= 2)} ({ratio:.1f}×)",
                        note=samples_note(timings))
                )  # fmt: skip
            self.report.add(
                Row(f"{label}, a year, raw SQL (one query)", raw_median, percentile(raw_ms, 95), queries="1")
            )

    # --- 4. patient search ---
    def measure_patient_search(self) -> None:
        from django.db import connection

        print("4. partner patient search", flush=True)
        user, partner_id, partnership_id, institution_id, patients = self.partner_booker(patient_data=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT w, count(*) FROM (SELECT unnest(string_to_array(lower(full_name), ' ')) AS w "
                "FROM (SELECT full_name FROM patients_patient WHERE institution_id = %s LIMIT 50000) s) t "
                "WHERE length(w) >= 4 AND w !~ '[0-9.]' GROUP BY w ORDER BY 2 DESC LIMIT 30",
                [institution_id],
            )
            words = cursor.fetchall()
            cursor.execute("SELECT count(*) FROM patients_patient")
            everyone = cursor.fetchone()[0]
        accented = [w for w, _ in words if fold(w) != w]
        word = (accented or [w for w, _ in words] or ["nagy"])[0]
        query = fold(word)
        self.report.subjects.append(
            f"Patient search: partner {partner_id} at institution {institution_id} ({patients:,} of its patients, "
            f"{everyone:,} in all), query {query!r} (for {word!r}), as {user.email}"
        )
        repeat = self.plan["repeat"]
        token = self.token(user, partner_id)
        api_path = "/api/v1/patients?" + urlencode({"q": query, "institution_id": institution_id})
        page_path = "/partner/book/patients/?" + urlencode({"partnership": partnership_id, "q": query})
        browser = self.browser(user)
        for label, client, path, count in (
            (
                "Partner patient search (API)",
                self.api(token),
                api_path,
                lambda: self.queries_of(api_path, token=token),
            ),
            (
                "Partner patient search (page fragment)",
                browser,
                page_path,
                lambda: self.queries_of(page_path, user=user),
            ),
        ):
            timings = timed(client, path, repeat)
            p95 = percentile(timings, 95)
            self.report.add(
                Row(f"{label}, {everyone:,} patients", statistics.median(timings), p95, queries=str(count()),
                    aim="p95 < 30 ms", met=verdict(p95 < 30), note=samples_note(timings))
            )  # fmt: skip

    # --- 4b. the public free-time search (issue 22) ---
    def measure_online(self) -> None:
        from django.db.models import Count
        from django.utils import timezone

        from medbook.online import selectors as online_selectors
        from medbook.scheduling import online
        from medbook.scheduling.models import Booking, TrafficChannel

        print("4b. public free-time search (online booking)", flush=True)
        now = timezone.now()
        offered = TrafficChannel.objects.filter(
            code=online.ONLINE, is_active=True, institution__online_booking=True
        ).values("services")
        # The service offered online whose next two weeks are the most booked: the most to search through.
        busiest = (
            Booking.objects.filter(
                service_id__in=offered,
                status__in=Booking.ACTIVE_STATUSES,
                starts_at__gte=now,
                starts_at__lt=now + timedelta(days=online_selectors.SEARCH_DAYS),
            )
            .values("institution_id", "service_id")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        if busiest is None:
            raise RuntimeError("no institution offers a service online (bench/gen/network.py online_column)")
        service = online_selectors.online_service(busiest["institution_id"], busiest["service_id"])
        institution = service.institution
        calendars = online_selectors.online_calendars(institution, service)
        path = f"/book/{institution.pk}/{service.pk}/"
        self.report.subjects.append(
            f"Public free-time search: institution {institution.pk} ({online.online_institutions().count()} take "
            f"online bookings), service {service.pk} ({len(calendars)} calendars, {busiest['n']} bookings in the "
            f"next {online_selectors.SEARCH_DAYS} days), `{path}`, logged out"
        )
        repeat = self.plan["repeat"]
        # Warm every worker, not only the first few requests' (which worker answers is the kernel's choice):
        # each loads its templates and compiles its queries once, and its pooled connections prepare them.
        timings = timed(Http(self.port), path, repeat, warmup=ONLINE_WARMUP_PER_WORKER * self.workers)
        p95 = percentile(timings, 95)
        self.report.add(
            Row("Public free-time search, the earliest free times of a service (page, logged out)",
                statistics.median(timings), p95, queries=str(self.queries_of(path)), aim="p95 < 30 ms",
                met=verdict(p95 < 30), note=samples_note(timings))
        )  # fmt: skip
        each = self.plan["browser_requests"]
        self.report.notes.append(
            f"Public free-time search: logged out, no cookie; then {BROWSERS} threads at once, each its own "
            "connection and address (X-Forwarded-For 198.18.x.y, RFC 2544's benchmarking range, trusted from "
            f"127.0.0.1 by TRUSTED_PROXIES), {each} GETs each; the search is not rate-limited (the online "
            "limits count booking requests), so no limit is lifted for it. Latency under that load includes "
            "the wait for one of the sync workers."
        )
        statuses, latencies, seconds = self.browsers(path, BROWSERS, each)
        failed = sum(1 for s in statuses if s == 0 or s >= 500)
        limited = statuses.count(429)
        others = len(statuses) - statuses.count(200) - failed - limited
        self.report.add(
            Row(f"Public free-time search, {BROWSERS} concurrent anonymous browsers × {each} requests",
                statistics.median(latencies), percentile(latencies, 95),
                throughput=f"{len(statuses) / seconds:.0f} pages/s", aim="no 5xx",
                met=verdict(failed == 0),
                note=f"{failed} 5xx or dropped, {limited} × 429" + (f", {others} other" if others else ""))
        )  # fmt: skip

    def browsers(self, path: str, count: int, each: int) -> tuple[list[int], list[float], float]:
        """`count` anonymous browsers at once, each on its own connection and address (X-Forwarded-For from
        a trusted proxy, RFC 2544's benchmarking range), `each` GETs of `path` one after another: every status
        (0 for a dropped connection), the latencies in ms, the wall time in s."""
        statuses: list[int] = []
        latencies: list[float] = []
        lock = threading.Lock()
        gate = threading.Barrier(count + 1)

        def browse(n: int) -> None:
            client = Http(self.port)
            client.headers["X-Forwarded-For"] = f"198.18.{n // 250}.{n % 250 + 1}"
            gate.wait()
            for _ in range(each):
                try:
                    status, _, elapsed = client.get(path)
                except (OSError, http.client.HTTPException):
                    status, elapsed = 0, 0.0
                with lock:
                    statuses.append(status)
                    if status:
                        latencies.append(elapsed * 1000)

        threads = [threading.Thread(target=browse, args=(n,), daemon=True) for n in range(count)]
        for thread in threads:
            thread.start()
        gate.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        return statuses, latencies or [0.0], time.perf_counter() - started

    # --- 5. outbox worker ---
    def measure_outbox(self) -> None:
        from django.db import transaction
        from django.utils import timezone

        from medbook.notifications.models import OutboxMessage
        from medbook.notifications.services import outbox_write
        from medbook.notifications.tests.smtp import SmtpServer

        print("5. outbox worker to an SMTP sink", flush=True)
        count = self.plan["mails"]
        for processes in (1, 4):
            sink = SmtpServer()
            sink.start()
            env = self.env(
                EMAIL_URL=f"smtp://127.0.0.1:{sink.port}", OUTBOX_POLL_SECONDS="0.05", DATABASE_POOL="false",
                DIGEST_POLL_SECONDS="3600",
            )  # fmt: skip
            workers = [
                subprocess.Popen(
                    [PYTHON, "manage.py", "run_worker", "--sleep", "0.05"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )  # fmt: skip
                for _ in range(processes)
            ]
            try:
                for worker in workers:  # each says so once it polls
                    worker.stdout.readline()
                # The backlog of due messages first (the workers send it to the sink), so only ours are timed.
                backlog = OutboxMessage.objects.filter(
                    status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING],
                    next_attempt_at__lte=timezone.now(),
                )
                deadline = time.perf_counter() + 600
                while backlog.exists() and time.perf_counter() < deadline:
                    time.sleep(0.05)
                received_before = len(sink.messages)
                with transaction.atomic():
                    for n in range(count):
                        outbox_write(
                            to=f"bench{n}@example.test",
                            subject=f"Bench {n}",
                            text_body="Your booking is confirmed.",
                            html_body="<p>Your booking is confirmed.</p>",
                            kind="bench",
                        )
                started = time.perf_counter()
                deadline = started + 600
                bench = OutboxMessage.objects.filter(kind="bench")
                while bench.exclude(status=OutboxMessage.Status.SENT).exists():
                    if time.perf_counter() > deadline or any(w.poll() is not None for w in workers):
                        raise RuntimeError("the outbox workers stopped or took over 10 minutes")
                    time.sleep(0.02)
                seconds = time.perf_counter() - started
                received = sink.message_ids()
                bench_ids = {m.message_id for m in bench}
                once = all(received.get(m) == 1 for m in bench_ids)
                others = len(sink.messages) - received_before - len(bench_ids)
            finally:
                for worker in workers:
                    worker.terminate()
                for worker in workers:
                    try:
                        worker.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        worker.kill()
                sink.stop()
                OutboxMessage.objects.filter(kind="bench").delete()
            self.report.add(
                Row(
                    f"Outbox worker, {processes} process{'es' if processes > 1 else ''}, {count} e-mails",
                    None,
                    None,
                    throughput=f"{count / seconds:.0f} e-mails/s",
                    met="each exactly once" if once else "**duplicates or losses**",
                    note=f"{others} other due messages sent too" if others else "",
                )
            )

    # --- all ---
    def run(self) -> Path:
        self.setup_django()
        RESULTS.mkdir(parents=True, exist_ok=True)
        machine = self.describe()
        print("\n".join(machine), flush=True)
        self.start_server()
        try:
            for measure in (
                self.measure_slots,
                self.measure_booking,
                self.measure_reports,
                self.measure_patient_search,
                self.measure_online,
                self.measure_outbox,
                self.measure_audit_verify,
            ):
                if self.args.only and measure.__name__.removeprefix("measure_") not in self.args.only:
                    continue
                try:
                    measure()
                except Exception as error:  # one measure failing still leaves the others' figures
                    import traceback

                    traceback.print_exc()
                    self.report.add(
                        Row(f"{measure.__name__}: FAILED", met="**failed**", note=str(error)[:300])
                    )
        finally:
            self.stop_server()
            self.revoke_tokens()
        return self.write(machine)

    def write(self, machine: list[str]) -> Path:
        scale = "smoke" if self.args.smoke else self.args.scale
        header = (
            "| measure | median | p95 | throughput | queries | aim | met |\n|---|---:|---:|---:|---:|---|---|"
        )
        lines = [
            f"| {r.measure}{' — ' + r.note if r.note else ''} | {fmt(r.median)} | {fmt(r.p95)} | {r.throughput or '–'} "
            f"| {r.queries or '–'} | {r.aim or '–'} | {r.met or '–'} |"
            for r in self.report.rows
        ]
        table = header + "\n" + "\n".join(lines)
        print("\n" + table, flush=True)
        missed = [r.measure.strip() for r in self.report.rows if "missed" in r.met or "failed" in r.met]
        text = "\n".join(
            [
                f"# Benchmarks, {scale} scale, {date.today().isoformat()}",
                "",
                f"`bench/run.py --scale {self.args.scale}{' --smoke' if self.args.smoke else ''} --database {self.database}`, "
                f"{datetime.now().strftime('%Y-%m-%d %H:%M')}. Latencies are wall-clock milliseconds per request "
                f"through gunicorn over loopback (the client's own time included), after {WARMUP} warm-up requests (the public search: {ONLINE_WARMUP_PER_WORKER} per worker); "
                "p95 is the nearest-rank 95th percentile; queries are counted in-process for the same request.",
                "",
                table,
                "",
                "**Aims missed:** " + ("; ".join(missed) if missed else "none"),
                "",
                "## Machine",
                "",
                *machine,
                "",
                "## Subjects (picked from the data)",
                "",
                *[f"- {s}" for s in self.report.subjects],
                "",
                "## How",
                "",
                "- Server: gunicorn `config.wsgi` as `make serve` runs it (sync workers, access log, DEBUG off, a "
                "fresh SECRET_KEY, STATIC_MANIFEST with collectstatic into a temporary STATIC_ROOT, pooled "
                "connections), with REQUIRE_2FA_FOR_ADMINS=false, LOGIN_FAILURE_DELAY_SECONDS=0, API_RATE_LIMIT "
                "and the patient-search quotas lifted so that no throttle limits the benchmark. Pages log in over "
                "HTTP through the login form; the API uses tokens made by `medbook.accounts.tokens` (revoked after).",
                "- Booking create: each client thread has its own connection and its own free slots (found by the "
                "app's slot search, none overlapping), and books a new patient each time; throughput counts 201s "
                "over the wall time. The anchor (issue 20): pgbench's built-in TPC-B (`pgbench -i -s "
                f"{TPCB_SCALE}` into `{self.tpcb_database}`, then `-b tpcb-like -c N -j N -T {self.plan['pgbench']}`) "
                "run right after each level on the same server; the percentage is API throughput / TPC-B tps. "
                "Aims: 8 clients at least 5 % of TPC-B, 1 client p95 < 30 ms, 32 clients not below 8.",
                "- Sealing lag: `manage.py run_worker` (as `make serve` runs it: the sealer is one of its tasks) runs "
                "during the booking levels; for each entry written during a level, the time from its `created_at` "
                "to the `signed_at` of the first signed tree head whose size covers its leaf (the runner waits up "
                "to 30 s for the worker afterwards); beside it, the queue (`audit_auditpending`) polled once a "
                "second: its largest size and the p95 of its oldest entry's age.",
                "- Diagnosis (not an aim): pgbench replays the SQL one such request issued in-process (captured "
                "with CaptureQueriesContext, `bench/replay.py`) in the same transaction and savepoints, `-M simple "
                f"-n -T {self.plan['pgbench']}`, p95 from its per-transaction log.",
                "- audit_verify: `manage.py audit_verify` over the whole log (after one `audit_seal` to integrate "
                "what the run wrote), wall time of the command; aim ≤ 10 min for the full scale's log.",
                "- Reports: the ratio is the page's (HTTP) or the selector's (in-process) median over the median "
                "of one raw SQL query doing the same aggregation (`bench/rawsql.py`), timed on the runner's own "
                "connection.",
                "- Outbox: `manage.py run_worker` processes against an aiosmtpd sink; the e-mails are written once "
                "the workers poll, and the time runs until the last one is sent.",
                "- Left behind: the bookings, patients and outbox messages created are deleted; their audit entries "
                "stay (append-only; sealed into their trees, audit_verify still passes), as do the logins' sessions and the revoked tokens.",
                *[f"- {n}" for n in self.report.notes],
                "",
            ]
        )
        only = f"-only-{'-'.join(self.args.only)}" if self.args.only else ""
        path = RESULTS / f"{scale}-{date.today().isoformat()}{only}.md"
        if path.exists():  # an earlier run of the same day stays as it was committed
            path = path.with_name(f"{path.stem}-{datetime.now():%H%M}.md")
        path.write_text(text)
        print(f"\nwritten to {path.relative_to(ROOT)}", flush=True)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return path


def _request_id(queries: list[str]) -> str:
    """The request id the captured request's audit entries carry (read from its audit INSERT)."""
    for sql in queries:
        if sql.removeprefix("WITH entry AS (").startswith('INSERT INTO "audit_auditentry"'):
            found = re.search(r"'::inet, '([0-9a-f]{32})'|NULL, '([0-9a-f]{32})'", sql)
            if found:
                return found.group(1) or found.group(2)
    raise RuntimeError("the captured booking create wrote no audit entry")


def fold(text: str) -> str:
    """Without accents, as a user without Hungarian keys types it."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["small", "full"], default="small")
    parser.add_argument("--database", default="medbook_bench")
    parser.add_argument(
        "--smoke", action="store_true", help="each measure once, to check that all of them run"
    )
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["slots", "booking", "reports", "patient_search", "online", "outbox", "audit_verify"],
    )
    parser.add_argument(
        "--keep-script", action="store_true", help="copy the pgbench script into bench/results/"
    )
    parser.add_argument(
        "--has-scale", metavar="SCALE", help="exit 0 when the database holds this scale, else 1"
    )
    parser.add_argument("--mark-scale", metavar="SCALE", help="record that the database holds this scale")
    args = parser.parse_args()
    if args.has_scale:
        sys.exit(0 if generated_scale(args.database) == args.has_scale else 1)
    if args.mark_scale:
        psql(
            args.database,
            f"COMMENT ON DATABASE {args.database} IS '{MARKER}{args.mark_scale} {date.today()}'",
        )
        sys.exit(0 if marked_scale(args.database) == args.mark_scale else 1)
    Bench(args).run()


if __name__ == "__main__":
    main()
