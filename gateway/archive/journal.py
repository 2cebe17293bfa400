"""The append-only journal: one newline-terminated record per archived item, leaves of the tree.

File `journal.log`, UTF-8, one record per line:

    <leaf hash, 64 hex> SP <entry JSON> LF

The entry JSON is canonical (keys sorted, no spaces, `ensure_ascii=False`, JSON escapes every
control character so a record never holds a raw LF):

    {"blob":"<sha256 hex>","kind":"inbound.greffe","meta":{"k":"v"},"seq":0,
     "sig":"<sha256 hex of the signature blob>"|null,"size":1234,"time":"2026-11-02T09:30:00.000000Z"}

Its UTF-8 bytes are the Merkle leaf: leaf hash = SHA-256(0x00 || entry JSON) (RFC 9162 §2.1.1).
The leading leaf hash doubles as the record checksum, so a torn or flipped record shows on read.
A record is acknowledged once it and its LF are fsync'ed (a group of records shares one fsync);
an incomplete last line (no LF) is an interrupted append and is cut off when a writer opens it.

File `index.bin` is a derived cache (40 bytes a record: 8-byte big-endian offset + leaf hash) for
random access; it is rebuilt from the journal when its tail disagrees, and `verify` never relies on
it. Opening re-hashes every record (no JSON parsing: about 1 s per million records) and refuses a
journal whose checksums or index do not match, so no checkpoint is ever signed over damaged data.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.merkle import HASH_SIZE, leaf_hash

INDEX_RECORD = 8 + HASH_SIZE
_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIELDS = frozenset({"blob", "kind", "meta", "seq", "sig", "size", "time"})


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("archive times are timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    # the one layout format_time writes; fromisoformat is C-fast, strptime is not (1M entries)
    if len(text) != 27 or text[-1] != "Z" or text[10] != "T" or text[19] != ".":
        raise ValueError(f"not an archive time: {text!r}")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """One journal record: what was archived, when, under which sequence number."""

    seq: int
    time: datetime
    kind: str
    blob_sha256: str
    size: int
    signature_sha256: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "blob": self.blob_sha256,
            "kind": self.kind,
            "meta": dict(self.metadata),
            "seq": self.seq,
            "sig": self.signature_sha256,
            "size": self.size,
            "time": format_time(self.time),
        }

    def leaf_data(self) -> bytes:
        """The canonical bytes hashed into the Merkle tree."""
        return canonical_json(self.to_json())

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.leaf_data())


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def encode_record(entry: ArchiveEntry) -> tuple[bytes, bytes]:
    """(journal line, leaf hash) of an entry."""
    data = entry.leaf_data()
    digest = leaf_hash(data)
    return digest.hex().encode() + b" " + data + b"\n", digest


def _is_hex(value: object) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def _corrupt(seq: int, problem: str) -> ArchiveCorrupt:
    where = f"journal entry {seq}"
    return ArchiveCorrupt(f"{where}: {problem}", field=where)


def check_record(line: bytes, expected_seq: int) -> tuple[dict[str, Any], bytes]:
    """Check one complete line (with its LF): (the entry as JSON, its leaf hash).

    Raises ArchiveCorrupt naming the entry. `verify` calls this for every record, so it avoids
    building objects it does not need.
    """
    if len(line) < 67 or line[64:65] != b" " or not line.endswith(b"\n"):
        raise _corrupt(expected_seq, "malformed record")
    data = line[65:-1]
    digest = leaf_hash(data)
    if digest.hex().encode() != line[:64]:
        raise _corrupt(expected_seq, "record checksum mismatch (changed bytes)")
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise _corrupt(expected_seq, "not JSON") from exc
    if not isinstance(raw, dict) or raw.keys() != _FIELDS:
        raise _corrupt(expected_seq, "unexpected fields")
    meta = raw["meta"]
    sig = raw["sig"]
    valid = (
        type(raw["seq"]) is int
        and type(raw["size"]) is int
        and raw["size"] >= 0
        and isinstance(raw["kind"], str)
        and isinstance(raw["time"], str)
        and _is_hex(raw["blob"])
        and (sig is None or _is_hex(sig))
        and isinstance(meta, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    )
    if not valid:
        raise _corrupt(expected_seq, "field types")
    if raw["seq"] != expected_seq:
        raise _corrupt(expected_seq, f"sequence number {raw['seq']} (entries deleted or reordered)")
    try:
        parse_time(raw["time"])
    except ValueError as exc:
        raise _corrupt(expected_seq, "bad time") from exc
    # one byte form per entry, so the leaf can be recomputed from the parsed entry
    if canonical_json(raw) != data:
        raise _corrupt(expected_seq, "not in canonical form")
    return raw, digest


def decode_record(line: bytes, expected_seq: int) -> tuple[ArchiveEntry, bytes]:
    """Parse and check one complete line (with its LF); raise ArchiveCorrupt naming the entry."""
    raw, digest = check_record(line, expected_seq)
    entry = ArchiveEntry(
        seq=raw["seq"],
        time=parse_time(raw["time"]),
        kind=raw["kind"],
        blob_sha256=raw["blob"],
        size=raw["size"],
        signature_sha256=raw["sig"],
        metadata=raw["meta"],
    )
    return entry, digest


def iter_lines(path: Path, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(offset, line) for every line from `start`; the last one may lack its LF (torn)."""
    with path.open("rb", buffering=1 << 20) as handle:
        handle.seek(start)
        offset = start
        for line in handle:
            if end is not None and offset >= end:
                return
            yield offset, line
            offset += len(line)


