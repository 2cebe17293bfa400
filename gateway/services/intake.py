"""The intake service: receive(source, payload, sender) -> signed receipt.

One path serves `POST /v1/{source}/transmissions` (through `gateway.infra.intake_queue`) and `gateway
ingest`: adapt and validate, deduplicate, store the dossier with its receipt and a
`dossier.accepted` event in one transaction, sign, and archive the raw payload (rejected ones too,
as evidence), the canonical dossier and every receipt. A duplicate is answered with the first
receipt; a rejection gets a signed rejection receipt. Nothing is answered before all of it is
durable.

It works on batches: `prepare_many` stamps the titles' reception and validates them (in worker
processes when given a pool), `settle` stores the batch and archives its evidence in one
transaction, then answers each title with the very receipt it would have had alone: a title sent twice in
one batch is one dossier, its second copy answered as a duplicate; a title whose storing fails
fails alone (the batch's transaction is replayed one title at a time). `receive` is a batch of one.

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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import BrokenExecutor, Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, cast

from gateway.canonical.dossier import utc_z
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
    loggable_code,
)
from gateway.payments.profile import profile_or_none
from gateway.safeparse import DEFAULT_MAX_BYTES
from gateway.services.ports import (
    Archive,
    DossierRow,
    IdempotencyRow,
    NewEntry,
    NewEvent,
    Profile,
    ReceiptRow,
    Signer,
    Store,
    UnitOfWork,
)
from gateway.services.validation import Validated, validate

Outcome = Literal["accepted", "duplicate", "rejected"]
log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def new_receipt_id() -> str:
    return "RCT-" + secrets.token_hex(12).upper()


@dataclass(frozen=True, slots=True)
class IntakeServices:
    """What intake needs, built once by the composition root (gateway.bootstrap)."""

    store: Store
    signer: Signer
    archive: Archive
    clock: Callable[[], datetime] = _utcnow
    new_id: Callable[[], str] = new_receipt_id
    max_bytes: int = DEFAULT_MAX_BYTES


_RECEIPT_FIELDS = (
    "receipt_id", "status", "dossier_id", "source", "sender", "reference", "received_at", "payload_sha256",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a sender is answered (docs/http-api.md "Receipts"): `to_json` is its wire form, signed
    as `receipt_bytes`. An acceptance has no `errors`; a rejection has no dossier nor reference."""

    receipt_id: str
    status: Literal["accepted", "rejected"]
    dossier_id: str | None
    source: str
    sender: str
    reference: str | None
    received_at: str  # ISO 8601, UTC, "Z"
    payload_sha256: str
    warnings: tuple[Mapping[str, Any], ...] = ()
    errors: tuple[Mapping[str, Any], ...] | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {name: getattr(self, name) for name in _RECEIPT_FIELDS}
        if self.errors is not None:
            doc["errors"] = [dict(e) for e in self.errors]
        doc["warnings"] = [dict(w) for w in self.warnings]
        return dict(sorted(doc.items()))  # the stored (signed) key order, answered as such

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Receipt:
        unknown = set(doc) - {*_RECEIPT_FIELDS, "warnings", "errors"}
        if unknown:  # a receipt is answered as stored: never drop what it said
            raise ValueError(f"a stored receipt has unknown fields {sorted(unknown)}")
        errors = doc.get("errors")
        facts: dict[str, Any] = {name: doc[name] for name in _RECEIPT_FIELDS}
        return cls(
            **facts, warnings=tuple(doc.get("warnings", ())), errors=None if errors is None else tuple(errors)
        )


@dataclass(frozen=True, slots=True)
class IntakeResult:
    outcome: Outcome
    receipt: Receipt
    signature: bytes
    error: GatewayError | None = None  # a rejection's; the entry points turn it into a problem
    dossier_json: str | None = field(default=None, repr=False)  # an acceptance's canonical JSON

    @property
    def dossier(self) -> dict[str, Any] | None:
        """The canonical dossier an acceptance stored (parsed from its JSON when asked)."""
        return None if self.dossier_json is None else cast(dict[str, Any], json.loads(self.dossier_json))

    @property
    def receipt_bytes(self) -> bytes:
        return receipt_bytes(self.receipt)

    def signed_receipt(self) -> dict[str, Any]:
        """The receipt with its detached signature, as answered to a sender."""
        signature = base64.b64encode(self.signature).decode("ascii")
        return {"receipt": self.receipt.to_json(), "signature": signature}


