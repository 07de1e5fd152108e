"""Keep a command running: start it again whenever it exits, until this supervisor is told to stop.

    python scripts/supervise.py -- python manage.py run_worker

`make run` and `make serve` start the outbox worker through it, so a worker that dies (a bug, the database
gone for longer than its retries, the machine short of memory) comes back within seconds. The pause before
a restart doubles from one second up to a minute while the command keeps dying at once, and starts again at
one second after a run of more than a minute. SIGTERM, SIGINT or SIGHUP stop the command (SIGTERM, then
SIGKILL after ten seconds) and the supervisor; so does the end of the process that started it (the server's
shell killed outright), which the supervisor notices within a second.
"""

import os
import signal
import subprocess
import sys
import time

FIRST_PAUSE = 1.0
LONGEST_PAUSE = 60.0
HEALTHY_RUN = 60.0
STOP_GRACE = 10.0


class Supervisor:
    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.parent = os.getppid()
        self.stopping = False
        self.child: subprocess.Popen | None = None

    def stop(self, signum: int, _frame) -> None:
        self.stopping = True

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self.stop)
        pause = FIRST_PAUSE
        while not self.stopping:
            started = time.monotonic()
            self.child = subprocess.Popen(self.command)
            code = self.wait()
            if self.stopping:
                break
            if time.monotonic() - started > HEALTHY_RUN:
                pause = FIRST_PAUSE
            print(
                f"supervise: {' '.join(self.command)} exited with {code}; starting it again in {pause:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            self.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)
        self.end_child()
        return 0

    def wait(self) -> int | None:
        """Wait for the child to exit, or for a reason to stop it; return its exit code."""
        assert self.child is not None
        while not self.stopping:
            try:
                return self.child.wait(timeout=1)
            except subprocess.TimeoutExpired:
                if os.getppid() != self.parent:  # whoever started us is gone: so are we
                    self.stopping = True
        return None

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, deadline - time.monotonic()))
            if os.getppid() != self.parent:
                self.stopping = True

    def end_child(self) -> None:
        if self.child is None or self.child.poll() is not None:
            return
        self.child.terminate()
        try:
            self.child.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()


def main(argv: list[str]) -> int:
    command = argv[1:]
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("usage: supervise.py -- COMMAND [ARGUMENTS...]", file=sys.stderr)
        return 2
    return Supervisor(command).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
