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
from typing import Any, Protocol

from gateway.domain.money import format_euros
from gateway.events import FILE_EMITTED, publish
from gateway.sepa.model import WriteSummary
from gateway.sepa.xsd import validate_file
from gateway.store.payments import PaymentFileRow, SqlPayments
from gateway.store.ports import UnitOfWork
from gateway.transport.bank import BankChannel


class _Signer(Protocol):
    def sign_detached_digest(self, sha256: bytes) -> bytes: ...


class _Archive(Protocol):
    def append_file(
        self, kind: str, path: Path, *, signature: bytes | None, metadata: dict[str, str], uow: Any = None
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
    uow: UnitOfWork | None = None,
) -> Emitted:
    """Validate, sign, archive and send one staged file; raises before sending if anything fails.

    With `uow`, the file is archived in that transaction (the run's), committed with its row."""
    validate_file(path, version)
    digest = _file_digest(path)
    signature = signer.sign_detached_digest(digest.digest())
    entry = archive.append_file(
        f"outbound-{kind}",
        path,
        signature=signature,
        metadata={"message_id": message_id, "version": version, "created_at": created_at.isoformat()},
        uow=uow,
    )
    archived = getattr(entry, "blob_sha256", None)
    if archived is not None and archived != digest.hexdigest():
        # the staged file changed between signing and archiving: never send unsigned bytes
        raise RuntimeError(f"{path} changed while it was being signed and archived")
    reference = channel.send(path, signature, name=path.name)
    seq = getattr(entry, "seq", None)
    return Emitted(path, digest.hexdigest(), signature, seq if isinstance(seq, int) else None, reference)


def emit_and_record(
    path: Path,
    summary: WriteSummary,
    *,
    uow: UnitOfWork,
    payments: SqlPayments,
    kind: str,
    label: str,
    event: dict[str, str],
    created_at: datetime,
    signer: _Signer,
    archive: _Archive,
    channel: BankChannel,
) -> Emitted:
    """`emit` a written file, then record it and publish `file.emitted` in the run's transaction."""
    emitted = emit(
        path, kind=kind, version=summary.version, message_id=summary.message_id, created_at=created_at,
        signer=signer, archive=archive, channel=channel, uow=uow,
    )  # fmt: skip
    payments.add_file(
        PaymentFileRow(
            summary.message_id, kind, summary.version, label, created_at, path.name, emitted.sha256,
            summary.count, summary.total_cents, emitted.archive_seq, emitted.channel_ref,
        )
    )  # fmt: skip
    data = {"kind": kind, "message_id": summary.message_id, **event, "count": summary.count}
    data |= {"total": format_euros(summary.total_cents), "sha256": emitted.sha256}
    publish(uow.events, FILE_EMITTED, data, at=created_at)
    return emitted