def receipt_bytes(receipt: Receipt | Mapping[str, Any]) -> bytes:
    """The bytes a receipt's signature covers: UTF-8 JSON, sorted keys, no spaces."""
    doc = receipt.to_json() if isinstance(receipt, Receipt) else receipt
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _load_receipt(row: ReceiptRow) -> IntakeResult:
    return IntakeResult("duplicate", Receipt.from_json(json.loads(row.receipt_json)), row.signature)


def receive(
    services: IntakeServices,
    source: SourceKind | str,
    payload: bytes,
    *,
    sender: str,
    idempotency_key: str | None = None,
) -> IntakeResult:
    """Take one transmission from an authenticated sender; always answer a signed receipt."""
    return receive_many(services, [Submission(source, payload, sender, idempotency_key)])[0]


@dataclass(frozen=True, slots=True)
class Submission:
    """One title for `receive_many` / `prepare_many`: what `receive` takes."""

    source: SourceKind | str
    payload: bytes
    sender: str
    idempotency_key: str | None = None


def receive_many(
    services: IntakeServices, batch: Sequence[Submission], *, executor: CheckPool | None = None
) -> list[IntakeResult]:
    """Take a batch of transmissions; the answers, in order, once all of the batch is durable.

    Per title the same as `receive`; for the batch, one transaction (store and archive).
    `executor` (a process pool) validates the titles beside this process; see `prepare_many`.
    Raises the first error a title met (the others are stored all the same); `settle` gives each.
    """
    answers = settle(services, prepare_many(services, batch, executor=executor))
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
    return cast(list[IntakeResult], answers)


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch whose validation is under way (or done): see `prepare_many`.

    Per title its submission, its reception facts and where its validation is (`_Pending`), so
    that a caller may cut a batch in parts or store several together (`join`, `part`)."""

    batch: Sequence[Submission]
    items: list[_Item]
    checks: list[_Pending]

    def __len__(self) -> int:
        return len(self.batch)

    @property
    def validated(self) -> bool:
        """Whether every title's validation is over (settling it will not wait for a worker)."""
        return all(check.task.finished for check in self.checks)

    def part(self, start: int, stop: int | None = None) -> PreparedBatch:
        return PreparedBatch(self.batch[start:stop], self.items[start:stop], self.checks[start:stop])

    @staticmethod
    def join(parts: Sequence[PreparedBatch]) -> PreparedBatch:
        """Several prepared batches as one (stored in one transaction by `settle`)."""
        if len(parts) == 1:
            return parts[0]
        return PreparedBatch(
            [s for p in parts for s in p.batch],
            [i for p in parts for i in p.items],
            [c for p in parts for c in p.checks],
        )


Job = tuple["_Item", bytes, int]  # a title, its payload, the size limit


class _Task:
    """The validation of a few titles: in a worker process (`future`) or done here already."""

    __slots__ = ("_checked", "future", "jobs")

    def __init__(self, jobs: list[Job], future: Future[list[Checked]] | None, checked: list[Checked] | None):
        self.jobs = jobs
        self.future = future
        self._checked = checked

    @property
    def finished(self) -> bool:
        return self._checked is not None or (self.future is not None and self.future.done())

    def result(self, signer: Signer) -> list[Checked]:
        """The titles' checks; those of a worker that died are done again here (once)."""
        if self._checked is None:
            assert self.future is not None
            try:
                self._checked = self.future.result()
            except BrokenExecutor:
                self._checked = [_check(signer, *job) for job in self.jobs]
                log.error(
                    "a validation process died: %d titles validated in the server process", len(self.jobs)
                )
        return self._checked


