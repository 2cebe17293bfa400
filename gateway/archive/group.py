"""Group commit: concurrent appenders share one blob sync and one journal fsync per group.

Leader/follower, as databases do it: an appender queues its items and, if no commit is under way,
becomes the leader and commits everything queued so far; the others wait, and whoever arrived during
a commit is taken by the next leader. Nobody returns before the commit that holds its items is
durable (or failed: then every appender of that group gets the error and nothing is acknowledged).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from gateway.archive.blobs import fsync_dir
from gateway.archive.journal import ArchiveEntry

T = TypeVar("T")


@dataclass(slots=True)
class Pending:
    """One item waiting for its group's commit: big blob files written, small blobs and record not yet."""

    kind: str
    blob_sha256: str
    size: int
    signature_sha256: str | None
    metadata: dict[str, str]
    files: tuple[str, ...]  # blob files to sync before the record (big blobs, see blobs.py)
    packed: tuple[tuple[bytes, bytes], ...] = ()  # (SHA-256, bytes) for the pack (see packs.py)
    entry: ArchiveEntry | None = None


@dataclass(slots=True)
class _Ticket(Generic[T]):
    items: list[T]
    # a lock taken once at creation: whoever finishes the ticket, or hands it the lead, frees it
    wake: threading.Lock = field(default_factory=threading.Lock)
    done: bool = False
    lead: bool = False
    error: BaseException | None = field(default=None, repr=False)


class GroupCommit(Generic[T]):
    """Runs `commit(items)` for groups of concurrently submitted items, one group at a time.

    Each waiter sleeps on a lock of its own and is woken once, when its group is done or when it
    is handed the lead: no thundering herd of waiters re-checking a shared condition.
    """

    def __init__(self, commit: Callable[[list[T]], None]) -> None:
        self._commit = commit
        self._lock = threading.Lock()
        self._queue: list[_Ticket[T]] = []
        self._leading = False

    def submit(self, items: list[T]) -> None:
        """Return once `items` are committed; raise the commit's error if it failed."""
        ticket = _Ticket(items)
        ticket.wake.acquire()
        with self._lock:
            self._queue.append(ticket)
            ticket.lead = not self._leading
            self._leading = True
        if not ticket.lead:
            ticket.wake.acquire()  # until done, or until handed the lead
        if not ticket.done:
            self._lead()
        if ticket.error is not None:
            raise ticket.error

    def _lead(self) -> None:
        with self._lock:
            group, self._queue = self._queue, []
        error: BaseException | None = None
        try:
            self._commit([item for queued in group for item in queued.items])
        except BaseException as exc:
            error = exc
        finally:
            for queued in group:
                queued.done, queued.error = True, error
                if not queued.lead:
                    queued.wake.release()
            with self._lock:
                if self._queue:  # arrived during this commit: the first of them leads the next
                    following = self._queue[0]
                    following.lead = True
                    following.wake.release()
                else:
                    self._leading = False


def _load_syncfs() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        function: Callable[[int], int] = libc.syncfs
    except (OSError, AttributeError, TypeError):
        return None
    return function


_SYNCFS = _load_syncfs()


def syncfs_available() -> bool:
    return _SYNCFS is not None


def sync_filesystem(fd: int) -> None:
    """syncfs(2): every dirty page and inode of the file system holding `fd`, in one call.

    Linux reports the file system's writeback errors since 5.8, once per descriptor and from
    the moment it was opened: keep one descriptor open for the archive's life, so that an error
    in any blob's writeback since then fails the next group instead of being missed.
    """
    if _SYNCFS is None:
        raise OSError("syncfs(2) is not available here")
    if _SYNCFS(fd) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"syncfs: {os.strerror(errno)}")


def sync_files(files: Iterable[str], root: Path) -> None:
    """fsync each file, then each directory holding one, then the root (new fan-out folders)."""
    folders: set[str] = set()
    for path in dict.fromkeys(files):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        folders.add(os.path.dirname(path))
    for folder in sorted(folders):
        fsync_dir(Path(folder))
    fsync_dir(root)
