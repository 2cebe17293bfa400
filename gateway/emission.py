"""Emitting a SEPA file: validate against the official XSD, sign, archive, hand to the bank channel.

Shared by the collection (pain.008) and payout (pain.001) runs. The file is written to a staging
folder first; only a file that passed the XSD is signed, archived and sent. A national file holds a
million transactions (several hundred MB), so nothing here loads it: the XSD check streams, the
signature is made from a digest computed in chunks, and the archive copies the file in chunks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from gateway.sepa.xsd import validate_file
from gateway.transport.bank import BankChannel


class _Signer(Protocol):
    def sign_detached_digest(self, sha256: bytes) -> bytes: ...


class _Archive(Protocol):
    def append_file(
        self, kind: str, path: Path, *, signature: bytes | None, metadata: dict[str, str]
    ) -> object: ...


@dataclass(frozen=True, slots=True)
class Emitted:
    path: Path
    sha256: str
    signature: bytes
    archive_seq: int | None
    channel_ref: str


def file_sha256(path: Path) -> str:
    return _file_digest(path).hexdigest()


def _file_digest(path: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest


def emit(
    path: Path,
    *,
    kind: str,
    version: str,
    message_id: str,
    created_at: datetime,
    signer: _Signer,
    archive: _Archive,
    channel: BankChannel,
) -> Emitted:
    """Validate, sign, archive and send one staged file; raises before sending if anything fails."""
    validate_file(path, version)
    digest = _file_digest(path)
    signature = signer.sign_detached_digest(digest.digest())
    entry = archive.append_file(
        f"outbound-{kind}",
        path,
        signature=signature,
        metadata={"message_id": message_id, "version": version, "created_at": created_at.isoformat()},
    )
    archived = getattr(entry, "blob_sha256", None)
    if archived is not None and archived != digest.hexdigest():
        # the staged file changed between signing and archiving: never send unsigned bytes
        raise RuntimeError(f"{path} changed while it was being signed and archived")
    reference = channel.send(path, signature, name=path.name)
    seq = getattr(entry, "seq", None)
    return Emitted(path, digest.hexdigest(), signature, seq if isinstance(seq, int) else None, reference)
