"""Content-addressed blob store: each blob is a file named by its SHA-256, written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from gateway.archive.errors import ArchiveCorrupt
from gateway.errors import NotFound


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fsync_dir(path: Path) -> None:
    # a rename is durable only once its directory entry is (POSIX leaves it to the caller)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """`blobs/ab/abcdef...`: two hex characters of fan-out keep directories small."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync
        root.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise ValueError(f"not a lowercase SHA-256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store `data` (once: same bytes, same file) and return its SHA-256 hex digest."""
        digest = sha256_hex(data)
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                if self.fsync:
                    out.flush()
                    os.fsync(out.fileno())
            os.chmod(tmp, 0o444)  # archived bytes are never rewritten
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if self.fsync:
            fsync_dir(target.parent)
        return digest

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
