"""Worker processes die with their parent (issue 12): no validation process left behind.

A forked worker holds the parent's open files (the SQLite database, the archive): re-parented to
PID 1 after a `kill -9` of the server it would keep them open, and stay alive, for ever. Two ways
out, both set when a worker starts:

- Linux: `prctl(PR_SET_PDEATHSIG, SIGKILL)` (prctl(2)): the kernel kills the worker when the
  thread that forked it ends. Set after the fork, so the parent may already be gone: checked.
- anywhere (and as a fallback): a daemon thread that watches `os.getppid()` and ends the process
  when it changes (the parent died, the worker was re-parented).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_SECONDS = 1.0
log = logging.getLogger(__name__)


def _set_pdeathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int, interval: float) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)  # no cleanup: what the worker holds belongs to the dead parent
        threading.Event().wait(interval)


def die_with_parent(parent: int, *, interval: float = WATCH_SECONDS) -> None:
    """Make this (child) process end when `parent` ends; call first thing in the child."""
    _set_pdeathsig()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch, args=(parent, interval), name="parent-watch", daemon=True).start()
