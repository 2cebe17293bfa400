"""The `Archive` facade: append evidence in the caller's transaction, sign checkpoints, give proofs
and tiles. The log lives in the gateway's database (log.py), blobs over `small_blob_limit` in a
content-addressed `BlobStore` (blobs.py), so every replica on one PostgreSQL shares one log.

    archive.append_many([NewEntry("receipt", body, cms, meta), ...], uow=uow)  # in uow's transaction
    archive.append_file("outbound-pain.008", path, signature=cms)              # its own transaction
    archive.checkpoint()                  # signed tree head (C2SP tlog-checkpoint + CMS)
    archive.inclusion_proof(seq)          # RFC 9162 §2.1.3 proof against the latest checkpoint
    archive.tile(level, index, width)     # c2sp.org/tlog-tiles hash tile; entry_bundle(index, width)

Entries appended with `uow=` commit or roll back with the dossier, receipt, event or report row
they prove: there is no window where one is durable without the other. Each process keeps the
Merkle tree in memory (64 bytes an entry), caught up from the database when a root, proof or tile
is asked; the leaves it reads are re-hashed first, so no checkpoint is signed over changed bytes.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection

from gateway.archive import log
from gateway.archive.blobs import CHUNK, BlobStore, DirectoryBlobStore, check_digest
from gateway.archive.checkpoint import DEFAULT_ORIGIN, Checkpoint, make_checkpoint
from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.journal import MAX_LEAF, ArchiveEntry, decode_leaf
from gateway.archive.merkle import MerkleTree, leaf_hash
from gateway.errors import ConfigurationError, MalformedPayload, NotFound
from gateway.services.ports import NewEntry
from gateway.signing.cms import Signer
from gateway.store.sql import SqlStore, open_sql_store

Now = Callable[[], datetime]
SMALL_BLOB = 256 * 1024  # blobs up to this size are rows of the database, bigger ones files
TILE_WIDTH = 256
_KIND = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class HasConnection(Protocol):
    """A unit of work of the SQL store (gateway.store.sql.SqlUnitOfWork)."""

    @property
    def connection(self) -> Connection: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Entry `entry.seq` is leaf `leaf_index` of the tree the checkpoint signs."""

    entry: ArchiveEntry
    leaf_hash: bytes
    path: list[bytes]
    checkpoint: Checkpoint

    def to_tlog_proof(self) -> str:
        """The proof as c2sp.org/tlog-proof@v1: index, one base64 hash a line, the checkpoint."""
        hashes = "".join(base64.b64encode(p).decode() + "\n" for p in self.path)
        return f"c2sp.org/tlog-proof@v1\nindex {self.entry.seq}\n{hashes}\n{self.checkpoint.note}"

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


@dataclass(frozen=True, slots=True)
class _Prepared:
    kind: str
    blob_sha256: str
    size: int
    signature_sha256: str | None
    metadata: dict[str, str]


