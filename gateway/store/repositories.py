"""Repository objects over the SQL modules that are functions of a connection (bank reports in,
the ledger), so that a unit of work hands the services objects behind ports
(gateway.services.ports) rather than its connection."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from gateway.payments.ledger import Ledger
from gateway.payments.reconcile import Outcome
from gateway.services.records import BankReportRow, LedgerInputs
from gateway.store import bank
from gateway.store.ledger import ledger_inputs, read_ledger


class SqlBankReports:
    """`gateway.services.ports.BankReportsRepository` inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def claim(self, row: BankReportRow) -> bool:
        return bank.claim_report(self._conn, row)

    def debit_book(self, report_key: str, *, now: datetime, claimed: bool) -> bank.SqlDebitBook:
        return bank.SqlDebitBook(self._conn, report_key=report_key, now=now, claimed=claimed)

    def record_anomaly(self, report_key: str, outcome: Outcome, at: datetime) -> None:
        bank.record_anomaly(self._conn, report_key, outcome, at)

    def complete(self, report_key: str, summary: dict[str, Any], *, archive_seq: int | None) -> None:
        bank.complete_report(self._conn, report_key, summary, archive_seq=archive_seq)


class SqlLedgers:
    """`gateway.services.ports.LedgerRepository` inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def inputs(self, dossier_id: str) -> LedgerInputs | None:
        return ledger_inputs(self._conn, dossier_id)

    def ledger(self, dossier_id: str, *, as_of: date | None) -> Ledger | None:
        return read_ledger(self._conn, dossier_id, as_of=as_of)
