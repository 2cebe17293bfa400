"""The storage contract, on the in-memory fake, SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gateway.store import (
    DossierRow,
    IdempotencyRow,
    NewEvent,
    ReceiptRow,
    Store,
)

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def dossier(n: int, *, key: str | None = None) -> DossierRow:
    return DossierRow(
        dossier_id=f"D{n:04d}",
        dedupe_key=key or f"key-{n}",
        source_kind="greffe",
        sender="greffe-tj-paris",
        reference=f"RG 26/{n:05d}",
        received_at=T0 + timedelta(seconds=n),
        canonical_json=json.dumps({"dossier_id": f"D{n:04d}"}),
        status="accepted",
    )


def receipt(n: int, dossier_id: str | None) -> ReceiptRow:
    return ReceiptRow(
        receipt_id=f"R{n:04d}",
        dossier_id=dossier_id,
        receipt_json=json.dumps({"receipt_id": f"R{n:04d}"}),
        signature=b"\x30\x82\x00\xff-signature",
        created_at=T0 + timedelta(seconds=n),
    )


def test_dossier_created_once_then_found(store: Store) -> None:
    with store.transaction() as uow:
        row, created = uow.dossiers.create_once(dossier(1))
        assert created
        assert row == dossier(1)
    with store.transaction() as uow:
        again, created = uow.dossiers.create_once(dossier(2, key="key-1"))
        assert not created
        assert again == dossier(1)  # the first one, with its tz-aware UTC time
        assert again.received_at.tzinfo is not None
        assert uow.dossiers.get("D0002") is None
        assert uow.dossiers.get_by_dedupe_key("key-1") == dossier(1)
        uow.dossiers.set_status("D0001", "emitted")
    with store.read() as uow:
        found = uow.dossiers.get("D0001")
        assert found is not None
        assert found.status == "emitted"


def test_dossiers_and_receipts_created_many_at_once(store: Store) -> None:
    """One statement for an intake batch's new dossiers (the keys it inserted say which are new)
    and one for its receipts: the same rows as one by one."""
    with store.transaction() as uow:
        uow.dossiers.create_once(dossier(1))
        assert uow.dossiers.create_many([]) == set()
    with store.transaction() as uow:
        new = uow.dossiers.create_many([dossier(2), dossier(9, key="key-1"), dossier(3)])
        assert new == {"key-2", "key-3"}  # key-1 was stored already: not inserted again
        uow.receipts.add_many([receipt(2, "D0002"), receipt(3, "D0003"), receipt(4, None)])
        uow.receipts.add_many([])
    with store.read() as uow:
        assert uow.dossiers.get("D0009") is None
        assert uow.dossiers.get_by_dedupe_key("key-1") == dossier(1)
        assert uow.dossiers.get("D0003") == dossier(3)
        assert uow.receipts.first_for_dossier("D0002") == receipt(2, "D0002")
        assert uow.receipts.get("R0004") == receipt(4, None)


def test_rollback_keeps_nothing(store: Store) -> None:
    def fail_midway() -> None:
        with store.transaction() as uow:
            uow.dossiers.create_once(dossier(1))
            uow.events.append(NewEvent("dossier.accepted", "{}", T0, "D0001"))
            raise RuntimeError("signing failed")

    with pytest.raises(RuntimeError):
        fail_midway()
    with store.read() as uow:
        assert uow.dossiers.get("D0001") is None
        assert uow.events.last_id() == 0


def test_receipts_and_rejections(store: Store) -> None:
    with store.transaction() as uow:
        uow.dossiers.create_once(dossier(1))
        uow.receipts.add(receipt(2, "D0001"))
        uow.receipts.add(receipt(1, None))  # a rejection has no dossier
        uow.receipts.add(receipt(3, "D0001"))
    with store.read() as uow:
        assert uow.receipts.get("R0001") == receipt(1, None)
        assert uow.receipts.get("R9999") is None
        first = uow.receipts.first_for_dossier("D0001")
        assert first == receipt(2, "D0001")
        assert first is not None
        assert first.signature == b"\x30\x82\x00\xff-signature"


def test_receipt_for_unknown_dossier_is_refused(store: Store) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key|no dossier"), store.transaction() as uow:
        uow.receipts.add(receipt(1, "D-unknown"))


def test_idempotency_keys(store: Store) -> None:
    with store.transaction() as uow:
        uow.receipts.add(receipt(1, None))
        uow.receipts.add(receipt(2, None))
        first = IdempotencyRow("greffe-a", "k-1", "R0001", "ab" * 32, T0)
        assert uow.idempotency.remember(first) == (first, True)
    with store.transaction() as uow:
        other = IdempotencyRow("greffe-a", "k-1", "R0002", "cd" * 32, T0)
        assert uow.idempotency.remember(other) == (first, False)
        # the same key from another sender is another key
        third = IdempotencyRow("notaire-b", "k-1", "R0002", None, T0)
        assert uow.idempotency.remember(third) == (third, True)
    with store.read() as uow:
        assert uow.idempotency.lookup("greffe-a", "k-1") == first
        assert uow.idempotency.lookup("greffe-a", "k-2") is None


def test_events_in_order_with_cursor(store: Store) -> None:
    with store.read() as uow:
        assert uow.events.last_id() == 0
        assert list(uow.events.read_after(0, 10)) == []
        with pytest.raises(RuntimeError):
            uow.events.append(NewEvent("x", "{}", T0))
    for n in range(5):
        with store.transaction() as uow:
            uow.events.append(NewEvent("dossier.accepted", json.dumps({"n": n}), T0, f"D{n}"))
            uow.events.append(NewEvent("receipt.issued", json.dumps({"n": n}), T0))
    with store.read() as uow:
        page = uow.events.read_after(0, 4)
        assert [e.payload_json for e in page] == ['{"n": 0}', '{"n": 0}', '{"n": 1}', '{"n": 1}']
        assert [e.type for e in page[:2]] == ["dossier.accepted", "receipt.issued"]
        assert page[0].dossier_id == "D0"
        assert page[0].created_at == T0
        ids = [e.event_id for e in page]
        assert ids == sorted(ids)
        assert len(set(ids)) == 4
        rest = uow.events.read_after(ids[-1], 100)
        assert len(rest) == 6
        assert rest[-1].event_id == uow.events.last_id()


def test_naive_times_are_refused(store: Store) -> None:
    naive = replace(dossier(1), received_at=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(Exception, match="naive"), store.transaction() as uow:
        uow.dossiers.create_once(naive)