class Archive:
    """The append-only, tamper-evident archive in the gateway's database; safe across processes."""

    def __init__(
        self,
        store: SqlStore,
        blobs: BlobStore | Path,
        *,
        signer: Signer | None = None,
        now: Now = _utcnow,
        origin: str = DEFAULT_ORIGIN,
        checkpoint_every: int = 0,
        small_blob_limit: int = SMALL_BLOB,
        owns_store: bool = False,
    ) -> None:
        self.store = store
        self.blobs: BlobStore = DirectoryBlobStore(blobs) if isinstance(blobs, Path) else blobs
        self.signer = signer
        self.origin = origin
        self.checkpoint_every = checkpoint_every
        self.small_blob_limit = small_blob_limit
        self._now = now
        self._owns_store = owns_store
        self._tree = MerkleTree()
        self._tree_lock = threading.Lock()
        self._latest: tuple[Checkpoint | None, float] = (None, 0.0)
        # a size no greater than the latest committed checkpoint's: checkpoints are only added,
        # so while a batch starts below the next multiple of `checkpoint_every` above it, no
        # checkpoint is due and the batch need not ask the database (one statement less each)
        self._checkpointed = 0

    @classmethod
    def open(cls, url: str, blob_dir: Path, **options: Any) -> Archive:
        """An archive on its own connection to the database at `url` (migrated); close() ends it."""
        return cls(open_sql_store(url, pool_size=2), blob_dir, owns_store=True, **options)

    def close(self) -> None:
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------

    def append(
        self,
        kind: str,
        blob: bytes,
        *,
        signature: bytes | None = None,
        metadata: Mapping[str, str] | None = None,
        uow: HasConnection | None = None,
    ) -> ArchiveEntry:
        """Archive `blob` (and its detached signature); see `append_many`."""
        return self.append_many([NewEntry(kind, blob, signature, metadata)], uow=uow)[0]

    def append_many(
        self, items: Iterable[NewEntry], *, uow: HasConnection | None = None
    ) -> list[ArchiveEntry]:
        """Archive a batch: consecutive sequence numbers, one sequencing step for the whole group.

        With `uow`, in that transaction, which should do nothing else afterwards but commit
        (the sequencing row stays locked until then); without, in a transaction of its own.
        Durable when that transaction commits.
        """
        small: dict[str, bytes] = {}
        prepared = []
        for item in items:
            meta = _checked(item.kind, item.metadata)
            sig = None if item.signature is None else self._put(item.signature, small)
            prepared.append(_Prepared(item.kind, self._put(item.blob, small), len(item.blob), sig, meta))
        return self._append(prepared, small, uow)

    def append_file(
        self,
        kind: str,
        path: Path,
        *,
        signature: bytes | None = None,
        metadata: Mapping[str, str] | None = None,
        uow: HasConnection | None = None,
        sha256: str | None = None,
    ) -> ArchiveEntry:
        """Archive a file of any size in constant memory (hashed while copied).

        `sha256`: its digest, computed by whoever wrote it as the bytes went out (a SEPA file is
        hashed while written, `gateway.sepa.xsd.ValidatingSink`): it is stored under that digest
        and not hashed a second time; `verify` hashes what is stored, as for every entry."""
        meta = _checked(kind, metadata)
        small: dict[str, bytes] = {}
        if path.stat().st_size <= self.small_blob_limit:
            data = path.read_bytes()
            if sha256 is None:
                digest = self._put(data, small)
            else:
                digest = check_digest(sha256)
                small[digest] = data
            size = len(data)
        elif sha256 is not None:
            digest, size = self.blobs.put_file(path, sha256=sha256)  # a kernel copy, not hashed again
        else:
            with path.open("rb") as stream:
                digest, size = self.blobs.put_stream(iter(lambda: stream.read(CHUNK), b""))
        sig = None if signature is None else self._put(signature, small)
        return self._append([_Prepared(kind, digest, size, sig, meta)], small, uow)[0]

    def _put(self, data: bytes, small: dict[str, bytes]) -> str:
        if len(data) <= self.small_blob_limit:
            digest = hashlib.sha256(data).hexdigest()
            small[digest] = data
            return digest
        return self.blobs.put(data)  # durable before the transaction naming it commits

    def _append(
        self, prepared: list[_Prepared], small: dict[str, bytes], uow: HasConnection | None
    ) -> list[ArchiveEntry]:
        if not prepared:
            return []
        if uow is not None:
            return self._append_in(uow.connection, prepared, small)
        with self.store.transaction() as own:
            return self._append_in(own.connection, prepared, small)

    def _append_in(
        self, conn: Connection, prepared: list[_Prepared], small: dict[str, bytes]
    ) -> list[ArchiveEntry]:
        log.put_blobs(conn, small)
        first = log.claim_sequence(conn, len(prepared))
        moment = self._now()
        entries = [
            ArchiveEntry(first + i, moment, p.kind, p.blob_sha256, p.size, p.signature_sha256, p.metadata)
            for i, p in enumerate(prepared)
        ]
        rows = []
        for entry in entries:
            data = entry.leaf_data()
            if len(data) > MAX_LEAF:
                raise MalformedPayload("archive metadata too long for one log entry", field="metadata")
            rows.append((entry.seq, data, leaf_hash(data)))
        every = self.checkpoint_every
        if every and self.signer is not None and first and first // every > self._checkpointed // every:
            latest = log.latest_checkpoint_size(conn)  # committed ones only: ours may roll back
            self._checkpointed = max(self._checkpointed, latest)
            if first // every > latest // every:
                # the first `first` entries are committed (we hold the counter): sign them now
                log.insert_checkpoint(conn, self._sign(conn, first))
        log.insert_entries(conn, rows)
        return entries

    def checkpoint(self) -> Checkpoint:
        """Sign the current tree head (returns the latest one when nothing was appended since)."""
        if self.signer is None:
            raise ConfigurationError("the archive has no signer: cannot sign a checkpoint")
        with self.store.transaction() as uow:
            conn = uow.connection
            size = log.claim_sequence(conn, 0)  # waits for appenders in flight; then it is stable
            latest = log.latest_checkpoint(conn)
            if latest is not None and latest.size == size:
                return latest
            checkpoint = self._sign(conn, size, latest)
            log.insert_checkpoint(conn, checkpoint)
            return checkpoint

    def _sign(self, conn: Connection, size: int, previous: Checkpoint | None = None) -> Checkpoint:
        if self.signer is None:  # pragma: no cover - callers check
            raise ConfigurationError("the archive has no signer: cannot sign a checkpoint")
        if previous is None:
            previous = log.latest_checkpoint(conn)
        with self._tree_lock:
            self._catch_up(conn, size)
            if (
                previous is not None
                and previous.size <= size
                and previous.root != self._tree.root(previous.size)
            ):
                raise ArchiveCorrupt(
                    "the log no longer matches its latest checkpoint: refusing to sign over it "
                    "(run `gateway archive verify`)",
                    field="checkpoint",
                )
            root = self._tree.root(size)
        return make_checkpoint(self.signer, origin=self.origin, size=size, root=root, time=self._now())

    def _catch_up(self, conn: Connection, size: int) -> None:
        # lock held; the leaves are re-hashed: a changed row never reaches a signed root
        tree = self._tree
        for seq, leaf, stored in log.read_entries(conn, tree.size, size):
            if seq != tree.size:
                raise ArchiveCorrupt(
                    f"archive entry {tree.size} is missing", field=f"archive entry {tree.size}"
                )
            digest = leaf_hash(leaf)
            if digest != stored:
                where = f"archive entry {seq}"
                raise ArchiveCorrupt(f"{where}: leaf hash mismatch (changed bytes)", field=where)
            tree.append_leaf_hash(digest)
        if tree.size < size:
            where = f"archive entry {tree.size}"
            raise ArchiveCorrupt(f"{where} is missing", field=where)

    def _tree_at(self, size: int) -> MerkleTree:
        with self._tree_lock:
            if self._tree.size < size:
                with self.store.read() as uow:
                    self._catch_up(uow.connection, size)
            return self._tree

    # --- reading ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        with self.store.read() as uow:
            return log.head_size(uow.connection)

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return self._tree_at(size).root(size)

    def entry(self, seq: int) -> ArchiveEntry:
        with self.store.read() as uow:
            leaf = log.read_leaf(uow.connection, seq)
        if leaf is None:
            raise NotFound(f"no archive entry {seq}", field="seq")
        return decode_leaf(leaf, seq)

    def blob(self, digest: str) -> bytes:
        """The bytes of a blob or signature, checked against their SHA-256."""
        check_digest(digest)
        with self.store.read() as uow:
            data = log.get_blob(uow.connection, digest)
        if data is None:
            return self.blobs.get(digest)
        if hashlib.sha256(data).hexdigest() != digest:
            raise ArchiveCorrupt(f"blob {digest} does not match its SHA-256", field="blob")
        return data

    def checkpoints(self) -> list[Checkpoint]:
        with self.store.read() as uow:
            return log.read_checkpoints(uow.connection)

    def latest_checkpoint(self) -> Checkpoint | None:
        with self.store.read() as uow:
            return log.latest_checkpoint(uow.connection)

    def inclusion_proof(self, seq: int, *, checkpoint: Checkpoint | None = None) -> InclusionProof:
        """Prove entry `seq` against `checkpoint` (default: the latest one, if it covers it)."""
        with self.store.read() as uow:
            found = log.read_leaf(uow.connection, seq)
            if checkpoint is None:
                checkpoint = self._recent_checkpoint(uow.connection, seq)
        if found is None:
            raise NotFound(f"no archive entry {seq}", field="seq")
        entry = decode_leaf(found, seq)
        if checkpoint is None or checkpoint.size <= seq:
            raise NotFound(
                f"entry {seq} is not covered by a checkpoint yet (run `gateway archive checkpoint`)",
                field="seq",
            )
        tree = self._tree_at(checkpoint.size)
        with self._tree_lock:
            if checkpoint.root != tree.root(checkpoint.size):
                raise ArchiveCorrupt("the checkpoint does not match the log", field="checkpoint")
            leaf = entry.leaf_hash
            if leaf != tree.leaf(seq):
                raise ArchiveCorrupt(
                    f"archive entry {seq}: differs from the tree", field=f"archive entry {seq}"
                )
            path = tree.inclusion_proof(seq, checkpoint.size)
        return InclusionProof(entry, leaf, path, checkpoint)

    def _recent_checkpoint(self, conn: Connection, seq: int) -> Checkpoint | None:
        # the latest checkpoint, read again when the one kept is over a second old or too small
        kept, at = self._latest
        if kept is None or kept.size <= seq or time.monotonic() - at > 1.0:
            kept, at = log.latest_checkpoint(conn), time.monotonic()
            self._latest = (kept, at)
        return kept

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 §2.1.4 proof that the tree of size `first` is a prefix of size `second`."""
        tree = self._tree_at(second)
        with self._tree_lock:
            return tree.consistency_proof(first, second)

    # --- c2sp.org/tlog-tiles -----------------------------------------------------------------

    def _signed_size(self) -> int:
        latest = self.latest_checkpoint()
        return 0 if latest is None else latest.size

    def tile(self, level: int, index: int, width: int) -> bytes:
        """Hash tile `level`/`index` of `width` hashes, within the latest checkpoint's tree."""
        span = TILE_WIDTH**level
        if not 1 <= width <= TILE_WIDTH or (index * TILE_WIDTH + width) * span > self._signed_size():
            raise NotFound(f"no tile {level}/{index} of width {width}", field="tile")
        tree = self._tree_at((index * TILE_WIDTH + width) * span)
        with self._tree_lock:
            return tree.subtree_hashes(8 * level, index * TILE_WIDTH, width)

    def entry_bundle(self, index: int, width: int) -> bytes:
        """Entries index*256 .. index*256+width-1, each a big-endian uint16 length + leaf bytes."""
        start = index * TILE_WIDTH
        if not 1 <= width <= TILE_WIDTH or start + width > self._signed_size():
            raise NotFound(f"no entry bundle {index} of width {width}", field="tile")
        with self.store.read() as uow:
            leaves = [leaf for _seq, leaf, _h in log.read_entries(uow.connection, start, start + width)]
        return b"".join(len(leaf).to_bytes(2, "big") + leaf for leaf in leaves)


def _checked(kind: str, metadata: Mapping[str, str] | None) -> dict[str, str]:
    if not _KIND.fullmatch(kind):
        raise MalformedPayload(f"archive kind {kind!r}: [a-z0-9._-], 1-64", field="kind")
    meta = dict(metadata or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise MalformedPayload("archive metadata maps text to text", field="metadata")
    return meta
