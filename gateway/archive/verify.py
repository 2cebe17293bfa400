"""Verify the archive from scratch: every entry, blob, root, checkpoint signature.

Nothing derived is trusted: every entry's leaf is re-hashed and compared with its stored hash,
parsed and checked to carry its own sequence number (0, 1, 2... with no gap, and as many as the
sequencing row says were committed); every blob row is re-hashed, and every blob an entry names
is found (a row, or a file of the blob store re-hashed) with the entry's size; the Merkle root is
recomputed at each checkpoint's size and compared with the signed root; each checkpoint's CMS and
note signatures are checked against the trusted CA, and consecutive checkpoints are checked
consistent (RFC 9162 §2.1.4). Entries after the latest checkpoint are protected by their leaf
hashes only until the next checkpoint signs them (a note says how many).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from sqlalchemy import Connection, create_engine, select

from gateway.archive import log
from gateway.archive.blobs import BlobStore
from gateway.archive.checkpoint import Checkpoint, verify_checkpoint
from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.journal import check_leaf
from gateway.archive.merkle import (
    HASH_SIZE,
    MerkleTree,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from gateway.store import schema


@dataclass(slots=True)
class VerifyReport:
    """The outcome: `problems` empty means the archive is intact."""

    entries: int = 0
    blobs: int = 0
    checkpoints: int = 0
    root: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "blobs": self.blobs,
            "checkpoints": self.checkpoints,
            "root_hash": self.root,
            "first_problem": self.problems[0] if self.problems else None,
            "problems": self.problems,
            "notes": self.notes,
        }


def verify_archive(
    conn: Connection,
    blobs: BlobStore,
    *,
    trust_anchors: Sequence[x509.Certificate],
    workers: int | None = None,
) -> VerifyReport:
    """Check everything the archive holds, read through `conn` (one read transaction).

    `workers` processes (default: one per core) share the entries; each reads its slice through a
    connection of its own (committed entries below the sequencing row never change)."""
    report = VerifyReport()
    head = log.head_size(conn)
    end = max(head, _max_seq(conn) + 1)
    stored = _blob_rows(conn, report)
    count = max(1, min(workers or os.cpu_count() or 1, end // PARALLEL_MIN_ENTRIES))
    if count == 1:
        slices = [_scan(conn, blobs, stored, 0, end)]
    else:
        global _JOB  # noqa: PLW0603 - what forked workers inherit instead of pickling it
        _JOB = (conn.engine.url.render_as_string(hide_password=False), blobs, stored)
        bounds = [end * i // (count * 4) for i in range(count * 4 + 1)]
        context = multiprocessing.get_context("fork")
        try:
            with ProcessPoolExecutor(count, mp_context=context) as pool:
                slices = list(pool.map(_scan_in_worker, bounds[:-1], bounds[1:]))
        finally:
            _JOB = None
    leaves = bytearray()
    for part in slices:
        report.problems += part.problems
        report.blobs += part.blobs
        leaves += part.leaves
        if part.problems:
            break  # later slices cannot be trusted past a broken entry
    seq = len(leaves) // HASH_SIZE
    if not report.problems and seq != head:
        report.problems.append(f"the log holds {seq} entries but {head} were committed: entries are missing")
    tree = MerkleTree.from_leaf_bytes(bytes(leaves))
    report.entries, report.root = tree.size, tree.root().hex()
    _check_checkpoints(log.read_checkpoints(conn), tree, trust_anchors, report)
    return report


PARALLEL_MIN_ENTRIES = 50_000  # below this per process, forking costs more than it saves
_JOB: tuple[str, BlobStore, dict[str, int]] | None = None


@dataclass(slots=True)
class _Slice:
    leaves: bytes
    blobs: int
    problems: list[str]


def _scan_in_worker(start: int, end: int) -> _Slice:
    assert _JOB is not None
    url, blobs, stored = _JOB
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return _scan(conn, blobs, stored, start, end)
    finally:
        engine.dispose()


def _scan(conn: Connection, blobs: BlobStore, stored: dict[str, int], start: int, end: int) -> _Slice:
    """Check the entries start <= seq < end: leaf hashes, form, sequence numbers, their blobs."""
    leaves = bytearray()
    problems: list[str] = []
    seen: set[str] = set()
    seq = start
    for row_seq, leaf, stored_hash in log.read_entries(conn, start, end):
        where = f"archive entry {seq}"
        if row_seq != seq:
            problems.append(f"{where} is missing (entries deleted)")
            break
        digest = leaf_hash(leaf)
        if digest != stored_hash:
            problems.append(f"{where}: leaf hash mismatch (changed bytes)")
            break
        try:
            raw = check_leaf(leaf, seq)
        except ArchiveCorrupt as exc:
            problems.append(exc.message)
            break
        leaves += digest
        for name, size in ((raw["blob"], raw["size"]), (raw["sig"], None)):
            if name is not None and name not in seen:
                seen.add(name)
                problem = _blob_problem(name, size, stored, blobs)
                if problem:
                    problems.append(f"{where}: blob {name} {problem}")
        seq += 1
    if not problems and seq < end and start < end:
        problems.append(f"archive entry {seq} is missing (entries deleted)")
    return _Slice(bytes(leaves), len(seen), problems)


def _max_seq(conn: Connection) -> int:
    t = schema.archive_entries
    value = conn.execute(select(t.c.seq).order_by(t.c.seq.desc()).limit(1)).scalar()
    return -1 if value is None else int(value)


def _blob_rows(conn: Connection, report: VerifyReport) -> dict[str, int]:
    """digest -> size of every blob row whose bytes hash to its name; a problem for the others."""
    t = schema.archive_blobs
    good: dict[str, int] = {}
    for name, data in conn.execution_options(yield_per=2000).execute(select(t.c.sha256, t.c.data)):
        if hashlib.sha256(data).hexdigest() == name:
            good[name] = len(data)
        else:
            report.problems.append(f"blob {name} was changed")
    return good


def _blob_problem(name: str, size: int | None, stored: dict[str, int], blobs: BlobStore) -> str | None:
    length = stored.get(name)
    if length is None:
        found = blobs.hash_of(name)
        if found is None:
            return "is missing"
        digest, length = found
        if digest != name:
            return "was changed"
    return "has the wrong size" if size is not None and length != size else None


def _check_checkpoints(
    checkpoints: list[Checkpoint],
    tree: MerkleTree,
    trust_anchors: Sequence[x509.Certificate],
    report: VerifyReport,
) -> None:
    if not checkpoints:
        report.notes.append("no checkpoint yet: nothing is signed")
        return
    previous: Checkpoint | None = None
    for checkpoint in checkpoints:
        where = f"checkpoint {checkpoint.size}"
        try:
            verify_checkpoint(checkpoint, trust_anchors=trust_anchors, where=where)
        except ArchiveCorrupt as exc:
            report.problems.append(exc.message)
            continue
        report.checkpoints += 1
        if checkpoint.size > tree.size:
            report.problems.append(
                f"{where} signs {checkpoint.size} entries but the log has {tree.size} "
                f"valid ones: entries from {tree.size} on are missing or damaged"
            )
            continue
        if checkpoint.root != tree.root(checkpoint.size):
            low = previous.size if previous else 0
            report.problems.append(
                f"{where}: the signed root of the first {checkpoint.size} entries does not "
                f"match; an entry between {low} and {checkpoint.size - 1} was changed"
            )
            continue
        if previous is not None:
            if checkpoint.origin != previous.origin:
                report.problems.append(f"{where}: origin {checkpoint.origin!r} changed")
            try:
                verify_consistency(
                    previous.size,
                    checkpoint.size,
                    previous.root,
                    checkpoint.root,
                    tree.consistency_proof(previous.size, checkpoint.size),
                )
            except (ProofError, ValueError) as exc:
                report.problems.append(f"{where}: not consistent with the previous one ({exc})")
        previous = checkpoint
    if previous is not None and previous.size < tree.size:
        report.notes.append(f"entries {previous.size} to {tree.size - 1} are not covered by a checkpoint yet")


def verify_proof_document(document: dict[str, Any], *, trust_anchors: Sequence[x509.Certificate]) -> None:
    """Check a `gateway archive proof --json` document the way an outsider would; raise ArchiveCorrupt.

    1. leaf_hash = SHA-256(0x00 || UTF-8 leaf_data)                     (RFC 9162 §2.1.1)
    2. fold inclusion_path from leaf_hash at leaf_index in tree_size     (RFC 9162 §2.1.3.2)
    3. the result equals the checkpoint's root, and the checkpoint's tree size is tree_size
    4. the checkpoint's CMS signature chains to the trusted CA and its note signature verifies
    """
    import base64

    where = "proof"
    try:
        data = str(document["leaf_data"]).encode()
        index, size = int(document["leaf_index"]), int(document["tree_size"])
        path = [bytes.fromhex(p) for p in document["inclusion_path"]]
        cp = document["checkpoint"]
        checkpoint = Checkpoint.from_note(
            str(cp["note"]), base64.b64decode(cp["cms"], validate=True), where=where
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchiveCorrupt(f"malformed proof document ({exc})", field=where) from exc
    leaf = leaf_hash(data)
    if leaf.hex() != document.get("leaf_hash"):
        raise ArchiveCorrupt("leaf_hash does not match leaf_data", field=where)
    if checkpoint.size != size:
        raise ArchiveCorrupt("tree_size differs from the checkpoint's", field=where)
    try:
        verify_inclusion(index, size, leaf, path, checkpoint.root)
    except ProofError as exc:
        raise ArchiveCorrupt(f"inclusion proof: {exc}", field=where) from exc
    verify_checkpoint(checkpoint, trust_anchors=trust_anchors, where=where)
