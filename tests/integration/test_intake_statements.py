"""The SQL a stored intake batch costs, pinned: one statement per table per batch, whatever its size
(bench/README.md, intake, "SQL statements a batch": each statement has a fixed cost in the storer,
the server process's bound). A new statement in the hot path must be a deliberate change here."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from gateway.archive import Archive
from gateway.services.intake import IntakeServices, Submission, receive_many
from gateway.signing.cms import Signer
from gateway.store import schema
from gateway.store.bulk import insert_rows
from gateway.store.sql import SqlStore, open_sql_store
from tests.unit.intake_support import INVALID, distinct_title

# what a batch of new titles writes, in order (BEGIN IMMEDIATE first; COMMIT is the driver's)
STORED_BATCH = [
    "BEGIN IMMEDIATE",
    "INSERT INTO dossiers",
    "INSERT INTO collection_profiles",
    "INSERT INTO receipts",
    "INSERT INTO archive_blobs",
    "UPDATE archive_head",
    "INSERT INTO archive_entries",
    "INSERT INTO events",
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_sql_store(f"sqlite:///{tmp_path / 'gateway.db'}")
    yield opened
    opened.close()


@pytest.fixture
def services(dev_pki: Path, store: SqlStore, tmp_path: Path) -> IntakeServices:
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    archive = Archive(store, tmp_path / "blobs", signer=signer, checkpoint_every=1000)
    return IntakeServices(store=store, signer=signer, archive=archive)


@pytest.fixture
def statements(store: SqlStore) -> list[str]:
    seen: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    return seen


NUMBERS = count(1)


def titles(n: int, *, key: str | None = None) -> list[Submission]:
    return [
        Submission(
            "greffe", distinct_title(next(NUMBERS), "S"), "greffe:s", None if key is None else f"{key}-{i}"
        )
        for i in range(n)
    ]


def kinds(statements: list[str]) -> list[str]:
    """Each statement's verb and table ("INSERT INTO receipts", "SELECT FROM receipts")."""
    found = []
    for s in statements:
        words = s.split()
        if words[0] == "SELECT":
            found.append("SELECT FROM " + words[words.index("FROM") + 1])
        else:
            found.append(" ".join(words[: 2 if words[0] in ("UPDATE", "BEGIN") else 3]))
    return found


@pytest.mark.parametrize("size", [1, 8, 32])
def test_a_batch_of_new_titles_costs_one_statement_per_table(
    services: IntakeServices, statements: list[str], size: int
) -> None:
    receive_many(services, titles(4))  # not the first batch: the archive's head exists
    statements.clear()
    results = receive_many(services, titles(size))
    assert [r.outcome for r in results] == ["accepted"] * size
    assert kinds(statements) == STORED_BATCH


def test_idempotency_keys_add_one_statement_for_the_batch(
    services: IntakeServices, statements: list[str], store: SqlStore
) -> None:
    receive_many(services, titles(2))
    statements.clear()
    results = receive_many(services, titles(8, key="k"))
    assert [r.outcome for r in results] == ["accepted"] * 8
    # one read transaction and one SELECT for the batch's keys (is any a resend?), then the
    # batch's rows: the keys in one INSERT
    assert kinds(statements) == [
        "BEGIN DEFERRED",
        "SELECT FROM idempotency_keys",
        *STORED_BATCH[:4],
        "INSERT INTO idempotency_keys",
        *STORED_BATCH[4:],
    ]
    with store.read() as uow:
        for result, n in zip(results, range(8), strict=True):
            row = uow.idempotency.lookup("greffe:s", f"k-{n}")
            assert row is not None
            assert row.receipt_id == result.receipt.receipt_id


def test_a_resent_batch_is_answered_from_one_select(
    services: IntakeServices, statements: list[str], store: SqlStore
) -> None:
    sent = titles(4, key="again")
    first = receive_many(services, sent)
    statements.clear()
    again = receive_many(services, sent)
    assert [r.receipt for r in again] == [r.receipt for r in first]
    assert [r.signature for r in again] == [r.signature for r in first]
    # the keys in one SELECT, then each resend's receipt; nothing written
    assert (
        kinds(statements) == ["BEGIN DEFERRED", "SELECT FROM idempotency_keys"] + ["SELECT FROM receipts"] * 4
    )