@dataclass(frozen=True, slots=True)
class _Pending:
    """One title of a `_Task`."""

    task: _Task
    index: int


@dataclass(frozen=True, slots=True)
class _Valid:
    """What storing needs of a valid title (its whole Transmission, and the dossier as a dict,
    stay in the worker: the server process gets the dossier as JSON text, `Checked.dossier_json`)."""

    dossier_id: str
    dedupe_key: str  # SHA-256 hex of the title's identity: one dossier per key
    reference: str
    warnings: tuple[Issue, ...]
    # its collection profile, made here rather than by the storer from the JSON (same function,
    # same dossier: tests/unit/test_intake_many.py), None when none can be made
    profile: Profile | None = None


@dataclass(frozen=True, slots=True)
class _Receipt:
    """A receipt, its canonical bytes and their detached signature."""

    receipt: Receipt
    body: bytes
    signature: bytes

    @classmethod
    def signed(cls, signer: Signer, receipt: Receipt) -> _Receipt:
        body = receipt_bytes(receipt)
        return cls(receipt, body, signer.sign_detached(body))


@dataclass(frozen=True, slots=True)
class Checked:
    """What a title's validation yields: its signed receipt (accepted or rejected, used unless the
    title is a duplicate), and for a valid one the canonical XML, JSON and their signatures."""

    payload_signature: bytes
    validated: _Valid | None = None
    error: GatewayError | None = None  # the title is refused: a signed rejection receipt
    failure: Exception | None = None  # validation itself broke (a bug): this title fails alone
    receipt: _Receipt | None = None
    xml: bytes = b""
    xml_signature: bytes = b""
    dossier_json: str = ""

    @property
    def event_json(self) -> str:
        """The `dossier.accepted` event's payload: {"dossier": ...}, made here rather than shipped
        from the validation process (the same text `json.dumps({"dossier": dossier})` gives)."""
        return '{"dossier": ' + self.dossier_json + "}"


def _check(signer: Signer, item: _Item, payload: bytes, max_bytes: int) -> Checked:
    """Validate, render and sign one title, receipt included (in a validation process with a pool)."""
    signature = signer.sign_detached(payload)
    try:
        try:
            validated = validate(item.source, payload, received_at=item.received_at, max_bytes=max_bytes)
        except GatewayError as exc:
            return Checked(
                signature, error=exc, receipt=_Receipt.signed(signer, _rejection_receipt(item, exc))
            )
        return _rendered(signer, item, validated, signature)
    except Exception as exc:  # a bug, not the sender's fault: this title alone fails (500)
        log.exception("checking a %s transmission failed unexpectedly", item.source.value)
        return Checked(signature, failure=exc)


def _rendered(signer: Signer, item: _Item, validated: Validated, payload_signature: bytes) -> Checked:
    dossier = validated.dossier
    xml = to_xml(dossier)
    valid = _Valid(
        dossier["dossier_id"],
        hashlib.sha256(validated.dedupe_key.encode()).hexdigest(),
        validated.transmission.reference,
        validated.warnings,
        profile_or_none(dossier),
    )
    return Checked(
        payload_signature,
        valid,
        receipt=_Receipt.signed(signer, _acceptance_receipt(item, valid)),
        xml=xml,
        xml_signature=signer.sign_detached(xml),
        dossier_json=json.dumps(dossier, ensure_ascii=False),
    )


TITLES_PER_TASK = 25


def check_jobs(signer: Signer, jobs: list[Job]) -> list[Checked]:
    """Validate, render and sign these titles: what a validation process does for `prepare_many`."""
    return [_check(signer, *job) for job in jobs]


class CheckPool(Protocol):
    """Where titles are validated beside the storing thread (gateway.infra.intake_pool.ValidationPool)."""

    def submit_checks(self, jobs: list[Job]) -> Future[list[Checked]]: ...


