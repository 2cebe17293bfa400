"""Emitting a SEPA file: validate against the official XSD, sign, archive, hand to the bank channel.

Shared by the collection (pain.008) and payout (pain.001) runs. The file is written to a staging
folder first; only a file that passed the XSD is signed, archived and sent.
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
    def sign_detached(self, data: bytes) -> bytes: ...


class _Archive(Protocol):
    def append(
        self, kind: str, blob: bytes, *, signature: bytes | None, metadata: dict[str, str]
    ) -> object: ...


@dataclass(frozen=True, slots=True)
class Emitted:
    path: Path
    sha256: str
    signature: bytes
    archive_seq: int | None
    channel_ref: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
    data = path.read_bytes()
    signature = signer.sign_detached(data)
    entry = archive.append(
        f"outbound-{kind}",
        data,
        signature=signature,
        metadata={"message_id": message_id, "version": version, "created_at": created_at.isoformat()},
    )
    reference = channel.send(path, signature, name=path.name)
    seq = getattr(entry, "seq", None)
    return Emitted(
        path, hashlib.sha256(data).hexdigest(), signature, seq if isinstance(seq, int) else None, reference
    )
