"""Content-addressed blob files for blobs too big for a pack (packs.py): a file named by its SHA-256.

Writing a blob does not make it durable: the archive syncs the blobs of a whole group of appends at
once (see group.py) before any journal record names them. A blob file is therefore only trusted when
a durable record names it; an existing file is re-checked before a new record relies on it, since
one written by a process that crashed before its sync may have lost its bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from gateway.archive.errors import ArchiveCorrupt
from gateway.errors import NotFound

CHUNK = 1 << 20
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fsync_dir(path: Path) -> None:
    # a rename is durable only once its directory entry is (POSIX leaves it to the caller)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_matches(path: Path, digest: str, size: int) -> bool:
    """Whether `path` holds exactly `size` bytes hashing to `digest`."""
    try:
        with path.open("rb") as stream:
            if os.fstat(stream.fileno()).st_size != size:
                return False
            hasher = hashlib.sha256()
            while block := stream.read(CHUNK):
                hasher.update(block)
    except FileNotFoundError:
        return False
    return hasher.hexdigest() == digest


class BlobStore:
    """`blobs/ab/abcdef...`: two hex characters of fan-out keep directories small."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = str(root)
        root.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise ValueError(f"not a lowercase SHA-256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest

    def write(self, data: bytes) -> tuple[str, str]:
        """Store `data` (not yet durable) and return its SHA-256 hex digest and file path."""
        digest = sha256_hex(data)
        folder = os.path.join(self._root, digest[:2])
        target = os.path.join(folder, digest)
        try:
            os.stat(target)
        except FileNotFoundError:
            pass
        else:
            if file_matches(Path(target), digest, len(data)):
                return digest, target
        tmp = os.path.join(folder, f".tmp-{digest[:16]}-{os.getpid()}-{threading.get_native_id()}")
        try:
            fd = os.open(tmp, _CREATE, 0o400)  # archived bytes are never rewritten
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
            fd = os.open(tmp, _CREATE, 0o400)
        except FileExistsError:  # left by a crashed process that had this pid and thread id
            os.unlink(tmp)
            fd = os.open(tmp, _CREATE, 0o400)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.close(fd)
            # a rename, so a reader never sees half a blob; replaces a damaged leftover too
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return digest, target

    def write_stream(self, chunks: Iterable[bytes]) -> tuple[str, int, str]:
        """Store a stream of bytes hashed while copied (constant memory); (digest, size, file)."""
        (self.root / "tmp").mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp", prefix=".tmp-")
        hasher = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            digest = hasher.hexdigest()
            target = self.path(digest)
            if file_matches(target, digest, size):
                Path(tmp).unlink()
            else:
                target.parent.mkdir(exist_ok=True)
                os.chmod(tmp, 0o400)  # archived bytes are never rewritten
                os.replace(tmp, target)  # same file system: blobs/tmp sits beside the fan-out
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest, size, str(target)

    def get(self, digest: str) -> bytes:
        """The blob's bytes, checked against their name."""
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"no blob {digest}", field="blob") from exc
        if sha256_hex(data) != digest:
            raise ArchiveCorrupt(f"blob {digest} does not match its SHA-256", field="blob")
        return data

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()