def prepare_many(
    services: IntakeServices, batch: Sequence[Submission], *, executor: CheckPool | None = None
) -> PreparedBatch:
    """Stamp a batch's reception and start validating it, in `executor` (a validation pool:
    gateway.infra.intake_pool) if given.

    A caller with many batches prepares the next one before it calls `settle` on the
    current one, so that validation (CPU in the workers) overlaps storage (this process).
    """
    items = [
        _Item(
            SourceKind(t.source),
            t.sender,
            services.clock(),
            hashlib.sha256(t.payload).hexdigest(),
            t.idempotency_key,
            services.new_id(),
        )
        for t in batch
    ]
    args = _jobs(services, batch, items)
    checks: list[_Pending] = []
    # tasks of a few dozen titles: one future and one pickling round trip per title cost too much
    step = max(len(args), 1) if executor is None else TITLES_PER_TASK
    for start in range(0, len(args), step):
        jobs = args[start : start + step]
        if executor is None:
            task = _Task(jobs, None, check_jobs(services.signer, jobs))
        else:
            task = _Task(jobs, executor.submit_checks(jobs), None)
        checks += [_Pending(task, n) for n in range(len(jobs))]
    return PreparedBatch(batch, items, checks)


def _jobs(services: IntakeServices, batch: Sequence[Submission], items: Sequence[_Item]) -> list[Job]:
    """What `_check` takes for each title (here or in a validation process)."""
    return [(i, t.payload, services.max_bytes) for t, i in zip(batch, items, strict=True)]


def settle(services: IntakeServices, prepared: PreparedBatch) -> list[IntakeResult | Exception]:
    """Store, archive and answer a prepared batch: per title its result, or the error it met alone.

    A title resent with an Idempotency-Key already used is answered from the store, as the first
    time (nothing new is stored or archived). The others are stored in one transaction; if that
    fails, each is tried alone so that only the culprit fails. The same transaction archives every
    raw payload (as evidence, whatever became of the title) and the dossiers and receipts stored;
    the payload of a title that failed alone is archived afterwards in a transaction of its own.
    """
    batch, items = prepared.batch, prepared.items
    checks = _checks_of(services, prepared)
    answers: list[IntakeResult | Exception | None] = [None] * len(items)
    keys: dict[tuple[str, str], str] = {}  # the keys of this batch: (sender, key) -> payload SHA-256
    asked: dict[int, tuple[str, str]] = {}  # title -> its key, to look for in the store
    for n, item in enumerate(items):
        if item.idempotency_key is None:
            continue
        key = (item.sender, item.idempotency_key)
        if keys.setdefault(key, item.payload_sha) != item.payload_sha:
            answers[n] = _key_reused()
        else:
            asked[n] = key
    for n, answer in _replays(services, asked, items).items():
        answers[n] = answer
    pending = [n for n, answer in enumerate(answers) if answer is None]
    outcomes: dict[int, _Acceptance | _Rejection] = {}
    for n in pending:
        checked = checks[n]
        if checked.failure is not None:
            answers[n] = checked.failure
            continue
        outcomes[n] = _rejection(checked) if checked.validated is None else _acceptance(checked)
    work = [
        _Work(items[n], outcome, _payload_entry(batch[n], items[n], checks[n]))
        for n, outcome in outcomes.items()
    ]
    for n, result in zip(outcomes, _store_all(services, work), strict=True):
        answers[n] = result
    # a title that met an error alone (answered as such, nothing stored): its payload is archived
    # all the same, as evidence, when the archive can take it; the others are answered anyway
    failed = [n for n in pending if isinstance(answers[n], Exception)]
    if failed:
        try:
            services.archive.append_many([_payload_entry(batch[n], items[n], checks[n]) for n in failed])
        except Exception:
            log.exception("archiving the payloads of %d titles that failed was not possible", len(failed))
    assert all(answer is not None for answer in answers)
    return cast(list[IntakeResult | Exception], answers)


def _payload_entry(submission: Submission, item: _Item, checked: Checked) -> NewEntry:
    return NewEntry("inbound-payload", submission.payload, checked.payload_signature, item.meta)


