"""The intake service: receive(source, payload, sender) -> signed receipt.

One function serves `POST /v1/{source}/transmissions` and `gateway ingest`: adapt and validate,
deduplicate, store the dossier with its receipt and a `dossier.accepted` event in one transaction,
sign, and archive the raw payload (rejected ones too, as evidence), the canonical dossier and every
receipt. A duplicate is answered with the first receipt; a rejection gets a signed rejection receipt.

Receipts are JSON; the signature is a detached CMS over the receipt's canonical bytes
(`receipt_bytes`: UTF-8 JSON with sorted keys and no spaces), which a sender checks offline with
`openssl cms -verify -binary -inform DER -content receipt.json -in receipt.p7s -CAfile ca.pem`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from gateway.canonical.xml import to_xml
from gateway.domain.transmission import SourceKind
from gateway.errors import (
    Code,
    GatewayError,
    IdempotencyKeyReused,
    Issue,
    MalformedPayload,
    PayloadTooLarge,
    RuleViolation,
    SchemaViolation,
)
from gateway.problem import problem
from gateway.safeparse import DEFAULT_MAX_BYTES
from gateway.store.ports import DossierRow, IdempotencyRow, NewEvent, ReceiptRow, Store
from gateway.validation import validate

Outcome = Literal["accepted", "duplicate", "rejected"]
log = logging.getLogger(__name__)


class SignerPort(Protocol):
    def sign_detached(self, data: bytes) -> bytes: ...


class ArchivePort(Protocol):
    def append(
        self, kind: str, blob: bytes, *, signature: bytes | None, metadata: Mapping[str, str]
    ) -> object: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def new_receipt_id() -> str:
    return "RCT-" + secrets.token_hex(12).upper()


@dataclass(frozen=True, slots=True)
class IntakeServices:
    """What intake needs, built once by the composition root (gateway.bootstrap)."""

    store: Store
    signer: SignerPort
    archive: ArchivePort
    clock: Callable[[], datetime] = _utcnow
    new_id: Callable[[], str] = new_receipt_id
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True, slots=True)
class IntakeResult:
    outcome: Outcome
    receipt: dict[str, Any]
    signature: bytes
    error: GatewayError | None = None
    problem: dict[str, Any] | None = None
    dossier: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def receipt_bytes(self) -> bytes:
        return receipt_bytes(self.receipt)

    def signed_receipt(self) -> dict[str, Any]:
        """The receipt with its detached signature, as answered to a sender."""
        return {"receipt": self.receipt, "signature": base64.b64encode(self.signature).decode("ascii")}


def receipt_bytes(receipt: Mapping[str, Any]) -> bytes:
    return json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _load_receipt(row: ReceiptRow) -> IntakeResult:
    return IntakeResult("duplicate", json.loads(row.receipt_json), row.signature)


def receive(
    services: IntakeServices,
    source: SourceKind | str,
    payload: bytes,
    *,
    sender: str,
    idempotency_key: str | None = None,
) -> IntakeResult:
    """Take one transmission from an authenticated sender; always answer a signed receipt."""
    source = SourceKind(source)
    received_at = services.clock()
    payload_sha = hashlib.sha256(payload).hexdigest()

    if idempotency_key is not None:
        replay = _replay(services, sender, idempotency_key, payload_sha)
        if replay is not None:
            return replay

    meta = {"source": source.value, "sender": sender, "payload_sha256": payload_sha}
    services.archive.append(
        "inbound-payload", payload, signature=services.signer.sign_detached(payload), metadata=meta
    )
    try:
        validated = validate(source, payload, received_at=received_at, max_bytes=services.max_bytes)
    except GatewayError as exc:
        return _reject(
            services,
            exc,
            source=source,
            sender=sender,
            received_at=received_at,
            payload_sha=payload_sha,
            idempotency_key=idempotency_key,
        )

    dossier = validated.dossier
    dossier_id = dossier["dossier_id"]
    receipt: dict[str, Any] = {
        "receipt_id": services.new_id(),
        "status": "accepted",
        "dossier_id": dossier_id,
        "source": source.value,
        "sender": sender,
        "reference": validated.transmission.reference,
        "received_at": _utc(received_at),
        "payload_sha256": payload_sha,
        "warnings": [w.as_dict() for w in validated.warnings],
    }
    body = receipt_bytes(receipt)
    receipt = json.loads(body)  # the same key order as every later read of the stored receipt
    signature = services.signer.sign_detached(body)
    canonical_json = json.dumps(dossier, ensure_ascii=False)
    with services.store.transaction() as uow:
        stored, created = uow.dossiers.create_once(
            DossierRow(
                dossier_id=dossier_id,
                dedupe_key=hashlib.sha256(validated.dedupe_key.encode()).hexdigest(),
                source_kind=source.value,
                sender=sender,
                reference=validated.transmission.reference,
                received_at=received_at,
                canonical_json=canonical_json,
                status="accepted",
            )
        )
        if not created:
            first = uow.receipts.first_for_dossier(stored.dossier_id)
            if first is None:  # pragma: no cover - a dossier is always stored with its receipt
                raise RuntimeError(f"dossier {stored.dossier_id} has no receipt")
            if idempotency_key is not None:
                uow.idempotency.remember(
                    IdempotencyRow(sender, idempotency_key, first.receipt_id, payload_sha, received_at)
                )
            log.info("duplicate %s transmission of dossier %s", source.value, stored.dossier_id)
            return _load_receipt(first)
        uow.receipts.add(ReceiptRow(receipt["receipt_id"], dossier_id, body.decode(), signature, received_at))
        if idempotency_key is not None:
            uow.idempotency.remember(
                IdempotencyRow(sender, idempotency_key, receipt["receipt_id"], payload_sha, received_at)
            )
        uow.events.append(
            NewEvent(
                type="dossier.accepted",
                payload_json=json.dumps({"dossier": dossier}, ensure_ascii=False),
                created_at=received_at,
                dossier_id=dossier_id,
            )
        )
    _archive_dossier(services, dossier, meta)
    services.archive.append(
        "receipt", body, signature=signature, metadata={**meta, "receipt_id": receipt["receipt_id"]}
    )
    log.info(
        "accepted %s transmission: dossier %s receipt %s payload %s warnings %s",
        source.value,
        dossier_id,
        receipt["receipt_id"],
        payload_sha[:16],
        [w.code for w in validated.warnings],
    )
    return IntakeResult("accepted", receipt, signature, dossier=dossier)


def _archive_dossier(services: IntakeServices, dossier: dict[str, Any], meta: Mapping[str, str]) -> None:
    data = to_xml(dossier)
    services.archive.append(
        "canonical-dossier",
        data,
        signature=services.signer.sign_detached(data),
        metadata={**meta, "dossier_id": dossier["dossier_id"], "media_type": "application/xml"},
    )


def _replay(services: IntakeServices, sender: str, key: str, payload_sha: str) -> IntakeResult | None:
    with services.store.read() as uow:
        row = uow.idempotency.lookup(sender, key)
        if row is None:
            return None
        if row.payload_sha256 not in (None, payload_sha):
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used with a different payload",
                field="Idempotency-Key",
            )
        receipt = uow.receipts.get(row.receipt_id)
    if receipt is None:  # pragma: no cover - the key is stored with its receipt
        return None
    result = _load_receipt(receipt)
    if result.receipt.get("status") != "rejected":
        return result
    error = rejection_error(result.receipt)
    doc = problem(error)
    doc["receipt"] = result.receipt
    doc["signature"] = base64.b64encode(result.signature).decode("ascii")
    return IntakeResult("rejected", result.receipt, result.signature, error=error, problem=doc)


def rejection_error(receipt: Mapping[str, Any]) -> GatewayError:
    """The error a stored rejection receipt records (to answer a replay as the first time)."""
    issues = [Issue(e["code"], e["field"], e["message"]) for e in receipt.get("errors", [])]
    classes: dict[str, type[GatewayError]] = {
        Code.MALFORMED_PAYLOAD: MalformedPayload,
        Code.SCHEMA_VIOLATION: SchemaViolation,
        Code.PAYLOAD_TOO_LARGE: PayloadTooLarge,
    }
    cls = classes.get(issues[0].code, RuleViolation) if issues else RuleViolation
    return cls.from_issues(issues or [Issue("rejected", "", "rejected")])


def _reject(
    services: IntakeServices,
    exc: GatewayError,
    *,
    source: SourceKind,
    sender: str,
    received_at: datetime,
    payload_sha: str,
    idempotency_key: str | None,
) -> IntakeResult:
    errors = [i for i in exc.issues if i.severity == "error"]
    warnings = [i for i in exc.issues if i.severity == "warning"]
    receipt: dict[str, Any] = {
        "receipt_id": services.new_id(),
        "status": "rejected",
        "dossier_id": None,
        "source": source.value,
        "sender": sender,
        "reference": None,
        "received_at": _utc(received_at),
        "payload_sha256": payload_sha,
        "errors": [i.as_dict() for i in errors],
        "warnings": [w.as_dict() for w in warnings],
    }
    body = receipt_bytes(receipt)
    signature = services.signer.sign_detached(body)
    with services.store.transaction() as uow:
        uow.receipts.add(ReceiptRow(receipt["receipt_id"], None, body.decode(), signature, received_at))
        if idempotency_key is not None:
            uow.idempotency.remember(
                IdempotencyRow(sender, idempotency_key, receipt["receipt_id"], payload_sha, received_at)
            )
    services.archive.append(
        "rejection-receipt",
        body,
        signature=signature,
        metadata={"source": source.value, "sender": sender, "receipt_id": receipt["receipt_id"]},
    )
    log.info(
        "rejected %s transmission: receipt %s payload %s errors %s",
        source.value,
        receipt["receipt_id"],
        payload_sha[:16],
        [(i.code, i.field) for i in errors],
    )
    doc = problem(exc, warnings=warnings)
    doc["receipt"] = receipt
    doc["signature"] = base64.b64encode(signature).decode("ascii")
    return IntakeResult("rejected", receipt, signature, error=exc, problem=doc)
