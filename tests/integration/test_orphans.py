"""Validation processes die with a killed parent (issue 12, item 7): kill -9 the parent, then no
worker is left, by prctl(PR_SET_PDEATHSIG) on Linux and by the parent-pid watchdog alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PARENT = """
import os, sys, time
from gateway.infra import orphans
if sys.argv[1] == "watchdog-only":
    orphans._set_pdeathsig = lambda: False
from gateway.services.intake import IntakeServices, validation_pool
class Signer:
    def sign_detached(self, data):
        return b""
services = IntakeServices(store=None, signer=Signer(), archive=None)
pool = validation_pool(services, 2)
print(" ".join(str(p) for p in pool._processes), flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie of ours is not a live process
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


@pytest.mark.parametrize("mode", ["pdeathsig", "watchdog-only"])
def test_validation_workers_die_when_the_parent_is_killed(mode: str) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, mode], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        workers = [int(p) for p in parent.stdout.readline().split()]
        assert len(workers) == 2
        assert all(alive(w) for w in workers)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        parent.stdout.close()
        deadline = time.monotonic() + 5
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(w) for w in workers), f"orphans left: {workers}"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