@dataclass(frozen=True, slots=True)
class _Work:
    """A title to store, and the archive entry of its raw payload."""

    item: _Item
    outcome: _Acceptance | _Rejection
    payload: NewEntry


def _checks_of(services: IntakeServices, prepared: PreparedBatch) -> list[Checked]:
    """The batch's validations; those of a worker that died are done again here."""
    return [check.task.result(services.signer)[check.index] for check in prepared.checks]


def _store_all(services: IntakeServices, work: list[_Work]) -> list[IntakeResult | Exception]:
    if not work:
        return []
    try:
        return _store_together(services, work)
    except Exception as exc:
        if len(work) == 1:
            return [exc]
    results: list[IntakeResult | Exception] = []
    for one in work:  # find the culprit: each title alone
        result: IntakeResult | Exception
        try:
            result = _store_together(services, [one])[0]
        except Exception as exc:  # the commit too may fail: the result counts only once it is done
            result = exc
        results.append(result)
    return results


def _store_together(services: IntakeServices, work: list[_Work]) -> list[IntakeResult | Exception]:
    """Store titles and archive their evidence in ONE transaction (issue #12 item 3: a crash
    between a commit and an archive sync can no more leave a dossier without its evidence).
    Rows go in bulk (`_Writes`: one INSERT of the new dossiers, one of the receipts); the archive
    goes last: its sequencing row stays locked until the commit."""
    with services.store.transaction() as uow:
        writes = _Writes(uow, work)
        results: list[IntakeResult | Exception] = []
        evidence = [one.payload for one in work]  # every raw payload first, then what was stored
        for one in work:
            if isinstance(one.outcome, _Rejection):
                results.append(writes.rejection(one.item, one.outcome))
                evidence += _rejection_archive(one.item, one.outcome)
                continue
            result = writes.acceptance(one.item, one.outcome)
            results.append(result)
            if result.outcome == "accepted":
                evidence += _acceptance_archive(one.item, one.outcome)
        writes.flush()
        services.archive.append_many(evidence, uow=uow)
        return results


