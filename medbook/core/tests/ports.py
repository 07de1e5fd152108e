"""Free 127.0.0.1 ports for the servers a test starts itself (PostgreSQL clusters, PgBouncer, pg_auto_failover
nodes, gunicorn, aiosmtpd).

A port is known to be free when a probe binds it, but the server binds it a moment later (seconds later for a
cluster that is initialised first), and in between another process may take it. The kernel's own choice (bind
to port 0) comes from the ephemeral range (32768-60999 on Linux), which every outgoing connection on the
machine draws from too, and two pytest-xdist workers asking at the same time may be given the same port one
after the other. So each worker picks from a block of its own below the ephemeral range: no other worker, and
no connection the kernel opens, is ever given a port of that block; the probe only skips what a server of the
same worker, or a process started by hand, still holds.
"""

import itertools
import os
import random
import socket

FIRST_PORT = 20000
PORTS_PER_WORKER = 500  # gw0: 20000-20499, gw1: 20500-20999, ...; a run outside xdist takes gw0's
_offsets = itertools.count(random.randrange(PORTS_PER_WORKER))


def _worker_index() -> int:
    """0 for gw0 and for a run without xdist, 1 for gw1, and so on."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw")) if worker.removeprefix("gw").isdigit() else 0


def free_port() -> int:
    """A port of this worker's block that nothing listens on now; each call goes on round the block."""
    first = FIRST_PORT + PORTS_PER_WORKER * _worker_index()
    for _ in range(PORTS_PER_WORKER):
        port = first + next(_offsets) % PORTS_PER_WORKER
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{first + PORTS_PER_WORKER - 1}")
