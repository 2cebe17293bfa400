"""Files and folders holding personal data are the service user's alone, whatever the umask.

Titles, dossiers, SEPA files (names, IBANs) and the database live under the data folder: folders
0700, files 0600 (issue 12). Set explicitly at creation, not left to the process umask, which an
operator's shell or a container may set to 022.

Also the two low-level steps of the durable writes of such files, shared by the archive's blob
store and the bank channel's outbound folder: every byte written (`write_all`) and the folder
fsync'ed after a rename (`fsync_dir`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) and make it 0700; returns it."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty if missing and make it 0600 (before anything is written to it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def make_private(path: Path) -> None:
    """0600 for a file that exists (written by a library that chose its own mode)."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, FILE_MODE)


def restrict_umask() -> None:
    """Add 077 to the process umask: whatever a library creates is the service user's alone."""
    os.umask(os.umask(0) | 0o077)


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte of `data` to the file descriptor `fd` (os.write may write fewer)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_dir(path: Path | str) -> None:
    """fsync the folder `path`: a file renamed into it is then durable under its new name."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
