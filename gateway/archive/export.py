"""Export an archive as one .tar.gz for an auditor: blobs, journal, checkpoints, how to check."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from gateway.archive.checkpoint import Checkpoint
from gateway.archive.journal import decode_record, iter_lines
from gateway.archive.packs import pack_name, scan_packs
from gateway.archive.store import CHECKPOINTS

README = """\
IFPA gateway archive export
===========================

journal.log        one record per line: <leaf hash hex> SP <entry JSON> LF
                   leaf hash = SHA-256(0x00 || entry JSON bytes)            RFC 9162 §2.1.1
                   entry JSON: seq, time (UTC), kind, blob (SHA-256 hex of the archived bytes),
                   size, sig (SHA-256 hex of its detached CMS signature, or null), meta
blobs/ab/ab...     the archived bytes and signatures, each named by its SHA-256
checkpoints/N.note C2SP tlog-checkpoint signed note over the first N entries: origin, N,
                   base64 root, "time ..." extension line; signature type 0x02 ECDSA P-256
checkpoints/N.txt  the note text (everything before the blank line)
checkpoints/N.p7s  detached CMS (DER) over N.txt by the gateway signing certificate

How to check
1. openssl cms -verify -binary -inform DER -in checkpoints/N.p7s -content checkpoints/N.txt \\
       -CAfile <the gateway CA> -purpose any -out /dev/null
2. Recompute every leaf hash, then the RFC 9162 §2.1 Merkle tree head of the first N leaves:
   it must equal the base64 root in N.txt. Sequence numbers run 0, 1, 2... without gaps.
3. For each record: SHA-256 of blobs/<blob> must equal "blob" and its length "size"; the file
   blobs/<sig> is a detached CMS signature of the blob: check it as in step 1 with
   -in blobs/<sig> -inform DER -content blobs/<blob>.
4. Consecutive checkpoints must be consistent: the smaller tree is a prefix of the larger one.
`gateway archive verify --dir <unpacked folder>` does all of the above.
"""


def export_bundle(directory: Path, out: Path) -> int:
    """Write the bundle to `out` (.tar.gz); returns the number of entries exported.

    Reads a consistent prefix without locking: complete journal lines only, and blobs are
    immutable once a record names them. Packed blobs are exported as one file each, as the
    README describes, so an auditor needs no knowledge of the pack format.
    """
    journal = directory / "journal.log"
    lines: list[bytes] = []
    digests: set[str] = set()
    if journal.exists():
        for _offset, line in iter_lines(journal):
            if not line.endswith(b"\n"):
                break
            entry, _leaf = decode_record(line, len(lines))
            lines.append(line)
            digests.add(entry.blob_sha256)
            if entry.signature_sha256:
                digests.add(entry.signature_sha256)
    checkpoints: list[tuple[Checkpoint, bytes]] = []
    path = directory / CHECKPOINTS
    if path.exists():
        for number, (_offset, line) in enumerate(iter_lines(path)):
            if not line.endswith(b"\n"):
                break
            checkpoint = Checkpoint.from_line(line, where=f"checkpoint {number}")
            if checkpoint.size <= len(lines):  # not those signed after our journal snapshot
                checkpoints.append((checkpoint, line))
    with tarfile.open(out, "w:gz") as tar:
        _add(tar, "README.txt", README.encode())
        _add(tar, "journal.log", b"".join(lines))
        _add(tar, CHECKPOINTS, b"".join(line for _cp, line in checkpoints))
        for checkpoint, _line in checkpoints:
            stem = f"checkpoints/{checkpoint.size}"
            _add(tar, f"{stem}.note", checkpoint.note.encode())
            _add(tar, f"{stem}.txt", checkpoint.text.encode())
            _add(tar, f"{stem}.p7s", checkpoint.cms)
        packed, _damaged, _problems, _notes = scan_packs(directory / "packs")
        for digest in sorted(digests):
            name = f"blobs/{digest[:2]}/{digest}"
            where = packed.get(bytes.fromhex(digest))
            if where is None:
                tar.add(directory / "blobs" / digest[:2] / digest, name)
                continue
            number, offset, length = where
            with (directory / "packs" / pack_name(number)).open("rb") as pack:
                pack.seek(offset)
                _add(tar, name, pack.read(length))
    return len(lines)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
