"""A throwaway pg_auto_failover formation for the failover test: a monitor, a primary and a secondary.

Each node is `pg_autoctl create … --run` in a session of its own (its process group ended by its id after),
as the postgres OS user when we are root, with its data directory, configuration and state under one
temporary directory and its own free 127.0.0.1 port; `--auth trust` edits only these nodes' own pg_hba.conf.
The monitor is told to give up on a silent primary within seconds rather than the production default of
about half a minute (settings below), so that the test's failover is quick; nothing else differs from a
production formation (synchronous replication with one standby is pg_auto_failover's default).
"""

import os
import shutil
import signal
import subprocess
from pathlib import Path

from medbook.core.tests.clusters import as_postgres, run, server_bin, sql, wait_for
from medbook.core.tests.ports import free_port

# The monitor's health checks, tightened for the test (milliseconds; pg_auto_failover's defaults in brackets).
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": 1000,  # [5000]
    "pgautofailover.health_check_timeout": 1000,  # [5000]
    "pgautofailover.health_check_max_retries": 1,  # [2]
    "pgautofailover.health_check_retry_delay": 500,  # [2000]
    "pgautofailover.node_considered_unhealthy_timeout": 3000,  # [20000]
    "pgautofailover.primary_demote_timeout": 3000,  # [30000]
}
FORMATION_TIMEOUT_SECONDS = 180


def pg_autoctl() -> str | None:
    """The pg_autoctl program, or None when pg_auto_failover is not installed (make pg-auto-failover)."""
    return shutil.which("pg_autoctl")


class Node:
    """One pg_autoctl node (monitor or Postgres) running in the foreground of its own process group."""

    def __init__(self, base: Path, name: str, major: int):
        self.base, self.name, self.major = base, name, major
        self.data, self.port, self.log = base / name, free_port(), base / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        bin_dir = str(Path(server_bin("pg_ctl", self.major)).parent)
        xdg = self.base / "xdg"
        return {
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "XDG_CONFIG_HOME": str(xdg / "config"),
            "XDG_DATA_HOME": str(xdg / "data"),
            "XDG_RUNTIME_DIR": str(xdg / "run"),
            "PG_AUTOCTL_DEBUG": "",
            "HOME": str(self.base),
            "LANG": "C.UTF-8",
        }

    def start(self, *arguments: str) -> None:
        command = [
            pg_autoctl() or "pg_autoctl",
            *arguments,
            "--pgdata",
            str(self.data),
            "--pgport",
            str(self.port),
            "--pgctl",
            server_bin("pg_ctl", self.major),
            "--hostname",
            "127.0.0.1",
            "--auth",
            "trust",
            "--no-ssl",
            "--run",
        ]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                as_postgres(["env", *(f"{k}={v}" for k, v in self.environment().items()), *command]),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: ended by its id, with its children
                cwd=self.base,
            )

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def kill(self) -> None:
        """The machine dies: the keeper (so nothing restarts Postgres) and the postmaster, SIGKILL both."""
        postmaster = self.postmaster_pid()
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        try:
            os.kill(postmaster, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        """End this node's process group (keeper and its Postgres), then any postmaster left, by their ids."""
        postmaster = None
        try:
            postmaster = self.postmaster_pid()
        except (OSError, ValueError, IndexError):
            pass
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if postmaster is not None:
            try:
                os.kill(postmaster, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Formation:
    """The monitor, node1 (first primary) and node2 (its synchronous secondary), and `dbname` on them."""

    def __init__(self, base: Path, major: int, dbname: str):
        self.base, self.dbname = base, dbname
        self.monitor = Node(base, "monitor", major)
        self.nodes = [Node(base, "node1", major), Node(base, "node2", major)]

    @property
    def monitor_uri(self) -> str:
        return f"postgres://autoctl_node@127.0.0.1:{self.monitor.port}/pg_auto_failover?sslmode=disable"

    def url(self, user: str = "postgres") -> str:
        """The application's multi-host DATABASE_URL: whichever node is writable now."""
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        return f"postgres://{user}@{hosts}/{self.dbname}?target_session_attrs=read-write"

    def states(self) -> dict[str, tuple[str, str]]:
        """{node name: (reported state, goal state)} as the monitor knows them."""
        rows = sql(
            self.monitor.port,
            "SELECT nodename, reportedstate, goalstate FROM pgautofailover.node ORDER BY nodeid",
            "pg_auto_failover",
        )
        return {name: (reported, goal) for name, reported, goal in (r.split("|") for r in rows.splitlines())}

    def settled(self, primary: str, secondary: str | None) -> bool:
        states = self.states()
        if states.get(primary) != ("primary", "primary") and secondary is not None:
            return False
        if secondary is None:
            return states.get(primary, ("", ""))[0] in ("single", "primary", "wait_primary")
        return states.get(secondary) == ("secondary", "secondary")

    def start(self) -> None:
        self.monitor.start("create", "monitor")
        wait_for(lambda: sql(self.monitor.port, "SELECT 1", "pg_auto_failover").strip() == "1", "the monitor")
        for name, value in MONITOR_SETTINGS.items():
            sql(self.monitor.port, f"ALTER SYSTEM SET {name} = {value}")
        sql(self.monitor.port, "SELECT pg_reload_conf()")
        first, second = self.nodes
        first.start(
            "create", "postgres", "--name", "node1", "--dbname", self.dbname, "--monitor", self.monitor_uri
        )
        wait_for(
            lambda: self.settled("node1", None),
            "node1 to run as the single primary",
            FORMATION_TIMEOUT_SECONDS,
        )
        # The secondary's pg_basebackup asks for a checkpoint: at full speed, not spread over minutes. A
        # throwaway cluster on a machine that stays up needs no fsync (only processes die in the test).
        for setting, level in (("checkpoint_completion_target", "0"), ("fsync", "off")):
            sql(first.port, f"ALTER SYSTEM SET {setting} = {level}")
        sql(first.port, "SELECT pg_reload_conf()")
        sql(first.port, "CHECKPOINT")
        second.start(
            "create", "postgres", "--name", "node2", "--dbname", self.dbname, "--monitor", self.monitor_uri
        )
        wait_for(
            lambda: self.settled("node1", "node2"),
            "node1 primary and node2 its secondary",
            FORMATION_TIMEOUT_SECONDS,
        )

    def synchronous(self) -> str:
        """The primary's synchronous_standby_names (pg_auto_failover sets it once the secondary is in)."""
        return sql(self.nodes[0].port, "SHOW synchronous_standby_names").strip()

    def stop(self) -> None:
        for node in (*reversed(self.nodes), self.monitor):
            try:
                node.stop()
            except Exception:  # noqa: BLE001 - every node is stopped whatever one does
                pass

    def logs(self) -> str:
        return "\n".join(f"--- {n.name}\n{n.log_tail()}" for n in (self.monitor, *self.nodes))


def ready_for_postgres(base: Path) -> None:
    """The directories pg_autoctl writes besides the data directories, owned by the user it runs as."""
    for sub in ("xdg/config", "xdg/data", "xdg/run"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        run(["chown", "-R", "postgres:postgres", str(base)])
    os.chmod(base / "xdg" / "run", 0o700)