class Journal:
    """`journal.log` + `index.bin`; every method runs with the archive lock held by the caller."""

    def __init__(self, directory: Path, *, fsync: bool = True) -> None:
        self.path = directory / "journal.log"
        self.index_path = directory / "index.bin"
        self.fsync = fsync
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        self._index_fd = os.open(self.index_path, os.O_RDWR | os.O_CREAT, 0o640)
        self.count = 0
        self.end = 0

    def close(self) -> None:
        os.close(self._fd)
        os.close(self._index_fd)

    def recover(self) -> bytes:
        """Bring index and journal into agreement; cut a torn tail. Returns every leaf hash, joined."""
        size = os.fstat(self._fd).st_size
        index = _read_all(self._index_fd)
        count = len(index) // INDEX_RECORD
        end = 0
        if count:
            offset = int.from_bytes(index[(count - 1) * INDEX_RECORD :][:8], "big")
            line = self._line_at(offset, size)
            expected = index[(count - 1) * INDEX_RECORD + 8 : count * INDEX_RECORD]
            if line is not None and line[:64] == expected.hex().encode():
                end = offset + len(line)
            else:
                count = 0  # the cache is stale or damaged: rebuild it from the journal
        leaves = self._rehash(index, count, end)
        if len(leaves) != count * HASH_SIZE:
            leaves, count, end = bytearray(), 0, 0  # index and journal disagree: check all records
        self.count, self.end = count, end
        self._truncate_index()
        leaves += b"".join(self.catch_up(size))
        return bytes(leaves)

    def _rehash(self, index: bytes, count: int, end: int) -> bytearray:
        # the gateway never signs a root over bytes it has not hashed itself: re-hash every
        # record (cheap: no JSON) and check it against its checksum; repair the index cache
        leaves = bytearray()  # 32 bytes a record, not an object each (1M records: 32 MB, not 100)
        fresh = bytearray()
        for seq, (offset, line) in enumerate(iter_lines(self.path, 0, end)):
            digest = leaf_hash(line[65:-1])
            if line[:64] != digest.hex().encode() or line[64:65] != b" ":
                where = f"journal entry {seq}"
                raise ArchiveCorrupt(
                    f"{where}: damaged (run `gateway archive verify`); refusing to sign over it",
                    field=where,
                )
            leaves += digest
            fresh += offset.to_bytes(8, "big") + digest
        if len(leaves) == count * HASH_SIZE and fresh != index[: len(fresh)]:
            os.pwrite(self._index_fd, bytes(fresh), 0)
        return leaves

    def catch_up(self, size: int | None = None) -> list[bytes]:
        """Read records appended since `end` (by another process); returns their leaf hashes."""
        size = os.fstat(self._fd).st_size if size is None else size
        if size < self.end:
            raise ArchiveCorrupt(
                f"journal shrank to {size} bytes below acknowledged {self.end}", field="journal"
            )
        leaves: list[bytes] = []
        index = bytearray()
        for offset, line in iter_lines(self.path, self.end, size):
            if not line.endswith(b"\n"):
                # an interrupted append: nothing acknowledged it; drop it
                os.truncate(self.path, offset)
                break
            _raw, digest = check_record(line, self.count)
            index += offset.to_bytes(8, "big") + digest
            leaves.append(digest)
            self.count += 1
            self.end = offset + len(line)
        if index:
            os.pwrite(self._index_fd, bytes(index), (self.count - len(leaves)) * INDEX_RECORD)
        return leaves

    def append(self, entry: ArchiveEntry) -> bytes:
        """Write and fsync one record; returns its leaf hash. The caller holds the lock."""
        return self.append_many([entry])[0]

    def append_many(self, entries: list[ArchiveEntry]) -> list[bytes]:
        """Write records in one write and one fsync; returns their leaf hashes. Lock held."""
        lines: list[bytes] = []
        digests: list[bytes] = []
        for number, entry in enumerate(entries):
            if entry.seq != self.count + number:
                raise ValueError("append out of sequence")
            line, digest = encode_record(entry)
            lines.append(line)
            digests.append(digest)
        data = b"".join(lines)
        try:
            if os.write(self._fd, data) != len(data):
                raise OSError("short write to the journal (disk full?)")
            if self.fsync:
                os.fsync(self._fd)
        except BaseException:
            # not acknowledged: take the records back so the next append reuses their numbers
            os.ftruncate(self._fd, self.end)
            raise
        index = bytearray()
        offset = self.end
        for line, digest in zip(lines, digests, strict=True):
            index += offset.to_bytes(8, "big") + digest
            offset += len(line)
        os.pwrite(self._index_fd, bytes(index), self.count * INDEX_RECORD)
        self.count += len(entries)
        self.end = offset
        return digests

    def read(self, seq: int) -> ArchiveEntry:
        if not 0 <= seq < self.count:
            raise IndexError(seq)
        record = os.pread(self._index_fd, INDEX_RECORD, seq * INDEX_RECORD)
        line = self._line_at(int.from_bytes(record[:8], "big"), self.end)
        if line is None:
            raise ArchiveCorrupt(f"journal entry {seq}: missing", field=f"journal entry {seq}")
        return decode_record(line, seq)[0]

    def _line_at(self, offset: int, size: int) -> bytes | None:
        if offset >= size:
            return None
        chunk = bytearray()
        while True:
            part = os.pread(self._fd, 4096, offset + len(chunk))
            if not part:
                return None
            newline = part.find(b"\n")
            if newline >= 0:
                chunk += part[: newline + 1]
                return bytes(chunk)
            chunk += part

    def _truncate_index(self) -> None:
        os.ftruncate(self._index_fd, self.count * INDEX_RECORD)


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0) if size else b""