class _Writes:
    """A batch's rows, written in bulk: its new dossiers at once (the first copy of each title:
    whether it is new decides accepted or duplicate), then every receipt, then the senders'
    Idempotency-Keys (they name their receipt). Per title, the same rows as alone."""

    def __init__(self, uow: UnitOfWork, work: list[_Work]) -> None:
        self.uow = uow
        firsts: dict[str, DossierRow] = {}  # dedupe key -> the batch's first copy of that title
        profiles: dict[str, Profile | None] = {}  # dossier id -> its profile
        for one in work:
            if isinstance(one.outcome, _Acceptance):
                row = _dossier_row(one.item, one.outcome)
                if firsts.setdefault(row.dedupe_key, row) is row:
                    profiles[row.dossier_id] = one.outcome.validated.profile
        self.dossiers = firsts
        # dedupe keys not stored before
        self.new = uow.dossiers.create_many(list(firsts.values()), profiles)
        self.receipts: list[ReceiptRow] = []
        self.first_receipts: dict[str, ReceiptRow] = {}  # dossier id -> receipt, for this batch's
        self.keys: list[IdempotencyRow] = []

    def acceptance(self, item: _Item, acceptance: _Acceptance) -> IntakeResult:
        validated, receipt = acceptance.validated, acceptance.receipt
        dedupe = validated.dedupe_key
        stored = self.dossiers[dedupe]
        key = item.idempotency_key
        if dedupe not in self.new or stored.dossier_id in self.first_receipts:
            first = self.first_receipts.get(stored.dossier_id) or self._first_stored(dedupe)
            if key is not None:
                self.keys.append(
                    IdempotencyRow(item.sender, key, first.receipt_id, item.payload_sha, item.received_at)
                )
            log.info("duplicate %s transmission of dossier %s", item.source.value, first.dossier_id)
            return _load_receipt(first)
        receipt_id = receipt.receipt_id
        row = ReceiptRow(
            receipt_id, stored.dossier_id, acceptance.body.decode(), acceptance.signature, item.received_at
        )
        self.receipts.append(row)
        self.first_receipts[stored.dossier_id] = row
        if key is not None:
            self.keys.append(IdempotencyRow(item.sender, key, receipt_id, item.payload_sha, item.received_at))
        self.uow.events.append(
            NewEvent(
                type="dossier.accepted",
                payload_json=acceptance.checked.event_json,
                created_at=item.received_at,
                dossier_id=stored.dossier_id,
            )
        )
        log.info(
            "accepted %s transmission: dossier %s receipt %s payload %s warnings %s",
            item.source.value,
            stored.dossier_id,
            receipt_id,
            item.payload_sha[:16],
            [loggable_code(w.code) for w in validated.warnings],
        )
        return IntakeResult(
            "accepted", receipt, acceptance.signature, dossier_json=acceptance.checked.dossier_json
        )

    def _first_stored(self, dedupe: str) -> ReceiptRow:
        """The receipt of a title stored by an earlier transaction (what its duplicate is answered)."""
        stored = self.uow.dossiers.get_by_dedupe_key(dedupe)
        first = None if stored is None else self.uow.receipts.first_for_dossier(stored.dossier_id)
        if first is None:  # pragma: no cover - a dossier is always stored with its receipt
            raise RuntimeError(f"the dossier of dedupe key {dedupe[:16]} has no receipt")
        return first

    def rejection(self, item: _Item, rejection: _Rejection) -> IntakeResult:
        result = rejection.result
        receipt_id = result.receipt.receipt_id
        self.receipts.append(
            ReceiptRow(receipt_id, None, rejection.body.decode(), result.signature, item.received_at)
        )
        if item.idempotency_key is not None:
            self.keys.append(
                IdempotencyRow(
                    item.sender, item.idempotency_key, receipt_id, item.payload_sha, item.received_at
                )
            )
        log.info(
            "rejected %s transmission: receipt %s payload %s errors %s",
            item.source.value,
            receipt_id,
            item.payload_sha[:16],
            [(loggable_code(e["code"]), e["field"]) for e in result.receipt.errors or ()],
        )
        return result

    def flush(self) -> None:
        self.uow.receipts.add_many(self.receipts)
        self.uow.idempotency.remember_many(self.keys)


def _dossier_row(item: _Item, acceptance: _Acceptance) -> DossierRow:
    validated = acceptance.validated
    return DossierRow(
        dossier_id=validated.dossier_id,
        dedupe_key=validated.dedupe_key,
        source_kind=item.source.value,
        sender=item.sender,
        reference=validated.reference,
        received_at=item.received_at,
        canonical_json=acceptance.checked.dossier_json,
        status="accepted",
    )


@dataclass(frozen=True, slots=True)
class _Item:
    """Who sent what, when: the facts every receipt of a transmission repeats."""

    source: SourceKind
    sender: str
    received_at: datetime
    payload_sha: str
    idempotency_key: str | None
    receipt_id: str  # the receipt's, if this title gets one of its own (not a duplicate)

    @property
    def meta(self) -> dict[str, str]:
        return {"source": self.source.value, "sender": self.sender, "payload_sha256": self.payload_sha}


@dataclass(frozen=True, slots=True)
class _Acceptance:
    """A valid title with its signed receipt and canonical XML, before the dedupe decides."""

    validated: _Valid
    checked: Checked
    receipt: Receipt
    body: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class _Rejection:
    result: IntakeResult
    body: bytes


def _acceptance_receipt(item: _Item, valid: _Valid) -> Receipt:
    return Receipt(
        receipt_id=item.receipt_id,
        status="accepted",
        dossier_id=valid.dossier_id,
        source=item.source.value,
        sender=item.sender,
        reference=valid.reference,
        received_at=utc_z(item.received_at),
        payload_sha256=item.payload_sha,
        warnings=tuple(w.as_dict() for w in valid.warnings),
    )


