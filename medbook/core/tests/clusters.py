"""Throwaway PostgreSQL clusters and PgBouncers for the deployment tests, and pointing an alias at them.

The servers refuse to run as root: as root (CI) every server command runs as the `postgres` OS user, in a
temporary directory that user owns. Nothing here touches the system cluster's configuration.
"""

import copy
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connections

from config.databases import databases
from medbook.core.tests.ports import free_port

# A busy two-core machine: generous bounds, never waited out by a passing test (every wait polls).
START_TIMEOUT_SECONDS = 120


def server_bin(name: str, major: int) -> str:
    """The PostgreSQL program of this major version (Debian keeps them off PATH)."""
    debian = Path(f"/usr/lib/postgresql/{major}/bin") / name
    return str(debian) if debian.exists() else (shutil.which(name) or name)


def as_postgres(command: list[str]) -> list[str]:
    """The command as the postgres OS user when we are root (initdb, pg_ctl and pgbouncer refuse root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def run(command: list[str], *, timeout: float = START_TIMEOUT_SECONDS, **options) -> str:
    """Run to the end; a failure says what was run and what it printed."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, **options)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def postgres_owned_tempdir(prefix: str) -> Path:
    """A new temporary directory the postgres OS user owns (when we are root) or we do."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


def wait_for(condition: Callable[[], object], what: str, timeout: float = START_TIMEOUT_SECONDS):
    """Poll the condition until it holds (its value returned) or the deadline passes (an error saying what)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception as error:  # not up yet: refused, starting, in recovery
            value, last = None, error
        else:
            last = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what} (last error: {last!r})")
        time.sleep(0.05)


def sql(port: int, query: str, dbname: str = "postgres") -> str:
    """One query through psql over TCP (trust), its value as text."""
    return run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", dbname, "-XAtc", query])


class Cluster:
    """A PostgreSQL server of our own on a free 127.0.0.1 port, its data directory under `base`."""

    def __init__(self, base: Path, name: str, major: int):
        self.base, self.data, self.major, self.port = base, base / name, major, free_port()
        self.log = base / f"{name}.log"

    def pg(self, program: str, *args: str) -> list[str]:
        return as_postgres([server_bin(program, self.major), *args])

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
        run(self.pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start"))
        wait_for(lambda: sql(self.port, "SELECT 1").strip() == "1", f"{self.data} to accept connections")

    def stop(self) -> None:
        """Stop it if it runs (immediate: a throwaway cluster needs no clean shutdown)."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            run(self.pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"), timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired):
            if pid_file.exists():  # pg_ctl could not: end our own postmaster by its id
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
            raise


def databases_from(variables: dict[str, str]) -> dict:
    """DATABASES as config/databases.py builds them with these environment variables set."""
    import environ

    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        return databases(environ.Env(), Path(tempfile.gettempdir()))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def alias_pointed(settings: dict[str, dict]) -> Iterator[None]:
    """Point these aliases at other databases (DATABASES entries), then back; the pools are closed both ways."""
    saved = {alias: connections.settings.get(alias) for alias in settings}
    configured = connections.configure_settings(
        {"default": copy.deepcopy(connections.settings["default"]), **copy.deepcopy(settings)}
    )
    for alias in settings:
        _drop(alias)
        connections.settings[alias] = configured[alias]
    try:
        yield
    finally:
        for alias, previous in saved.items():
            _drop(alias)
            if previous is None:
                del connections.settings[alias]
            else:
                connections.settings[alias] = previous


def _drop(alias: str) -> None:
    if alias not in connections.settings:
        return
    connection = connections[alias]
    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()
    del connections[alias]


class PgBouncer:
    """A PgBouncer in transaction mode on a free 127.0.0.1 port, in front of one database of 127.0.0.1:5432.

    One server connection per database and user (default_pool_size = 1): every transaction of every client
    shares it, so a test proves the app keeps no session state on it.
    """

    def __init__(self, base: Path, dbname: str, upstream_port: int = 5432):
        self.base, self.dbname, self.upstream_port, self.port = base, dbname, upstream_port, free_port()
        self.ini, self.pid_file = base / "pgbouncer.ini", base / "pgbouncer.pid"

    def start(self) -> None:
        (self.base / "userlist.txt").write_text('"postgres" ""\n')  # trust still asks for a known user
        self.ini.write_text(
            "[databases]\n"
            f"{self.dbname} = host=127.0.0.1 port={self.upstream_port} dbname={self.dbname} user=postgres\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.base / 'userlist.txt'}\n"
            "pool_mode = transaction\ndefault_pool_size = 1\nmax_client_conn = 50\n"
            f"logfile = {self.base / 'pgbouncer.log'}\npidfile = {self.pid_file}\n"
        )
        if os.geteuid() == 0:
            for path in (self.ini, self.base / "userlist.txt"):
                shutil.chown(path, "postgres", "postgres")
        run(as_postgres([shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", "-d", str(self.ini)]))
        wait_for(
            lambda: sql(self.port, "SELECT 1", self.dbname).strip() == "1", "pgbouncer to accept clients"
        )

    def stop(self) -> None:
        """End our pgbouncer by its id and wait until it is gone."""
        if not self.pid_file.exists():
            return
        pid = int(self.pid_file.read_text().strip())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        wait_for(lambda: not _alive(pid), "pgbouncer to stop", timeout=30)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
