"""The `Archive` facade: append evidence, sign checkpoints, give proofs (one folder, one machine).

Folder layout (`Settings().effective_archive_dir`, default `var/archive`):

    packs/00000000.pack   blobs and signatures up to 64 KiB, appended as records (see packs.py)
    packs/index.log       their index: SHA-256 -> pack, offset, length, one entry per record, and
    packs/index-*.run     the same entries sorted, in runs (see packindex.py); derived, checked on use
    packs/merge.lock      flock(2) target: one process merges runs at a time, beside the writers
    blobs/ab/ab12...      bigger blobs, one read-only file each named by its SHA-256; archives
                          written before packs existed hold every blob so, and still open and verify
    blobs/tmp/            big files being streamed in (append_file), renamed into place
    journal.log           append-only records, the Merkle leaves (see journal.py)
    index.bin             derived cache: record offsets and leaf hashes
    checkpoints.jsonl     signed checkpoints (see checkpoint.py)
    archive.lock          flock(2) target: one journal writer at a time across processes

Append order makes a crash leave the whole entry or none: big blob files (written, renamed, one
sync for the group's: syncfs(2), or an fsync per file and folder), then under the lock the group's
small blobs not stored yet (one write to the current pack + one fdatasync, then one write of their
index entries, not synced), then the group's journal records (one write + one fsync = the
acknowledgement), then the index cache. A blob is found by its SHA-256 in the pack index first
(checked against the record header and its SHA-256), then as a file.
Concurrent appenders of a process share those syncs (group commit, see group.py); bulk callers
hand a whole batch to `append_many`. Blobs without a record are harmless leftovers; a record
without its LF, or a torn last pack record, is cut off on the next open.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, Protocol

from gateway.archive.blobs import CHUNK, BlobStore
from gateway.archive.checkpoint import DEFAULT_ORIGIN, Checkpoint, make_checkpoint
from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.group import GroupCommit, Pending, sync_files, sync_filesystem, syncfs_available
from gateway.archive.journal import ArchiveEntry, Journal, iter_lines
from gateway.archive.merkle import MerkleTree
from gateway.archive.packs import PACK_MAX_BLOB, PackStore
from gateway.config import Settings
from gateway.errors import ConfigurationError, MalformedPayload, NotFound
from gateway.signing import Signer

Now = Callable[[], datetime]
_KIND = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
CHECKPOINTS = "checkpoints.jsonl"
BlobSync = Literal["syncfs", "files"]


class NewEntry(NamedTuple):
    """One item for `Archive.append_many`."""

    kind: str
    blob: bytes
    signature: bytes | None = None
    metadata: Mapping[str, str] | None = None


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
        blob_sync: BlobSync | None = None,
    ) -> None:
        """`blob_sync`: how a group's blob files are made durable before its records are written.

        "syncfs" (default where Linux has it): one syncfs(2) of the archive's file system, whatever
        the group's size; it also flushes other writers' dirty pages on that file system, so give
        the archive a volume of its own in production. "files": an fsync per blob file and folder.
        """
        self.directory = directory
        self.signer = signer
        self.origin = origin
        self.checkpoint_every = checkpoint_every
        self._now = now
        directory.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(directory / "blobs")
        self._fsync = fsync
        if blob_sync is None:
            blob_sync = "syncfs" if syncfs_available() else "files"
        self.blob_sync: BlobSync = blob_sync
        self._group: GroupCommit[Pending] = GroupCommit(self._commit)
        self._thread_lock = threading.RLock()
        self._lock_fd = os.open(directory / "archive.lock", os.O_RDWR | os.O_CREAT, 0o640)
        # opened before any blob is written: syncfs reports writeback errors from then on
        self._sync_fd = os.open(self.blobs.root, os.O_RDONLY | os.O_DIRECTORY)
        self._journal = Journal(directory, fsync=fsync)
        self._packs = PackStore(directory / "packs", fsync=fsync)
        self._checkpoints: list[Checkpoint] = []
        self._checkpoints_end = 0
        try:
            with self._locked():
                self._tree = MerkleTree.from_leaf_bytes(self._journal.recover())
                self._packs.recover()
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
        self._packs.close()
        os.close(self._sync_fd)
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
        return self.append_many([NewEntry(kind, blob, signature, metadata)])[0]

    def append_many(self, items: Iterable[NewEntry]) -> list[ArchiveEntry]:
        """Archive a batch with one sync for all of it; every entry is durable once this returns.

        The entries get consecutive sequence numbers unless another process appends meanwhile.
        """
        batch = list(items)
        metas = [_checked(item.kind, item.metadata) for item in batch]
        pending: list[Pending] = []
        for item, meta in zip(batch, metas, strict=True):
            files: list[str] = []
            packed: list[tuple[bytes, bytes]] = []
            blob_digest = self._put(item.blob, files, packed)
            sig_digest = None
            if item.signature is not None:
                sig_digest = self._put(item.signature, files, packed)
            pending.append(
                Pending(item.kind, blob_digest, len(item.blob), sig_digest, meta, tuple(files), tuple(packed))
            )
        return self._submit(pending)

    def _put(self, data: bytes, files: list[str], packed: list[tuple[bytes, bytes]]) -> str:
        # small blobs wait for the group's pack write; a big one is written to its file now
        if len(data) <= PACK_MAX_BLOB:
            digest = hashlib.sha256(data).digest()
            packed.append((digest, data))
            return digest.hex()
        hex_digest, path = self.blobs.write(data)
        files.append(path)
        return hex_digest

    def append_file(
        self,
        kind: str,
        path: Path,
        *,
        signature: bytes | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ArchiveEntry:
        """Archive a file of any size in constant memory (hashed while copied); durable on return."""
        meta = _checked(kind, metadata)
        with path.open("rb") as stream:
            blob_digest, size, blob_file = self.blobs.write_stream(iter(lambda: stream.read(CHUNK), b""))
        files = [blob_file]
        packed: list[tuple[bytes, bytes]] = []
        sig_digest = None
        if signature is not None:
            sig_digest = self._put(signature, files, packed)
        pending = Pending(kind, blob_digest, size, sig_digest, meta, tuple(files), tuple(packed))
        return self._submit([pending])[0]

    def _submit(self, pending: list[Pending]) -> list[ArchiveEntry]:
        if not pending:
            return []
        self._group.submit(pending)
        return [item.entry for item in pending if item.entry is not None]

    def _commit(self, group: list[Pending]) -> None:
        # runs in the group's leader thread; blobs first, so no durable record names a lost blob
        files = [f for item in group for f in item.files]
        if self._fsync and files:
            if self.blob_sync == "syncfs":
                sync_filesystem(self._sync_fd)
            else:
                sync_files(files, self.blobs.root)
        with self._locked():
            self._refresh()
            self._packs.catch_up()
            self._packs.store([blob for item in group for blob in item.packed])
            first = self._journal.count
            entries = [
                ArchiveEntry(
                    seq=first + i,
                    time=self._now(),
                    kind=item.kind,
                    blob_sha256=item.blob_sha256,
                    size=item.size,
                    signature_sha256=item.signature_sha256,
                    metadata=item.metadata,
                )
                for i, item in enumerate(group)
            ]
            before = self._tree.size
            for leaf in self._journal.append_many(entries):
                self._tree.append_leaf_hash(leaf)
            for item, entry in zip(group, entries, strict=True):
                item.entry = entry
            every = self.checkpoint_every
            if every and self._tree.size // every > before // every:
                self._checkpoint_locked()

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
        """The bytes of a blob or signature, checked against their SHA-256."""
        self.blobs.path(digest)  # refuses anything but a lowercase hex SHA-256
        raw = bytes.fromhex(digest)
        data = self._packs.get(raw)
        if data is None:
            with self._locked():  # another process may have packed it since
                self._packs.catch_up()
            data = self._packs.get(raw)
        return self.blobs.get(digest) if data is None else data

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


def _checked(kind: str, metadata: Mapping[str, str] | None) -> dict[str, str]:
    if not _KIND.fullmatch(kind):
        raise MalformedPayload(f"archive kind {kind!r}: [a-z0-9._-], 1-64", field="kind")
    meta = dict(metadata or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise MalformedPayload("archive metadata maps text to text", field="metadata")
    return meta