def _acceptance(checked: Checked) -> _Acceptance:
    validated, made = checked.validated, checked.receipt
    assert validated is not None
    assert made is not None
    return _Acceptance(validated, checked, made.receipt, made.body, made.signature)


def _acceptance_archive(item: _Item, acceptance: _Acceptance) -> list[NewEntry]:
    dossier_id = acceptance.validated.dossier_id
    return [
        NewEntry(
            "canonical-dossier",
            acceptance.checked.xml,
            acceptance.checked.xml_signature,
            {**item.meta, "dossier_id": dossier_id, "media_type": "application/xml"},
        ),
        NewEntry(
            "receipt",
            acceptance.body,
            acceptance.signature,
            {**item.meta, "receipt_id": acceptance.receipt.receipt_id},
        ),
    ]


def _replays(
    services: IntakeServices, asked: Mapping[int, tuple[str, str]], items: Sequence[_Item]
) -> dict[int, IntakeResult | GatewayError | None]:
    """For each title sent with an Idempotency-Key: the first answer if the key was used before
    (the same payload), the error if it was used with another one, None if it is new. One read
    transaction and one SELECT for the batch's keys (resends, rarer, read their receipt each)."""
    if not asked:
        return {}
    with services.store.read() as uow:
        found = uow.idempotency.lookup_many(list(asked.values()))
        receipts = {row.receipt_id: uow.receipts.get(row.receipt_id) for row in found.values()}
    answers: dict[int, IntakeResult | GatewayError | None] = {}
    for n, key in asked.items():
        row = found.get(key)
        if row is None:
            answers[n] = None
        elif row.payload_sha256 not in (None, items[n].payload_sha):
            answers[n] = _key_reused()
        else:
            answers[n] = _replay(receipts[row.receipt_id])
    return answers


def _replay(receipt: ReceiptRow | None) -> IntakeResult | None:
    if receipt is None:  # pragma: no cover - the key is stored with its receipt
        return None
    result = _load_receipt(receipt)
    if result.receipt.status != "rejected":
        return result
    error = rejection_error(result.receipt)
    return IntakeResult("rejected", result.receipt, result.signature, error=error)


def _key_reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        "this Idempotency-Key was already used with a different payload", field="Idempotency-Key"
    )


def rejection_error(receipt: Receipt) -> GatewayError:
    """The error a stored rejection receipt records (to answer a replay as the first time)."""
    issues = [Issue(e["code"], e["field"], e["message"]) for e in receipt.errors or ()]
    classes: dict[str, type[GatewayError]] = {
        Code.MALFORMED_PAYLOAD: MalformedPayload,
        Code.SCHEMA_VIOLATION: SchemaViolation,
        Code.PAYLOAD_TOO_LARGE: PayloadTooLarge,
    }
    cls = classes.get(issues[0].code, RuleViolation) if issues else RuleViolation
    return cls.from_issues(issues or [Issue("rejected", "", "rejected")])


def _rejection_receipt(item: _Item, exc: GatewayError) -> Receipt:
    return Receipt(
        receipt_id=item.receipt_id,
        status="rejected",
        dossier_id=None,
        source=item.source.value,
        sender=item.sender,
        reference=None,
        received_at=utc_z(item.received_at),
        payload_sha256=item.payload_sha,
        warnings=tuple(i.as_dict() for i in exc.issues if i.severity == "warning"),
        errors=tuple(i.as_dict() for i in exc.issues if i.severity == "error"),
    )


def _rejection(checked: Checked) -> _Rejection:
    made, error = checked.receipt, checked.error
    assert made is not None
    assert error is not None
    return _Rejection(IntakeResult("rejected", made.receipt, made.signature, error=error), made.body)


def _rejection_archive(item: _Item, rejection: _Rejection) -> list[NewEntry]:
    result = rejection.result
    meta = {"source": item.source.value, "sender": item.sender, "receipt_id": result.receipt.receipt_id}
    return [NewEntry("rejection-receipt", rejection.body, result.signature, meta)]
