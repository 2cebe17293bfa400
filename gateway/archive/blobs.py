"""Blobs too big for the database: a content-addressed store behind a small port.

`BlobStore` is what the archive needs (put bytes or a stream, get them back by SHA-256);
`DirectoryBlobStore` is the default: `ab/abcdef...` files, each named by the SHA-256 of its bytes,
written once (temporary file, fsync, rename, fsync of the folder; mode 0600), so a folder on a
volume shared by several gateway processes works without any lock: two writers of one blob
write the same bytes. An S3-compatible store fits the same port (PUT with the digest as key).
A blob is durable when `put`/`put_stream`/`put_file` returns, before the transaction that names
it commits; one left behind by a rolled-back transaction is named by nothing and harmless.

`put_file` of a file whose digest its writer computed (a SEPA file) copies it in the kernel
(`os.copy_file_range`): half the CPU of a copy through Python, measured on a 538 MB pain.008
(bench/README.md, "Hand-off"). The blob stays a file of its own: a hard link would be free, but
would make the archive's copy of the signed bytes writable through the staging folder's name,
and a staged file changed by mistake would take the evidence with it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from gateway.archive.errors import ArchiveCorrupt
from gateway.errors import NotFound
from gateway.private import fsync_dir, write_all

CHUNK = 1 << 20


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> str:
    if len(digest) != 64 or digest.strip("0123456789abcdef"):
        raise NotFound(f"not a lowercase SHA-256 hex digest: {digest[:80]!r}", field="blob")
    return digest


class BlobStore(Protocol):
    """Write-once, content-addressed bytes (the port an S3-compatible store would implement)."""

    def put(self, data: bytes) -> str:
        """Store `data` durably; its SHA-256 hex digest."""
        ...

    def put_stream(self, chunks: Iterable[bytes], *, sha256: str | None = None) -> tuple[str, int]:
        """Store a stream durably in constant memory; (SHA-256 hex digest, size).

        `sha256`: the digest of these bytes, computed by the caller as it wrote them (a SEPA
        file, `gateway.services.emission`): stored under it without hashing them again."""
        ...

    def put_file(self, path: Path, *, sha256: str) -> tuple[str, int]:
        """Store the bytes of the file at `path` durably, under `sha256`: their digest, computed by
        whoever wrote them as they went out (not hashed again); (that digest, size)."""
        ...

    def get(self, digest: str) -> bytes:
        """The bytes, checked against their digest; NotFound when absent."""
        ...

    def hash_of(self, digest: str) -> tuple[str, int] | None:
        """(SHA-256 of the stored bytes, their size) read back in chunks; None when absent."""
        ...


# copy_file_range refuses some pairs of files (another file system on older kernels, some network
# and FUSE file systems): those are copied through Python
_NO_KERNEL_COPY = frozenset({errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL})


def _copy(source: int, target: int) -> int:
    """Copy the file `source` from its offset to `target`, in the kernel when it can; bytes copied."""
    size = 0
    if hasattr(os, "copy_file_range"):  # Linux
        try:
            while copied := os.copy_file_range(source, target, 1 << 30):
                size += copied
            return size
        except OSError as exc:
            if size or exc.errno not in _NO_KERNEL_COPY:
                raise
    while block := os.read(source, CHUNK):
        write_all(target, block)
        size += len(block)
    return size


class DirectoryBlobStore:
    """`<root>/ab/abcdef...`: two hex characters of fan-out keep folders small."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self._fsync = fsync
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / check_digest(digest)

    def put(self, data: bytes) -> str:
        return self.put_stream([data])[0]

    def put_stream(self, chunks: Iterable[bytes], *, sha256: str | None = None) -> tuple[str, int]:
        hasher = hashlib.sha256() if sha256 is None else None

        def write(fd: int) -> int:
            size = 0
            for chunk in chunks:
                if hasher is not None:
                    hasher.update(chunk)
                write_all(fd, chunk)
                size += len(chunk)
            return size

        return self._store(write, lambda: hasher.hexdigest() if hasher is not None else sha256 or "")

    def put_file(self, path: Path, *, sha256: str) -> tuple[str, int]:
        check_digest(sha256)
        with path.open("rb", buffering=0) as source:
            return self._store(lambda fd: _copy(source.fileno(), fd), lambda: sha256)

    def _store(self, write: Callable[[int], int], digest_of: Callable[[], str]) -> tuple[str, int]:
        """`write` the bytes to a temporary file (0600), fsync, then rename it to its digest."""
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")  # mode 0600
        try:
            try:
                size = write(fd)
                if self._fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            digest = check_digest(digest_of())
            target = self.path(digest)
            if self.hash_of(digest) == (digest, size):
                os.unlink(tmp)  # already there, intact: written once
                return digest, size
            target.parent.mkdir(exist_ok=True, mode=0o700)
            os.replace(tmp, target)  # same file system; replaces a damaged copy too
            if self._fsync:
                fsync_dir(target.parent)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return digest, size

    def get(self, digest: str) -> bytes:
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"no blob {digest}", field="blob") from exc
        if sha256_hex(data) != digest:
            raise ArchiveCorrupt(f"blob {digest} does not match its SHA-256", field="blob")
        return data

    def hash_of(self, digest: str) -> tuple[str, int] | None:
        try:
            stream = self.path(digest).open("rb")
        except FileNotFoundError:
            return None
        hasher = hashlib.sha256()
        size = 0
        with stream:
            while block := stream.read(CHUNK):
                hasher.update(block)
                size += len(block)
        return hasher.hexdigest(), size
