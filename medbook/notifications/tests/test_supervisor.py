"""Issue 19: `make run` and `make serve` start the worker under scripts/supervise.py, which starts a dead
worker again and stops it with the server."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from medbook.notifications.tests.test_worker_processes import wait_until

# A worker that dies at once the first time, and runs (sleeps) the second time; each run notes its pid.
CHILD = """
import os, sys, time
runs = sys.argv[1]
first = not os.path.exists(runs)
with open(runs, "a") as file:
    file.write(f"{os.getpid()}\\n")
sys.exit(1) if first else time.sleep(600)
"""


def _pids(runs: Path) -> list[int]:
    return [int(line) for line in runs.read_text().split()] if runs.exists() else []


def test_finding_a_worker_that_dies_is_started_again_and_stops_with_the_server(tmp_path):
    runs = tmp_path / "runs"
    supervisor = subprocess.Popen(
        [sys.executable, "scripts/supervise.py", "--", sys.executable, "-c", CHILD, str(runs)],
        cwd=settings.BASE_DIR,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: len(_pids(runs)) == 2)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        _out, errors = supervisor.communicate(timeout=30)
    assert supervisor.returncode == 0
    assert "exited with 1; starting it again" in errors
    second = _pids(runs)[1]
    try:
        os.kill(second, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError("the worker outlived its supervisor")


def test_make_run_and_make_serve_start_the_worker_under_the_supervisor():
    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text()
    assert re.search(r"^WORKER = .*scripts/supervise\.py -- .*manage\.py run_worker$", makefile, re.M)
    for target in ("run", "serve"):
        recipe = re.search(rf"^{target}:.*?(?=^\S)", makefile, re.M | re.S).group(0)
        assert "{ $(WORKER) & worker=$$!;" in recipe and "trap 'kill $$worker" in recipe, target
        assert "manage.py run_worker &" not in recipe, target
