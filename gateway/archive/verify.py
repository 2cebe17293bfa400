"""Verify an archive folder from scratch: every record, blob, root, checkpoint signature.

Nothing derived is trusted (index.bin and the pack index are not used to find anything): the
journal is re-hashed record by record, every pack record is re-hashed and checked to be where its
header says (packs.py), and what the scan finds is kept as 20 bytes a blob (`PackedDigests`);
every blob file named by a record and not found in a pack is re-hashed, the Merkle root is
recomputed at each checkpoint's size and compared with the signed root, each checkpoint's CMS
and note signatures are checked against the trusted CA, and consecutive checkpoints are checked
consistent (RFC 9162 §2.1.4).

What it catches: a changed byte anywhere in a record or blob, a deleted, inserted or reordered
record (sequence numbers and the signed roots), a missing, moved or cut pack record or blob file,
and records removed from the end when a checkpoint covered them. The pack index (packindex.py) is
compared with what the scan found: an entry that differs, a good record without its entry, or a
run that is not the sorted entries of its stretch of the log is a problem when the packs are intact
(a note when damaged packs explain it); an index cut short at its end is what a crash leaves (the
log is not synced), a note, indexed again on the next open. Records appended after the latest
checkpoint are protected by their checksums only until the next checkpoint signs them: sign
checkpoints often (`checkpoint_every`).
An incomplete last line, or an incomplete last record of the last pack, is an interrupted, never
acknowledged append: reported as a note, not an error, so `verify` passes after a crash.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from gateway.archive.checkpoint import Checkpoint, verify_checkpoint
from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.journal import check_record, iter_lines
from gateway.archive.merkle import HASH_SIZE, MerkleTree, ProofError, verify_consistency
from gateway.archive.packs import PackedDigests, survey_packs
from gateway.archive.store import CHECKPOINTS

PARALLEL_THRESHOLD_BYTES = 4 << 20  # below this, forking costs more than it saves

# what the pack scan found, for the workers: the good records, digest -> damage
_PACKED = PackedDigests([])
_DAMAGED: dict[bytes, str] = {}


def _set_packs(packed: PackedDigests, damaged: dict[bytes, str]) -> None:
    # a worker initializer: forked workers inherit the dicts without pickling them
    global _PACKED, _DAMAGED
    _PACKED, _DAMAGED = packed, damaged


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
    directory: Path, *, trust_anchors: Sequence[x509.Certificate], workers: int | None = None
) -> VerifyReport:
    """Check everything in `directory`; `workers` processes share the journal and blob hashing."""
    report = VerifyReport()
    journal = directory / "journal.log"
    if not journal.exists():
        report.problems.append(f"{journal}: no journal (not an archive folder)")
        return report
    # the packs first, in this process: the workers look each named blob up in what it found
    packed, damaged, pack_problems, pack_notes = survey_packs(directory / "packs")
    chunks = _chunks(journal, workers or os.cpu_count() or 1)
    blobs = str(directory / "blobs")
    jobs = [(str(journal), start, end, first, blobs) for start, end, first in chunks]
    if len(jobs) == 1:
        _set_packs(packed, damaged)
        try:
            results = [_scan_chunk(*jobs[0])]
        finally:
            _set_packs(PackedDigests([]), {})
    else:
        # fork: cheap from the CLI; a big caller pays for copying itself (see bench/README.md)
        count = min(len(jobs), workers or os.cpu_count() or 1)
        with ProcessPoolExecutor(count, initializer=_set_packs, initargs=(packed, damaged)) as pool:
            results = list(pool.map(_scan_chunk, *zip(*jobs, strict=True)))
    del packed, damaged
    leaves = bytearray()
    entry_problems: list[tuple[int, str]] = []
    for result in results:
        if len(leaves) != result.first_seq * HASH_SIZE:
            break  # an earlier slice stopped at a bad record: later ones cannot be trusted
        leaves += result.leaves
        entry_problems += result.problems
        report.blobs += result.blobs
        report.notes += result.notes
        if not result.journal_ok:
            break
    tree = MerkleTree.from_leaf_bytes(bytes(leaves))
    report.entries = tree.size
    report.root = tree.root().hex()
    # the report names the first bad entry first
    report.problems += [message for _seq, message in sorted(entry_problems)]
    report.problems += pack_problems  # damage no entry names (an entry's own comes first)
    report.notes += pack_notes
    _check_checkpoints(directory / CHECKPOINTS, tree, trust_anchors, report)
    return report


def _chunks(journal: Path, workers: int) -> list[tuple[int, int, int]]:
    """(start offset, end offset, first sequence number) of line-aligned journal slices."""
    size = journal.stat().st_size
    if workers <= 1 or size < PARALLEL_THRESHOLD_BYTES:
        return [(0, size, 0)]
    parts = workers * 4  # smaller slices even out the load between processes
    bounds = [0]
    with journal.open("rb") as handle:
        for i in range(1, parts):
            handle.seek(size * i // parts)
            handle.readline()
            position = handle.tell()
            if bounds[-1] < position < size:
                bounds.append(position)
        bounds.append(size)
        chunks, first = [], 0
        for start, end in itertools.pairwise(bounds):
            chunks.append((start, end, first))
            handle.seek(start)
            remaining, lines = end - start, 0
            while remaining:
                block = handle.read(min(remaining, 1 << 24))
                lines += block.count(b"\n")
                remaining -= len(block)
            first += lines
    return chunks


@dataclass(slots=True)
class _ChunkResult:
    first_seq: int
    leaves: bytes
    journal_ok: bool
    blobs: int
    problems: list[tuple[int, str]]
    notes: list[str]


def _scan_chunk(journal: str, start: int, end: int, first_seq: int, blobs: str) -> _ChunkResult:
    """Decode the records of one slice and re-hash the blobs they name (runs in a worker)."""
    leaves = bytearray()
    problems: list[tuple[int, str]] = []
    notes: list[str] = []
    journal_ok = True
    seen: set[str] = set()
    reader = _BlobReader(blobs)
    seq = first_seq
    try:
        for offset, line in iter_lines(Path(journal), start, end):
            if not line.endswith(b"\n"):
                notes.append(
                    f"incomplete record at byte {offset} after entry {seq - 1}: an interrupted "
                    "append, never acknowledged (removed on the next write)"
                )
                break
            try:
                raw, leaf = check_record(line, seq)
            except ArchiveCorrupt as exc:
                problems.append((seq, exc.message))
                journal_ok = False
                break
            leaves += leaf
            for digest, size in ((raw["blob"], raw["size"]), (raw["sig"], None)):
                if digest is not None and digest not in seen:
                    seen.add(digest)
                    message = reader.check(digest, size)
                    if message:
                        problems.append((seq, f"journal entry {seq}: blob {digest} {message}"))
            seq += 1
    finally:
        reader.close()
    return _ChunkResult(first_seq, bytes(leaves), journal_ok, len(seen), problems, notes)


class _BlobReader:
    """Finds a blob in the packs' scan, or re-hashes its file (directory descriptors: 1M files)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._dirs: dict[str, int] = {}

    def close(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)

    def check(self, digest: str, size: int | None) -> str | None:
        raw = bytes.fromhex(digest)
        length = _PACKED.length(raw)
        if length is not None:
            return "has the wrong size" if size is not None and length != size else None
        problem = self._check_file(digest, size)
        if problem == "is missing" and raw in _DAMAGED:
            return _DAMAGED[raw]
        return problem

    def _check_file(self, digest: str, size: int | None) -> str | None:
        prefix = digest[:2]
        dir_fd = self._dirs.get(prefix)
        if dir_fd is None:
            try:
                dir_fd = os.open(os.path.join(self.root, prefix), os.O_RDONLY | os.O_DIRECTORY)
            except FileNotFoundError:
                return "is missing"
            self._dirs[prefix] = dir_fd
        try:
            fd = os.open(digest, os.O_RDONLY, dir_fd=dir_fd)
        except FileNotFoundError:
            return "is missing"
        try:
            hasher = hashlib.sha256()
            length = 0
            # one read when the size is known: asking for one byte more also catches a longer file
            want = size + 1 if size is not None else 1 << 20
            while block := os.read(fd, want):
                hasher.update(block)
                length += len(block)
                if size is not None and length > size:
                    break
                want = 1 << 20
        finally:
            os.close(fd)
        if size is not None and length != size:
            return "has the wrong size" if hasher.hexdigest() == digest else "was changed"
        if hasher.hexdigest() != digest:
            return "was changed"
        return None


