"""Batches (`receive_many`) and shared transactions answer exactly what `receive` answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import pytest

from gateway.intake import (
    IntakeServices,
    Submission,
    TransactionGroup,
    receipt_bytes,
    receive,
    receive_many,
    validation_pool,
)
from gateway.signing import Signer, verify_detached
from gateway.store import MemoryStore
from gateway.store.ports import UnitOfWork
from tests.fakes import FakeArchive

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
GREFFE = (EXAMPLES / "greffe-1.xml").read_bytes()
INVALID = GREFFE.replace(b"<TypeTitre>1</TypeTitre>", b"<TypeTitre>4</TypeTitre>")


def title(number: int) -> bytes:
    return GREFFE.replace(b"26/01842", f"26/B{number:05d}".encode())


def services_for(dev_pki: Path, store: MemoryStore, archive: FakeArchive) -> IntakeServices:
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    ids = count(1)
    return IntakeServices(
        store=store, signer=signer, archive=archive, clock=lambda: NOW, new_id=lambda: f"RCT-{next(ids):04d}"
    )


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
    assert malformed.problem is not None
    assert (malformed.problem["status"], malformed.problem["errors"][0]["code"]) == (400, "malformed-payload")
    assert refused.problem is not None
    assert refused.problem["status"] == 422
    assert refused.receipt["status"] == "rejected"
    assert refused.problem["receipt"] == refused.receipt
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
    assert [r.problem and r.problem["errors"] for r in results] == [
        r.problem and r.problem["errors"] for r in expected
    ]
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


class CountingStore:
    """A store that counts its write transactions."""

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.transactions = 0

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        self.transactions += 1
        with self.inner.transaction() as uow:
            yield uow


def test_a_failing_piece_of_a_shared_transaction_fails_alone() -> None:
    group = TransactionGroup()
    counting = CountingStore()
    started = threading.Barrier(4)
    gate = threading.Event()
    outcomes: dict[int, object] = {}

    def piece(n: int) -> Callable[[UnitOfWork], int]:
        def work(uow: UnitOfWork) -> int:
            if n == 2:
                raise ValueError("bad piece")
            return n * 10

        return work

    def first(uow: UnitOfWork) -> int:
        gate.wait(5)  # hold the first transaction so that the others queue up behind it
        return -1

    def run(n: int) -> None:
        started.wait()
        try:
            outcomes[n] = group.run(counting, piece(n))  # type: ignore[arg-type]
        except ValueError as exc:
            outcomes[n] = str(exc)

    leader = threading.Thread(target=lambda: outcomes.setdefault(-1, group.run(counting, first)))  # type: ignore[arg-type]
    leader.start()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    gate.set()
    leader.join()
    for thread in threads:
        thread.join()
    assert outcomes == {-1: -1, 0: 0, 1: 10, 2: "bad piece", 3: 30}
    assert counting.transactions <= 1 + 1 + 4  # the leader's, the group's, then each piece alone


def test_receipt_json_round_trips_in_stored_key_order(services: IntakeServices, store: MemoryStore) -> None:
    (result,) = receive_many(services, [Submission("greffe", title(9), "greffe:x")])
    with store.read() as uow:
        row = uow.receipts.get(result.receipt["receipt_id"])
    assert row is not None
    assert json.loads(row.receipt_json) == result.receipt
    assert row.receipt_json.encode() == receipt_bytes(result.receipt)
