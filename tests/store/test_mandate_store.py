"""Mandates (pending or signed), payout accounts and the waiting list on SQLite and PostgreSQL,
and migration 0005_mandates turning the mandates made from the parents' consent into pending ones."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import insert, select, text

from gateway.services.mandates import sign_mandate
from gateway.services.ports import DossierRow
from gateway.services.records import MandateRow, PayoutAccountRow
from gateway.store import SqlStore, create_engine_from_url, open_sql_store, schema
from gateway.store.mandates import SqlMandates
from gateway.store.migrate import alembic_config, current_revision
from gateway.store.payments import SqlPayments

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def dossier(n: int) -> DossierRow:
    return DossierRow(
        dossier_id=f"DOS-{n:04d}", dedupe_key=f"key-{n}", source_kind="greffe", sender="greffe",
        reference=f"RG {n}", received_at=T0 + timedelta(seconds=n), status="accepted",
        canonical_json=json.dumps({"dossier_id": f"DOS-{n:04d}"}),
    )  # fmt: skip


def mandate(n: int, *, status: str = "signed") -> MandateRow:
    return MandateRow(
        dossier_id=f"DOS-{n:04d}", reference=f"ARIPA-{n:04d}",
        signed_on=date(2026, 11, 24) if status == "signed" else None, debtor_name="M. Julien Martin",
        iban="FR7630006000011234567890189", bic=None, collection_day=None, chosen_day=15,
        first_collection_done=False, pending_amendment={"original_debtor_iban": "FR76"} if n == 2 else None,
        updated_at=T0, status=status, method="electronic" if status == "signed" else None,
        amended_on=date(2026, 12, 1) if n == 2 else None,
    )  # fmt: skip


@pytest.fixture
def store(sql_url: str) -> Iterator[SqlStore]:
    found = open_sql_store(sql_url)
    with found.transaction() as uow:
        for n in range(1, 6):
            uow.dossiers.create_once(dossier(n))
    yield found
    found.close()


def test_a_mandate_round_trips_pending_or_signed(store: SqlStore) -> None:
    with store.transaction() as uow:
        payments = SqlPayments(uow.connection)
        payments.save_mandate(mandate(1, status="pending"))
        payments.save_mandate(mandate(2))
    with store.read() as uow:
        found = SqlPayments(uow.connection).mandates(["DOS-0001", "DOS-0002", "DOS-0003"])
    assert found == {"DOS-0001": mandate(1, status="pending"), "DOS-0002": mandate(2)}


def test_a_payout_account_is_recorded_then_replaced(store: SqlStore) -> None:
    first = PayoutAccountRow("DOS-0001", "Mme Claire Durand", "FR7630004000031234567890143", "BNPAFRPP", T0)
    second = PayoutAccountRow(
        "DOS-0001", "Mme Claire Durand", "FR1420041010050500013M02606", None, T0 + timedelta(days=1)
    )
    for row in (first, second):
        with store.transaction() as uow:
            SqlMandates(uow.connection).save_payout_account(row)
    with store.read() as uow:
        book = SqlMandates(uow.connection)
        assert book.payout_account("DOS-0001") == second
        assert book.payout_account("DOS-0002") is None


def test_the_waiting_list_pages_through_what_lacks_a_signature_or_an_account(store: SqlStore) -> None:
    with store.transaction() as uow:
        payments, book = SqlPayments(uow.connection), SqlMandates(uow.connection)
        payments.save_mandate(mandate(1, status="pending"))  # pending, no account
        payments.save_mandate(mandate(2))  # signed, no account
        payments.save_mandate(mandate(3))  # signed, with an account: not waiting
        book.save_payout_account(
            PayoutAccountRow("DOS-0003", "Mme Durand", "FR7630004000031234567890143", None, T0)
        )
        book.save_payout_account(
            PayoutAccountRow("DOS-0004", "Mme Durand", "FR7630004000031234567890143", None, T0)
        )
        uow.dossiers.set_status("DOS-0005", "withdrawn")  # not accepted: not listed
    with store.read() as uow:
        pages = list(SqlMandates(uow.connection).waiting_pages(page=2))
    assert [len(p) for p in pages] == [2, 1]
    found = [(w.dossier_id, w.mandate_signed, w.payout_recorded) for p in pages for w in p]
    assert found == [("DOS-0001", False, False), ("DOS-0002", True, False), ("DOS-0004", False, True)]


_OLD_MANDATE = text(
    "INSERT INTO mandates (dossier_id, reference, signed_on, debtor_name, iban, bic, collection_day,"
    " chosen_day, first_collection_done, pending_amendment, updated_at) VALUES ('DOS-0001',"
    " 'ARIPA-0001', :signed_on, 'M. Julien Martin', 'FR7630006000011234567890189', NULL, NULL, 10,"
    " :done, NULL, :at)"
)


def test_migration_0005_makes_consent_mandates_pending(sql_url: str) -> None:
    engine = create_engine_from_url(sql_url)
    config = alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0004_bank_reports")
            row = dossier(1)
            conn.execute(insert(schema.dossiers).values(**{k: getattr(row, k) for k in row.__slots__}))
            # a mandate as the gateway made it from the parents' consent (the 0004 shape)
            conn.execute(_OLD_MANDATE, {"signed_on": date(2026, 11, 23), "done": True, "at": T0})
            command.upgrade(config, "0005_mandates")
            found = conn.execute(select(schema.mandates)).one()
            assert (found.status, found.signed_on, found.method) == ("pending", None, None)
            assert (found.iban, found.first_collection_done) == ("FR7630006000011234567890189", True)
            assert conn.execute(select(schema.payout_accounts)).all() == []
            command.downgrade(config, "0004_bank_reports")  # a pending mandate cannot go back: dropped
            assert conn.execute(text("SELECT count(*) FROM mandates")).scalar() == 0
            command.upgrade(config, "head")
        assert current_revision(engine) is not None
    finally:
        engine.dispose()


def _titled(store: SqlStore, n: int) -> str:
    data = {
        "title": {"date": "2026-11-16"},
        "debtor": {"bank_account": None},
        "creditor": {"bank_account": None},
    }
    row = replace(dossier(n), dedupe_key=f"titled-{n}", canonical_json=json.dumps(data))
    with store.transaction() as uow:
        uow.dossiers.create_once(row)
    return row.dossier_id


IBANS = ["FR7630006000011234567890189", "FR1420041010050500013M02606", "FR7630004000031234567890143"]


def test_signatures_recorded_at_once_apply_one_after_the_other(store: SqlStore) -> None:
    dossier_id = _titled(store, 10)
    barrier = threading.Barrier(len(IBANS))

    def put(iban: str) -> bool:
        barrier.wait()
        return sign_mandate(
            store, dossier_id, holder="M. Julien Martin", iban=iban, bic=None, signed_on="2026-11-24",
            method="paper", debit_day=10, now=LATER,
        ).changed  # fmt: skip

    with ThreadPoolExecutor(len(IBANS)) as pool:
        changed = list(pool.map(put, IBANS))  # no insert collides with another: no error
    assert all(changed)
    with store.read() as uow:
        final = SqlPayments(uow.connection).mandate(dossier_id)
        signed = [e for e in uow.events.read_after(0, 100) if e.type == "mandate.signed"]
    assert final is not None
    assert final.iban in IBANS
    assert len(signed) == len(IBANS)


def test_a_signature_recorded_during_a_collection_is_not_overwritten_by_it(store: SqlStore) -> None:
    dossier_id = _titled(store, 11)
    sign_mandate(store, dossier_id, holder="M. Julien Martin", iban=IBANS[0], bic=None,
                 signed_on="2026-11-24", method="paper", debit_day=10, now=LATER)  # fmt: skip
    running = threading.Event()

    def collection() -> None:  # what run_debits does with a mandate it debits
        with store.transaction() as uow:
            payments = SqlPayments(uow.connection)
            found = payments.mandates([dossier_id], for_update=True)[dossier_id]
            running.set()
            time.sleep(0.3)
            payments.save_mandate(replace(found, first_collection_done=True))

    thread = threading.Thread(target=collection)
    thread.start()
    running.wait(5)
    # the debtor moved to another bank meanwhile: recorded after the run, as an amendment
    amended = sign_mandate(store, dossier_id, holder="M. Julien Martin", iban=IBANS[1], bic=None,
                           signed_on="2026-11-25", method="paper", debit_day=10, now=LATER)  # fmt: skip
    thread.join()
    assert amended.view["first_collection_done"] is True
    assert amended.view["pending_amendment"] == {
        "original_mandate_id": None, "original_debtor_iban": None, "new_debtor_agent": True
    }  # fmt: skip
    with store.read() as uow:
        final = SqlPayments(uow.connection).mandate(dossier_id)
    assert final is not None
    assert (final.iban, final.first_collection_done) == (IBANS[1], True)
