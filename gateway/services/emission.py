"""Emitting a SEPA file: validate against the official XSD, sign, archive, record; then the bank.

Shared by the collection (pain.008) and payout (pain.001) runs. The writer puts the file in a
staging folder through `gateway.sepa.xsd.ValidatingSink`: each byte is checked against the official
XSD (libxml2, on the second core) and hashed (SHA-256) as it is written, and a file that fails is
deleted before the writer returns (`gateway.sepa.xmltext.to_sink`). So the file is never read again
here: a national file holds a million transactions (~530 MB), and it used to be read three times
(XSD, digest for the signature, the archive's own digest). The signature is made from the digest
the writer computed (`sign_detached_digest`), and the archive stores the file under that digest
(`Archive.append_file(..., sha256=...)`), without hashing it again; `gateway archive verify` still
hashes what is stored.

The bank gets a file only from what is committed (an outbox, issue 12): `emit_and_record` records
the file (its path, SHA-256 and signature) in the run's transaction, as `pending`; `hand_off`,
after the commit, gives the recorded file to the bank channel, marks it `sent` and removes the
staged copy. A run killed between its commit and the hand-off, or between the hand-off and the
mark, leaves the row pending: the next `hand_off_pending` (every run starts with it) sends the
very same bytes with the same MsgId, never a new file. The bank may thus see one file twice, never
two files for one set of debits; the folder channel writes it under the same name.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.domain.money import format_euros
from gateway.errors import BankChannelError, SourceFileChanged, SourceFileUnreadable
from gateway.private import private_dir
from gateway.sepa.model import WriteSummary
from gateway.services.events import FILE_EMITTED, publish
from gateway.services.ports import (
    Archive,
    BankChannel,
    PaymentsRepository,
    PaymentsStore,
    PaymentsUnitOfWork,
    Signer,
)
from gateway.services.records import OutboxRow, PaymentFileRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Emitted:
    path: Path
    sha256: str
    signature: bytes
    archive_seq: int | None
    channel_ref: str


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file read in chunks (a bank report; the HTTP channel's check before an upload)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def prepare(
    path: Path,
    summary: WriteSummary,
    *,
    kind: str,
    created_at: datetime,
    signer: Signer,
    archive: Archive,
    uow: PaymentsUnitOfWork | None = None,
) -> Emitted:
    """Sign and archive one staged file that its writer validated and hashed (nothing is sent).

    `summary` is what the writer returned for `path`: its SHA-256 and size were computed while the
    bytes were written, after the XSD check passed. With `uow`, the file is archived in that
    transaction (the run's), committed with its row."""
    if summary.sha256 is None or summary.size is None:
        # a programming error, not an input: only a file written to a path is validated and hashed
        raise ValueError(f"{path.name} was not written through a validating sink (no digest)")
    private_dir(path.parent)
    if path.stat().st_size != summary.size:
        # the staged file changed after it was written: never sign or send other bytes
        raise RuntimeError(f"{path.name} changed after it was written and validated")
    signature = signer.sign_detached_digest(bytes.fromhex(summary.sha256))
    entry = archive.append_file(
        f"outbound-{kind}",
        path,
        signature=signature,
        metadata={
            "message_id": summary.message_id,
            "version": summary.version,
            "created_at": created_at.isoformat(),
        },
        uow=uow,
        sha256=summary.sha256,
    )
    seq = getattr(entry, "seq", None)
    return Emitted(path, summary.sha256, signature, seq if isinstance(seq, int) else None, "")


def emit_and_record(
    path: Path,
    summary: WriteSummary,
    *,
    uow: PaymentsUnitOfWork,
    payments: PaymentsRepository,
    kind: str,
    label: str,
    event: dict[str, str],
    created_at: datetime,
    signer: Signer,
    archive: Archive,
) -> Emitted:
    """`prepare` a file a writer wrote to `path` (`summary` is what it returned), then record it,
    pending, and publish `file.emitted` in the run's transaction. Nothing goes to the bank here:
    call `hand_off` once the transaction committed."""
    emitted = prepare(
        path, summary, kind=kind, created_at=created_at, signer=signer, archive=archive, uow=uow
    )  # fmt: skip
    payments.add_file(
        PaymentFileRow(
            summary.message_id, kind, summary.version, label, created_at, path.name, emitted.sha256,
            summary.count, summary.total_cents, emitted.archive_seq, None,
        )
    )  # fmt: skip
    uow.outbox.add(
        OutboxRow(
            summary.message_id, kind, path.name, str(path.resolve()), emitted.sha256, emitted.signature,
            created_at,
        )
    )  # fmt: skip
    data = {"kind": kind, "message_id": summary.message_id, **event, "count": summary.count}
    data |= {"total": format_euros(summary.total_cents), "sha256": emitted.sha256}
    publish(uow.events, FILE_EMITTED, data, at=created_at)
    return emitted


def hand_off(
    store: PaymentsStore,
    channel: BankChannel,
    message_id: str,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> str:
    """Give the recorded file `message_id` to the bank channel and mark it sent; its reference.

    Sends the bytes recorded (the channel checks their SHA-256), never rebuilds them. Already sent:
    the reference, nothing is sent again. A file that changed or vanished is never sent.
    """
    with store.transaction() as uow:
        row = uow.outbox.get(message_id)
    if row is None:
        raise BankChannelError(f"no recorded file {message_id}", field="message_id")
    if row.status == "sent":
        return row.channel_ref or ""
    path = Path(row.path)
    try:
        # the channel checks that what it hands over has the recorded SHA-256 (the folder channel
        # as it copies, before the file becomes visible): nothing else ever reaches the bank
        reference = channel.send(path, row.signature, name=row.file_name, sha256=row.sha256)
    except SourceFileUnreadable as exc:
        _note_failure(store, message_id, f"recorded file unreadable: {exc.message}")
        raise BankChannelError(
            f"the recorded file {row.file_name} cannot be read", field="message_id"
        ) from None
    except SourceFileChanged:
        _note_failure(store, message_id, "recorded file changed")
        raise BankChannelError(
            f"the recorded file {row.file_name} changed since it was signed", field="message_id"
        ) from None
    except BankChannelError as exc:
        _note_failure(store, message_id, exc.message)
        raise
    with store.transaction() as uow:
        uow.outbox.mark_sent(message_id, channel_ref=reference, at=clock())
    path.unlink(missing_ok=True)  # the bank, the archive and the outbound folder have it now
    log.info("%s %s handed to the bank channel", row.kind, message_id)
    return reference


def hand_off_pending(
    store: PaymentsStore, channel: BankChannel, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> list[str]:
    """Send every recorded file still pending (a run that died after its commit), oldest first."""
    with store.transaction() as uow:
        pending = [row.message_id for row in uow.outbox.pending()]
    for message_id in pending:
        log.warning("resending the recorded file %s (a run ended before handing it over)", message_id)
        hand_off(store, channel, message_id, clock=clock)
    return pending


def _note_failure(store: PaymentsStore, message_id: str, error: str) -> None:
    with store.transaction() as uow:
        uow.outbox.note_failure(message_id, error)
