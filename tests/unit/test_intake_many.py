"""Batches (`receive_many`, `settle`) answer exactly what `receive` answers, each title alone."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.errors import IdempotencyKeyReused, MalformedPayload, RuleViolation
from gateway.services.intake import (
    IntakeResult,
    IntakeServices,
    SignerPort,
    Submission,
    prepare_many,
    receipt_bytes,
    receive,
    receive_many,
    settle,
    validation_pool,
)
from gateway.services.validation import validate
from gateway.signing.cms import verify_detached
from gateway.store import MemoryStore
from gateway.store.memory import MemoryUnitOfWork
from tests.fakes import FakeArchive
from tests.unit.intake_support import INVALID, NOW, distinct_title, services_for


def title(number: int) -> bytes:
    return distinct_title(number, "B")


@pytest.fixture
def archive() -> FakeArchive:
    return FakeArchive()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def services(dev_pki: Path, store: MemoryStore, archive: FakeArchive) -> IntakeServices:
    return services_for(dev_pki, store, archive)


def test_a_batch_accepts_dedupes_and_rejects_each_title_as_receive_would(
    services: IntakeServices, store: MemoryStore, archive: FakeArchive, dev_pki: Path
) -> None:
    batch = [title(1), title(2), title(1), b"<TransmissionGreffe", INVALID, title(3)]
    results = receive_many(services, [Submission("greffe", p, "greffe:batch") for p in batch])
    assert [r.outcome for r in results] == [
        "accepted", "accepted", "duplicate", "rejected", "rejected", "accepted",
    ]  # fmt: skip
    # the copy inside the batch is one dossier and answered with the first receipt
    assert results[2].receipt == results[0].receipt
    assert results[2].signature == results[0].signature
    assert [r.receipt["receipt_id"] for r in results] == [
        "RCT-0001", "RCT-0002", "RCT-0001", "RCT-0004", "RCT-0005", "RCT-0006",
    ]  # fmt: skip
    for result in results:
        verify_detached(result.signature, receipt_bytes(result.receipt), ca_file=dev_pki / "ca.pem")
    malformed, refused = results[3], results[4]
    assert isinstance(malformed.error, MalformedPayload)
    assert malformed.error.code == "malformed-payload"
    assert isinstance(refused.error, RuleViolation)
    assert refused.receipt["status"] == "rejected"
    with store.read() as uow:
        assert [e.type for e in uow.events.read_after(0, 10)] == ["dossier.accepted"] * 3
        assert uow.receipts.get("RCT-0003") is None  # the duplicate's unused receipt is not kept
        for result in results:
            assert uow.receipts.get(result.receipt["receipt_id"]) is not None
    # every raw payload first (evidence), then dossiers, receipts and rejections in batch order
    assert archive.kinds() == ["inbound-payload"] * 6 + [
        "canonical-dossier", "receipt", "canonical-dossier", "receipt",
        "rejection-receipt", "rejection-receipt", "canonical-dossier", "receipt",
    ]  # fmt: skip
    assert [item.blob for item in archive.items[:6]] == batch
    assert all(item.signature for item in archive.items)


def test_batch_answers_are_identical_to_one_by_one_answers(
    dev_pki: Path,
) -> None:
    payloads = [title(1), INVALID, title(2), title(1)]
    one_store, one_archive = MemoryStore(), FakeArchive()
    single = services_for(dev_pki, one_store, one_archive)
    expected = [receive(single, "greffe", p, sender="greffe:x") for p in payloads]
    many_store, many_archive = MemoryStore(), FakeArchive()
    batch = services_for(dev_pki, many_store, many_archive)
    results = receive_many(batch, [Submission("greffe", p, "greffe:x") for p in payloads])
    assert [r.outcome for r in results] == [r.outcome for r in expected]
    assert [r.receipt for r in results] == [r.receipt for r in expected]
    assert [r.error and r.error.issues for r in results] == [r.error and r.error.issues for r in expected]
    assert [r.dossier for r in results] == [r.dossier for r in expected]
    assert sorted(one_archive.kinds()) == sorted(many_archive.kinds())
    assert {i.blob for i in one_archive.items if i.kind != "inbound-payload"} == {
        i.blob for i in many_archive.items if i.kind != "inbound-payload"
    }
    with one_store.read() as a, many_store.read() as b:
        assert [e.payload_json for e in a.events.read_after(0, 10)] == [
            e.payload_json for e in b.events.read_after(0, 10)
        ]


def test_a_validation_pool_gives_the_same_answers(
    services: IntakeServices, archive: FakeArchive, dev_pki: Path
) -> None:
    payloads = [title(n) for n in range(60)] + [INVALID, title(5)]
    with validation_pool(services, 2) as pool:
        results = receive_many(
            services, [Submission("greffe", p, "greffe:x") for p in payloads], executor=pool
        )
    assert [r.outcome for r in results] == ["accepted"] * 60 + ["rejected", "duplicate"]
    assert results[-1].receipt == results[5].receipt
    for item in archive.items:
        if item.kind in ("inbound-payload", "canonical-dossier"):
            assert item.signature is not None
            verify_detached(item.signature, item.blob, ca_file=dev_pki / "ca.pem")


def test_concurrent_receives_of_one_title_make_one_dossier(
    services: IntakeServices, store: MemoryStore
) -> None:
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def post(n: int) -> None:
        barrier.wait()
        result = receive(services, "greffe", title(n % 2), sender="greffe:x")
        with lock:
            results.append(result)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.outcome for r in results) == ["accepted"] * 2 + ["duplicate"] * 6
    assert len({r.receipt["receipt_id"] for r in results}) == 2
    with store.read() as uow:
        assert len(uow.events.read_after(0, 100)) == 2


class PoisonedStore(MemoryStore):
    """Write transactions fail (like a full disk) when they store the dossier of one given minute."""

    def __init__(self, minute: str) -> None:
        super().__init__()
        self.minute = minute
        self.transactions = 0
        self.committed: list[object] = []

    @contextmanager
    def transaction(self) -> Iterator[MemoryUnitOfWork]:
        self.transactions += 1
        with super().transaction() as uow:
            yield uow
            if any(self.minute in row.canonical_json for row in uow.dossiers._s.dossiers.values()):
                raise RuntimeError("disk full")
        self.committed.append(uow)


def test_a_title_whose_storing_fails_fails_alone(dev_pki: Path, archive: FakeArchive) -> None:
    store = PoisonedStore("26/B00002")
    services = services_for(dev_pki, store, archive)
    poisoned = title(2)
    prepared = prepare_many(
        services, [Submission("greffe", p, "greffe:x") for p in (title(1), poisoned, title(3))]
    )
    answers = settle(services, prepared)
    assert isinstance(answers[1], RuntimeError)
    assert [a.outcome for a in (answers[0], answers[2]) if isinstance(a, IntakeResult)] == ["accepted"] * 2
    assert store.transactions == 1 + 3  # the batch's, rolled back, then each title alone
    with store.read() as uow:
        assert len(uow.events.read_after(0, 10)) == 2
    # what committed: every payload is evidence, the failed one included (in a transaction of its
    # own), only stored titles have receipts; what the rolled-back transactions appended is gone
    kept = [
        i.kind
        for i, uow in zip(archive.items, archive.uows, strict=True)
        if uow is None or uow in store.committed
    ]
    assert kept.count("inbound-payload") == 3
    assert kept.count("receipt") == 2
    with pytest.raises(RuntimeError, match="disk full"):
        receive_many(services, [Submission("greffe", poisoned, "greffe:x")])


def test_a_title_whose_validation_breaks_fails_alone(
    services: IntakeServices, archive: FakeArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gateway.services.intake as intake

    real = intake.validate  # type: ignore[attr-defined]

    def validate(source: str, payload: bytes, **options: object) -> object:
        if b"B00002" in payload:
            raise KeyError("a bug")
        return real(source, payload, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(intake, "validate", validate)
    prepared = prepare_many(services, [Submission("greffe", title(n), "greffe:x") for n in (1, 2, 3)])
    answers = settle(services, prepared)
    assert isinstance(answers[1], KeyError)
    assert [a.outcome for a in answers if isinstance(a, IntakeResult)] == ["accepted"] * 2
    assert archive.kinds().count("inbound-payload") == 3


def test_an_idempotency_key_is_honoured_in_a_batch(services: IntakeServices, archive: FakeArchive) -> None:
    first = receive(services, "greffe", title(1), sender="greffe:x", idempotency_key="k-1")
    archived = len(archive.items)
    prepared = prepare_many(
        services,
        [
            Submission("greffe", title(1), "greffe:x", "k-1"),  # replay: the first receipt
            Submission("greffe", title(2), "greffe:x", "k-1"),  # same key, other payload: refused
            Submission("greffe", title(3), "greffe:x", "k-3"),
        ],
    )
    replay, reused, other = settle(services, prepared)
    assert isinstance(replay, IntakeResult)
    assert replay.receipt == first.receipt
    assert isinstance(reused, IdempotencyKeyReused)
    assert isinstance(other, IntakeResult)
    assert other.outcome == "accepted"
    # the replay and the refusal archive nothing; the new title its payload, dossier and receipt
    assert archive.kinds()[archived:] == ["inbound-payload", "canonical-dossier", "receipt"]


def test_receipt_json_round_trips_in_stored_key_order(services: IntakeServices, store: MemoryStore) -> None:
    (result,) = receive_many(services, [Submission("greffe", title(9), "greffe:x")])
    with store.read() as uow:
        row = uow.receipts.get(result.receipt["receipt_id"])
    assert row is not None
    assert json.loads(row.receipt_json) == result.receipt
    assert row.receipt_json.encode() == receipt_bytes(result.receipt)


def test_one_idempotency_key_twice_in_a_batch(services: IntakeServices) -> None:
    prepared = prepare_many(
        services,
        [
            Submission("greffe", title(7), "greffe:x", "k-7"),
            Submission("greffe", title(7), "greffe:x", "k-7"),  # the sender's retry, in the same batch
            Submission("greffe", title(8), "greffe:x", "k-7"),  # the same key for another title
            Submission("greffe", title(8), "greffe:y", "k-7"),  # another sender's key: its own
        ],
    )
    first, retry, reused, other = settle(services, prepared)
    assert isinstance(first, IntakeResult)
    assert isinstance(retry, IntakeResult)
    assert (first.outcome, retry.outcome, retry.receipt) == ("accepted", "duplicate", first.receipt)
    assert isinstance(reused, IdempotencyKeyReused)
    assert isinstance(other, IntakeResult)
    assert other.outcome == "accepted"


class ReceiptRefusingSigner:
    """Signs everything but the receipts (accepted or rejected) that name `dossier_id`."""

    def __init__(self, signer: SignerPort, dossier_id: str) -> None:
        self.signer = signer
        self.dossier_id = dossier_id

    def sign_detached(self, data: bytes) -> bytes:
        if data.startswith(b'{"dossier_id":') and self.dossier_id.encode() in data:
            raise ValueError("the HSM refused")
        return self.signer.sign_detached(data)


def test_a_title_whose_receipt_cannot_be_made_fails_alone(
    services: IntakeServices, store: MemoryStore, archive: FakeArchive
) -> None:
    """The receipt is made (and signed) where the title is validated (`_check`, the validation
    process with a pool): a failure there is that title's alone; the others are stored and
    answered, and its payload is archived all the same (evidence)."""
    dossier_id = validate("greffe", title(2), received_at=NOW).dossier["dossier_id"]
    refusing = replace(services, signer=ReceiptRefusingSigner(services.signer, dossier_id))
    batch = [Submission("greffe", title(n), "greffe:x") for n in (1, 2, 3)]
    answers = settle(refusing, prepare_many(refusing, batch))
    assert isinstance(answers[1], ValueError)
    assert [a.outcome for a in answers if isinstance(a, IntakeResult)] == ["accepted"] * 2
    assert archive.kinds().count("inbound-payload") == 3
    assert archive.kinds().count("receipt") == 2
    with store.read() as uow:
        assert len(uow.events.read_after(0, 10)) == 2