def _check_checkpoints(
    path: Path,
    tree: MerkleTree,
    trust_anchors: Sequence[x509.Certificate],
    report: VerifyReport,
) -> None:
    if not path.exists():
        report.notes.append("no checkpoint yet: nothing is signed")
        return
    previous: Checkpoint | None = None
    for number, (offset, line) in enumerate(iter_lines(path)):
        where = f"checkpoint {number}"
        if not line.endswith(b"\n"):
            report.notes.append(f"incomplete checkpoint record at byte {offset}: interrupted")
            break
        try:
            checkpoint = Checkpoint.from_line(line, where=where)
            verify_checkpoint(checkpoint, trust_anchors=trust_anchors, where=where)
        except ArchiveCorrupt as exc:
            report.problems.append(exc.message)
            continue
        report.checkpoints += 1
        if checkpoint.size > tree.size:
            report.problems.append(
                f"{where} signs {checkpoint.size} entries but the journal has {tree.size} "
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
    """Check a `gateway archive proof` JSON the way an outsider would; raise ArchiveCorrupt.

    1. leaf_hash = SHA-256(0x00 || UTF-8 leaf_data)                     (RFC 9162 §2.1.1)
    2. fold inclusion_path from leaf_hash at leaf_index in tree_size     (RFC 9162 §2.1.3.2)
    3. the result equals the checkpoint's root, and the checkpoint's tree size is tree_size
    4. the checkpoint's CMS signature chains to the trusted CA and its note signature verifies
    """
    import base64

    from gateway.archive.merkle import leaf_hash, verify_inclusion

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
