"""The intake service on in-memory ports: accept, deduplicate, reject, replay; sign and archive all."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import pytest

from gateway.errors import IdempotencyKeyReused, MalformedPayload, RuleViolation
from gateway.services.intake import IntakeServices, receipt_bytes, receive
from gateway.signing.cms import Signer, verify_detached
from gateway.store import MemoryStore
from tests.fakes import FakeArchive

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def archive() -> FakeArchive:
    return FakeArchive()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def services(dev_pki: Path, store: MemoryStore, archive: FakeArchive) -> IntakeServices:
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    ids = count(1)
    return IntakeServices(
        store=store, signer=signer, archive=archive, clock=lambda: NOW, new_id=lambda: f"RCT-{next(ids):04d}"
    )


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


@pytest.mark.parametrize(
    ("source", "name"),
    [("greffe", "greffe-1.xml"), ("notaire", "notaire-1.xml"), ("avocat", "avocat-1.json")],
)
def test_accepted_gets_signed_receipt_stored_dossier_event_and_archive(
    services: IntakeServices, store: MemoryStore, archive: FakeArchive, dev_pki: Path, source: str, name: str
) -> None:
    result = receive(services, source, example(name), sender=f"{source}:test")
    assert result.outcome == "accepted"
    receipt = result.receipt
    assert receipt["status"] == "accepted"
    assert receipt["receipt_id"] == "RCT-0001"
    assert receipt["received_at"] == "2026-11-23T10:00:00Z"
    assert receipt["dossier_id"].startswith("DOS-")
    verify_detached(result.signature, receipt_bytes(receipt), ca_file=dev_pki / "ca.pem")
    with store.read() as uow:
        row = uow.dossiers.get(receipt["dossier_id"])
        events = uow.events.read_after(0, 10)
    assert row is not None
    assert json.loads(row.canonical_json)["dossier_id"] == receipt["dossier_id"]
    assert [e.type for e in events] == ["dossier.accepted"]
    assert archive.kinds() == ["inbound-payload", "canonical-dossier", "receipt"]
    assert archive.items[0].blob == example(name)
    assert all(item.signature for item in archive.items)


def test_duplicate_gets_the_first_receipt(services: IntakeServices, store: MemoryStore) -> None:
    first = receive(services, "greffe", example("greffe-1.xml"), sender="greffe:test")
    again = receive(services, "greffe", example("greffe-1.xml"), sender="greffe:test")
    assert again.outcome == "duplicate"
    assert again.receipt == first.receipt
    assert again.signature == first.signature
    with store.read() as uow:
        assert len(uow.events.read_after(0, 10)) == 1


def test_same_minute_under_another_reference_is_a_duplicate(services: IntakeServices) -> None:
    first = receive(services, "greffe", example("greffe-1.xml"), sender="greffe:test")
    data = example("greffe-1.xml")
    start = data.index(b"<ReferenceEnvoi>") + len(b"<ReferenceEnvoi>")
    end = data.index(b"</ReferenceEnvoi>")
    other = data[:start] + b"RESEND-1" + data[end:]
    again = receive(services, "greffe", other, sender="greffe:test")
    assert (again.outcome, again.receipt["dossier_id"]) == ("duplicate", first.receipt["dossier_id"])


def test_rule_violation_gets_problem_and_signed_rejection(
    services: IntakeServices, store: MemoryStore, archive: FakeArchive, dev_pki: Path
) -> None:
    data = example("greffe-1.xml").replace(b"<TypeTitre>1</TypeTitre>", b"<TypeTitre>4</TypeTitre>")
    result = receive(services, "greffe", data, sender="greffe:test")
    assert result.outcome == "rejected"
    assert isinstance(result.error, RuleViolation)  # the edge answers 422 (tests/unit/test_problem.py)
    assert ("title-kind-not-allowed", "Decision/TypeTitre") in [
        (i.code, i.field) for i in result.error.issues
    ]
    assert result.receipt["status"] == "rejected"
    assert result.receipt["dossier_id"] is None
    verify_detached(result.signature, receipt_bytes(result.receipt), ca_file=dev_pki / "ca.pem")
    assert archive.kinds() == ["inbound-payload", "rejection-receipt"]
    with store.read() as uow:
        assert uow.events.read_after(0, 10) == []
        assert uow.receipts.get(result.receipt["receipt_id"]) is not None


def test_malformed_payload_is_400_and_archived(services: IntakeServices, archive: FakeArchive) -> None:
    result = receive(services, "greffe", b"<TransmissionGreffe", sender="greffe:test")
    assert isinstance(result.error, MalformedPayload)
    assert result.error.code == "malformed-payload"
    assert archive.items[0].blob == b"<TransmissionGreffe"


def test_idempotency_key_replays_and_refuses_another_payload(services: IntakeServices) -> None:
    first = receive(services, "avocat", example("avocat-1.json"), sender="avocat:a", idempotency_key="k1")
    replay = receive(services, "avocat", example("avocat-1.json"), sender="avocat:a", idempotency_key="k1")
    assert replay.receipt == first.receipt
    with pytest.raises(IdempotencyKeyReused) as info:
        receive(services, "avocat", b"{}", sender="avocat:a", idempotency_key="k1")
    assert info.value.code == "idempotency-key-reused"


def test_idempotent_replay_of_a_rejection_answers_the_same_problem(services: IntakeServices) -> None:
    first = receive(services, "greffe", b"not xml", sender="greffe:t", idempotency_key="x")
    replay = receive(services, "greffe", b"not xml", sender="greffe:t", idempotency_key="x")
    assert replay.outcome == "rejected"
    assert replay.receipt == first.receipt
    assert isinstance(replay.error, MalformedPayload)
    assert isinstance(first.error, MalformedPayload)
    assert replay.error.issues == first.error.issues
