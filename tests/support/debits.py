"""A debit in the store as SEPA out records it, and the bank's answer to it as a report would leave it."""

from __future__ import annotations

from datetime import date, datetime

from gateway.payments.reconcile import DebitStatus, ExpectedDebit
from gateway.services.records import DebitRow
from gateway.store import SqlStore
from gateway.store.bank import SqlDebitBook
from gateway.store.payments import SqlPayments


def add_answered_debit(
    store: SqlStore,
    dossier_id: str,
    period: str,
    amount_cents: int,
    *,
    collection_date: date,
    status: DebitStatus,
    at: datetime,
) -> str:
    """Record a debit of `dossier_id` for `period`, then the bank's `status` for it (imported `at`);
    returns its EndToEndId."""
    e2e = f"DD{period.replace('-', '')}-{dossier_id[-12:]}"
    with store.transaction() as uow:
        SqlPayments(uow.connection).add_debits(
            [
                DebitRow(
                    e2e,
                    dossier_id,
                    period,
                    amount_cents,
                    collection_date,
                    "FRST",
                    f"M-{dossier_id[-12:]}",
                    collection_date,
                    "DEBITEUR",
                    "FR7630006000011234567890189",
                    None,
                    None,
                    "MSG-1",
                    "PI-1",
                    "issued",
                    None,
                    at,
                )
            ]
        )
        book = SqlDebitBook(uow.connection, report_key="pain.002:R-1", now=at)
        book.update(ExpectedDebit(e2e, dossier_id, period, amount_cents, "MSG-1", "PI-1"), status)
    return e2e
