"""The `Archive` facade: append evidence, sign checkpoints, give proofs (one folder, one machine).

Folder layout (`Settings().effective_archive_dir`, default `var/archive`):

    blobs/ab/ab12...      content-addressed blobs and signatures (SHA-256 names, read-only files)
    journal.log           append-only records, the Merkle leaves (see journal.py)
    index.bin             derived cache: record offsets and leaf hashes
    checkpoints.jsonl     signed checkpoints (see checkpoint.py)
    archive.lock          flock(2) target: one writer at a time across processes

Append order makes a crash leave the whole entry or none: blob files (fsync, rename, fsync dir),
then the journal record (one write + fsync = the acknowledgement), then the index cache. Blobs
without a record are harmless leftovers; a record without its LF is cut off on the next open.
"""

from __future__ import annotations

import base64
import fcntl
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from gateway.archive.blobs import BlobStore
from gateway.archive.checkpoint import DEFAULT_ORIGIN, Checkpoint, make_checkpoint
from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.journal import ArchiveEntry, Journal, iter_lines
from gateway.archive.merkle import MerkleTree
from gateway.config import Settings
from gateway.errors import ConfigurationError, MalformedPayload, NotFound
from gateway.signing import Signer

Now = Callable[[], datetime]
_KIND = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
CHECKPOINTS = "checkpoints.jsonl"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ArchivePort(Protocol):
    """What the intake and SEPA services need from an archive (swap in a fake in unit tests)."""

    def append(
        self,
        kind: str,
        blob: bytes,
        *,
        signature: bytes | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ArchiveEntry: ...

    def checkpoint(self) -> Checkpoint: ...


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Entry `entry.seq` is leaf `leaf_index` of the tree the checkpoint signs."""

    entry: ArchiveEntry
    leaf_hash: bytes
    path: list[bytes]
    checkpoint: Checkpoint

    def to_json(self) -> dict[str, Any]:
        cp = self.checkpoint
        return {
            "algorithm": "RFC 9162 §2.1.3.2 inclusion proof, SHA-256; leaf = SHA-256(0x00 || leaf_data)",
            "leaf_index": self.entry.seq,
            "tree_size": cp.size,
            "leaf_data": self.entry.leaf_data().decode(),
            "leaf_hash": self.leaf_hash.hex(),
            "inclusion_path": [p.hex() for p in self.path],
            "root_hash": cp.root.hex(),
            "checkpoint": {"note": cp.note, "cms": base64.b64encode(cp.cms).decode()},
        }


class Archive:
    """Append-only, tamper-evident archive in one folder; safe across threads and processes."""

    def __init__(
        self,
        directory: Path,
        *,
        signer: Signer | None = None,
        now: Now = _utcnow,
        origin: str = DEFAULT_ORIGIN,
        fsync: bool = True,
        checkpoint_every: int = 0,
    ) -> None:
        self.directory = directory
        self.signer = signer
        self.origin = origin
        self.checkpoint_every = checkpoint_every
        self._now = now
        directory.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(directory / "blobs", fsync=fsync)
        self._fsync = fsync
        self._thread_lock = threading.RLock()
        self._lock_fd = os.open(directory / "archive.lock", os.O_RDWR | os.O_CREAT, 0o640)
        self._journal = Journal(directory, fsync=fsync)
        self._checkpoints: list[Checkpoint] = []
        self._checkpoints_end = 0
        try:
            with self._locked():
                self._tree = MerkleTree(self._journal.recover())
                self._read_checkpoints()
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_settings(cls, settings: Settings, *, signer: Signer | None = None, **options: Any) -> Archive:
        """The archive in the configured folder (`GATEWAY_ARCHIVE_DIR`, default var/archive)."""
        return cls(settings.effective_archive_dir, signer=signer, **options)

    def close(self) -> None:
        self._journal.close()
        os.close(self._lock_fd)

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _refresh(self) -> None:
        # another process may have appended since we last held the lock
        for leaf in self._journal.catch_up():
            self._tree.append_leaf_hash(leaf)
        self._read_checkpoints()

    # --- writing ---------------------------------------------------------------------------

    def append(
        self,
        kind: str,
        blob: bytes,
        *,
        signature: bytes | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ArchiveEntry:
        """Archive `blob` (and its detached signature); durable once this returns."""
        if not _KIND.fullmatch(kind):
            raise MalformedPayload(f"archive kind {kind!r}: [a-z0-9._-], 1-64", field="kind")
        meta = dict(metadata or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
            raise MalformedPayload("archive metadata maps text to text", field="metadata")
        with self._locked():
            self._refresh()
            blob_digest = self.blobs.put(blob)
            sig_digest = self.blobs.put(signature) if signature is not None else None
            entry = ArchiveEntry(
                seq=self._journal.count,
                time=self._now(),
                kind=kind,
                blob_sha256=blob_digest,
                size=len(blob),
                signature_sha256=sig_digest,
                metadata=meta,
            )
            self._tree.append_leaf_hash(self._journal.append(entry))
            if self.checkpoint_every and self._tree.size % self.checkpoint_every == 0:
                self._checkpoint_locked()
            return entry

    def checkpoint(self) -> Checkpoint:
        """Sign the current tree head (returns the latest one when nothing was appended since)."""
        with self._locked():
            self._refresh()
            return self._checkpoint_locked()

    def _checkpoint_locked(self) -> Checkpoint:
        if self.signer is None:
            raise ConfigurationError("the archive has no signer: cannot sign a checkpoint")
        size = self._tree.size
        if self._checkpoints and self._checkpoints[-1].size == size:
            return self._checkpoints[-1]
        checkpoint = make_checkpoint(
            self.signer, origin=self.origin, size=size, root=self._tree.root(), time=self._now()
        )
        line = checkpoint.to_line() + b"\n"
        fd = os.open(self.directory / CHECKPOINTS, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            os.write(fd, line)
            if self._fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        self._checkpoints.append(checkpoint)
        self._checkpoints_end += len(line)
        return checkpoint

    def _read_checkpoints(self) -> None:
        path = self.directory / CHECKPOINTS
        if not path.exists():
            return
        for offset, line in iter_lines(path, self._checkpoints_end):
            if not line.endswith(b"\n"):
                os.truncate(path, offset)  # an interrupted checkpoint write
                break
            where = f"checkpoint {len(self._checkpoints)}"
            self._checkpoints.append(Checkpoint.from_line(line, where=where))
            self._checkpoints_end = offset + len(line)

    # --- reading ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self._tree.size

    def root(self, size: int | None = None) -> bytes:
        return self._tree.root(size)

    def entry(self, seq: int) -> ArchiveEntry:
        if seq >= self._journal.count:
            with self._locked():
                self._refresh()
        if not 0 <= seq < self._journal.count:
            raise NotFound(f"no archive entry {seq}", field="seq")
        return self._journal.read(seq)

    def blob(self, digest: str) -> bytes:
        return self.blobs.get(digest)

    def checkpoints(self) -> list[Checkpoint]:
        with self._locked():
            self._refresh()
            return list(self._checkpoints)

    def latest_checkpoint(self) -> Checkpoint | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def inclusion_proof(self, seq: int, *, checkpoint: Checkpoint | None = None) -> InclusionProof:
        """Prove entry `seq` against `checkpoint` (default: the latest one that covers it)."""
        entry = self.entry(seq)
        if checkpoint is None:
            covering = [cp for cp in self.checkpoints() if cp.size > seq]
            if not covering:
                raise NotFound(
                    f"entry {seq} is not covered by a checkpoint yet (run `gateway archive checkpoint`)",
                    field="seq",
                )
            checkpoint = covering[-1]
        if checkpoint.size > self._tree.size or checkpoint.root != self._tree.root(checkpoint.size):
            raise ArchiveCorrupt("the checkpoint does not match the journal", field="checkpoint")
        leaf = entry.leaf_hash
        if leaf != self._tree.leaf(seq):
            raise ArchiveCorrupt(f"journal entry {seq}: differs from the index", field="journal")
        return InclusionProof(entry, leaf, self._tree.inclusion_proof(seq, checkpoint.size), checkpoint)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 §2.1.4 proof that the tree of size `first` is a prefix of size `second`."""
        return self._tree.consistency_proof(first, second)
