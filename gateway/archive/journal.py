"""An archive entry: what was archived, when, under which sequence number; its leaf bytes.

The entry JSON is canonical (keys sorted, no spaces, `ensure_ascii=False`):

    {"blob":"<sha256 hex>","kind":"inbound-payload","meta":{"k":"v"},"seq":0,
     "sig":"<sha256 hex of the signature blob>"|null,"size":1234,"time":"2026-11-02T09:30:00.000000Z"}

Its UTF-8 bytes are the Merkle leaf data: leaf hash = SHA-256(0x00 || entry JSON) (RFC 9162
§2.1.1). The same bytes are served in c2sp.org/tlog-tiles entry bundles, so a leaf is at most
65,535 bytes (a bundle prefixes each entry with a big-endian uint16 length).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.merkle import leaf_hash

MAX_LEAF = 0xFFFF  # c2sp.org/tlog-tiles: entries are uint16 length-prefixed in a bundle
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
    """One log entry: what was archived, when, under which sequence number."""

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


def _is_hex(value: object) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def _corrupt(seq: int, problem: str) -> ArchiveCorrupt:
    where = f"archive entry {seq}"
    return ArchiveCorrupt(f"{where}: {problem}", field=where)


def check_leaf(data: bytes, expected_seq: int) -> dict[str, Any]:
    """Parse and check one entry's leaf bytes; raise ArchiveCorrupt naming the entry."""
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
    return raw


def decode_leaf(data: bytes, expected_seq: int) -> ArchiveEntry:
    raw = check_leaf(data, expected_seq)
    return ArchiveEntry(
        seq=raw["seq"],
        time=parse_time(raw["time"]),
        kind=raw["kind"],
        blob_sha256=raw["blob"],
        size=raw["size"],
        signature_sha256=raw["sig"],
        metadata=raw["meta"],
    )