def test_a_key_twice_in_one_batch_keeps_the_first_receipt(services: IntakeServices, store: SqlStore) -> None:
    same = titles(1, key="twice")[0]
    first, second = receive_many(services, [same, same])
    assert (first.outcome, second.outcome) == ("accepted", "duplicate")
    assert second.receipt == first.receipt
    with store.read() as uow:
        row = uow.idempotency.lookup("greffe:s", "twice-0")
        assert row is not None
        assert row.receipt_id == first.receipt.receipt_id


def test_a_rejected_title_in_the_batch_adds_no_statement(
    services: IntakeServices, statements: list[str]
) -> None:
    receive_many(services, titles(2))
    statements.clear()
    batch = titles(7)
    batch.insert(3, Submission("greffe", INVALID, "greffe:s"))
    results = receive_many(services, batch)
    assert [r.outcome for r in results].count("rejected") == 1
    assert kinds(statements) == STORED_BATCH


def test_the_checkpoint_is_looked_for_only_when_one_may_be_due(
    dev_pki: Path, store: SqlStore, statements: list[str], tmp_path: Path
) -> None:
    """`Archive` remembers the latest committed checkpoint it saw: checkpoints are only added, so
    the database is asked only when a batch starts past the next multiple of checkpoint_every."""
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    archive = Archive(store, tmp_path / "blobs", signer=signer, checkpoint_every=10)
    for n in range(25):
        archive.append("receipt", f"entry {n}".encode())
    assert [cp.size for cp in archive.checkpoints()] == [10, 20]
    asked = [s for s in statements if "archive_checkpoints" in s and s.startswith("SELECT max")]
    assert len(asked) == 4  # at 10 (signs), 11 (sees it), 20 (signs), 21 (sees it): not 24 times


def test_a_checkpoint_rolled_back_is_signed_by_the_next_batch(
    dev_pki: Path, store: SqlStore, tmp_path: Path
) -> None:
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    archive = Archive(store, tmp_path / "blobs", signer=signer, checkpoint_every=4)
    for n in range(4):
        archive.append("receipt", f"entry {n}".encode())

    def fails_after_signing() -> None:
        with store.transaction() as uow:
            archive.append("receipt", b"entry 4", uow=uow)  # signs the checkpoint of 4 ...
            raise RuntimeError("... then the transaction fails")

    with pytest.raises(RuntimeError):
        fails_after_signing()
    assert archive.checkpoints() == []
    archive.append("receipt", b"entry 4 again")
    assert [cp.size for cp in archive.checkpoints()] == [4]


def test_insert_rows_stores_what_core_stores(store: SqlStore, services: IntakeServices) -> None:
    """The driver path converts each value with its column type (tz-aware times, bytes) as Core does."""
    receive_many(services, titles(1))
    with store.read() as uow:
        receipt = uow.connection.execute(select(schema.receipts)).mappings().one()
    other = {**receipt, "receipt_id": "RCT-CORE", "signature": bytes(receipt["signature"])}
    driver = {**other, "receipt_id": "RCT-DRIVER"}
    with store.transaction() as uow:
        uow.connection.execute(schema.receipts.insert(), [other])
        insert_rows(uow.connection, schema.receipts, [driver])
        insert_rows(
            uow.connection,
            schema.receipts,
            [{**driver, "receipt_id": "RCT-SKIP"}],
            ignore_conflict_on=["receipt_id"],
        )
        insert_rows(
            uow.connection,
            schema.receipts,
            [{**driver, "receipt_id": "RCT-SKIP"}],
            ignore_conflict_on=["receipt_id"],
        )
    with store.read() as uow:
        raw = uow.connection.exec_driver_sql(
            "SELECT receipt_id, dossier_id, receipt_json, signature, created_at FROM receipts"
            " WHERE receipt_id IN ('RCT-CORE', 'RCT-DRIVER', 'RCT-SKIP') ORDER BY receipt_id"
        ).all()
    assert [r[0] for r in raw] == ["RCT-CORE", "RCT-DRIVER", "RCT-SKIP"]
    assert raw[0][1:] == raw[1][1:] == raw[2][1:]
