"""Export the archive as one .tar.gz for an auditor: blobs, journal, checkpoints, how to check.

The bundle's layout is the archive's folder format (journal.log, checkpoints.jsonl, blobs/), so
`gateway archive migrate --from <unpacked folder>` loads it into an empty database and verifies it.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from gateway.archive import log
from gateway.archive.journal import check_leaf
from gateway.archive.store import Archive

README = """\
IFPA gateway archive export
===========================

journal.log        one entry per line: <leaf hash hex> SP <entry JSON> LF
                   leaf hash = SHA-256(0x00 || entry JSON bytes)            RFC 9162 §2.1.1
                   entry JSON: seq, time (UTC), kind, blob (SHA-256 hex of the archived bytes),
                   size, sig (SHA-256 hex of its detached CMS signature, or null), meta
blobs/ab/ab...     the archived bytes and signatures, each named by its SHA-256
checkpoints.jsonl  every checkpoint: {"cms": base64 DER, "note": signed note}
checkpoints/N.note C2SP tlog-checkpoint signed note over the first N entries: origin, N,
                   base64 root, "time ..." extension line; signature type 0x02 ECDSA P-256
checkpoints/N.txt  the note text (everything before the blank line)
checkpoints/N.p7s  detached CMS (DER) over N.txt by the gateway signing certificate

How to check
1. openssl cms -verify -binary -inform DER -in checkpoints/N.p7s -content checkpoints/N.txt \\
       -CAfile <the gateway CA> -purpose any -out /dev/null
2. Recompute every leaf hash, then the RFC 9162 §2.1 Merkle tree head of the first N leaves:
   it must equal the base64 root in N.txt. Sequence numbers run 0, 1, 2... without gaps.
3. For each entry: SHA-256 of blobs/<blob> must equal "blob" and its length "size"; the file
   blobs/<sig> is a detached CMS signature of the blob: check it as in step 1 with
   -in blobs/<sig> -inform DER -content blobs/<blob>.
4. Consecutive checkpoints must be consistent: the smaller tree is a prefix of the larger one.
`gateway archive migrate --from <unpacked folder> --database sqlite:///check.sqlite3` does all of
the above (it verifies what it loaded).
"""


def export_bundle(archive: Archive, out: Path) -> int:
    """Write the bundle to `out` (.tar.gz) from one read transaction; the number of entries."""
    with archive.store.read() as uow, tarfile.open(out, "w:gz") as tar:
        conn = uow.connection
        size = log.head_size(conn)
        lines: list[bytes] = []
        digests: set[str] = set()
        for seq, leaf, digest in log.read_entries(conn, 0, size):
            raw = check_leaf(leaf, seq)
            lines.append(digest.hex().encode() + b" " + leaf + b"\n")
            digests.update(d for d in (raw["blob"], raw["sig"]) if d)
        checkpoints = [cp for cp in log.read_checkpoints(conn) if cp.size <= size]
        _add(tar, "README.txt", README.encode())
        _add(tar, "journal.log", b"".join(lines))
        _add(tar, "checkpoints.jsonl", b"".join(cp.to_line() + b"\n" for cp in checkpoints))
        for cp in checkpoints:
            _add(tar, f"checkpoints/{cp.size}.note", cp.note.encode())
            _add(tar, f"checkpoints/{cp.size}.txt", cp.text.encode())
            _add(tar, f"checkpoints/{cp.size}.p7s", cp.cms)
        for name in sorted(digests):
            data = log.get_blob(conn, name)
            _add(tar, f"blobs/{name[:2]}/{name}", archive.blobs.get(name) if data is None else data)
    return len(lines)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
