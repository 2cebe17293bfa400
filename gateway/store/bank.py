"""SQL repository of bank reports in: the `DebitBook` of reconciliation over the SEPA-out debits table.

The debits themselves are SEPA out's (`debits`, gateway.store.payments); this module adds what the
bank said about them: `debit_progress` (state, money collected and returned, EPC reason), the
imported reports (`bank_reports`, the idempotency key of a whole file) and the anomalies reported
while reconciling (`bank_anomalies`). It also keeps `debits.status`/`reason` in step, since the
payout run pays the debits whose status is `settled`. Used inside the caller's transaction.

A report is claimed before it is reconciled: `claim_report` inserts its row first thing in the
import's transaction with INSERT ... ON CONFLICT DO NOTHING on its key (as `create_once` does for
dossiers, gateway.store.sql). On PostgreSQL (READ COMMITTED) a concurrent import of the same report
waits on that insert until the first transaction ends, then finds its committed row: a duplicate,
exactly as a second import in sequence (or, if the first rolled back, it claims the report and
applies it itself). On SQLite the write transactions are serialised (BEGIN IMMEDIATE) anyway.
`complete_report` then records the summary in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from gateway.payments.reconcile import DebitState, DebitStatus, ExpectedDebit, Outcome
from gateway.services.records import BankReportRow
from gateway.store import schema
from gateway.store.sql import _insert_ignoring_conflict

# debits.status written by SEPA out when a debit is issued; everything else is ours.
_ISSUED = "issued"


def _expected(row: Any) -> ExpectedDebit:
    return ExpectedDebit(
        row.end_to_end_id,
        row.dossier_id,
        row.period,
        int(row.amount_cents),
        row.message_id,
        row.payment_info_id,
    )


class SqlDebitBook:
    """`gateway.payments.reconcile.DebitBook` on one connection (inside the caller's transaction).

    `claimed`: this transaction holds the report's row already (`claim_report` inserted it), so
    the report is not one seen before although its row is there."""

    def __init__(self, conn: Connection, *, report_key: str, now: datetime, claimed: bool = False) -> None:
        self._conn = conn
        self._report_key = report_key
        self._now = now
        self._claimed = claimed

    def get(self, end_to_end_id: str) -> ExpectedDebit | None:
        t = schema.debits
        row = self._conn.execute(select(t).where(t.c.end_to_end_id == end_to_end_id)).first()
        return None if row is None else _expected(row)

    def of_payment(self, msg_id: str, pmtinf_id: str | None) -> list[ExpectedDebit]:
        t = schema.debits
        query = select(t).where(t.c.message_id == msg_id)
        if pmtinf_id is not None:
            query = query.where(t.c.payment_info_id == pmtinf_id)
        return [_expected(r) for r in self._conn.execute(query.order_by(t.c.end_to_end_id))]

    def status(self, end_to_end_id: str) -> DebitStatus:
        p = schema.debit_progress
        row = self._conn.execute(select(p).where(p.c.end_to_end_id == end_to_end_id)).first()
        if row is None:
            return DebitStatus()
        return DebitStatus(
            DebitState(row.state), int(row.collected_cents), int(row.returned_cents), row.reason
        )

    def update(self, debit: ExpectedDebit, status: DebitStatus) -> None:
        p = schema.debit_progress
        values = {
            "state": status.state.value,
            "collected_cents": status.collected_cents,
            "returned_cents": status.returned_cents,
            "reason": status.reason,
            "report_key": self._report_key,
            "updated_at": self._now,
        }
        changed = self._conn.execute(
            update(p).where(p.c.end_to_end_id == debit.end_to_end_id).values(**values)
        )
        if changed.rowcount == 0:
            self._conn.execute(insert(p).values(end_to_end_id=debit.end_to_end_id, **values))
        d = schema.debits
        self._conn.execute(
            update(d)
            .where(d.c.end_to_end_id == debit.end_to_end_id)
            .values(status=_debit_status(debit, status), reason=status.reason)
        )

    def report_seen(self, key: str) -> bool:
        if self._claimed and key == self._report_key:
            return False
        r = schema.bank_reports
        return self._conn.execute(select(r.c.report_key).where(r.c.report_key == key)).first() is not None

    def remember_report(self, key: str) -> None:
        """Claimed by `claim_report`, completed by `complete_report`, in the same transaction."""


def _debit_status(debit: ExpectedDebit, status: DebitStatus) -> str:
    """`debits.status` for SEPA out. A debit settled for less than instructed is `settled-partial`;
    the payout run pays both kinds what was actually collected (`debit_progress.collected_cents`),
    never money the fund did not receive (an overpayment is an indu, R. 582-11 CSS)."""
    if status.state is DebitState.SETTLED and status.collected_cents != debit.amount_cents:
        return "settled-partial"
    return status.state.value


def claim_report(conn: Connection, row: BankReportRow) -> bool:
    """Insert the report's row unless its key is there already; True when this transaction now
    holds it (then apply the report), False when another import did (a duplicate). Call it first
    in the transaction: on PostgreSQL it waits for a concurrent import of the same report to end."""
    r = schema.bank_reports
    inserted = conn.execute(
        _insert_ignoring_conflict(conn, r, ["report_key"]).returning(r.c.report_key),
        {
            "report_key": row.report_key,
            "message": row.message,
            "report_id": row.report_id,
            "file_sha256": row.file_sha256,
            "archive_seq": row.archive_seq,
            "imported_at": row.imported_at,
            "summary_json": json.dumps(row.summary, sort_keys=True),
        },
    )
    return inserted.first() is not None


def complete_report(
    conn: Connection, report_key: str, summary: dict[str, Any], *, archive_seq: int | None = None
) -> None:
    """Record what applying a claimed report did (its summary) and the report's archive entry."""
    r = schema.bank_reports
    values: dict[str, Any] = {"summary_json": json.dumps(summary, sort_keys=True)}
    if archive_seq is not None:
        values["archive_seq"] = archive_seq
    conn.execute(update(r).where(r.c.report_key == report_key).values(**values))


def record_anomaly(conn: Connection, report_key: str, outcome: Outcome, at: datetime) -> None:
    conn.execute(
        insert(schema.bank_anomalies).values(
            report_key=report_key,
            kind=outcome.kind.value,
            code=outcome.code or "",
            reference=outcome.reference[:64],
            dossier_id=None if outcome.debit is None else outcome.debit.dossier_id,
            amount_cents=outcome.amount_cents,
            note=outcome.note,
            created_at=at,
        )
    )


def dossier_debits(conn: Connection, dossier_id: str) -> Iterator[tuple[ExpectedDebit, DebitStatus]]:
    """Every debit of a dossier with its progress (a debit the bank never mentioned is pending)."""
    d, p = schema.debits, schema.debit_progress
    query = (
        select(d, p.c.state, p.c.collected_cents, p.c.returned_cents, p.c.reason.label("progress_reason"))
        .outerjoin(p, p.c.end_to_end_id == d.c.end_to_end_id)
        .where(d.c.dossier_id == dossier_id)
        .order_by(d.c.period, d.c.end_to_end_id)
    )
    for row in conn.execute(query):
        if row.state is None:
            status = DebitStatus()
        else:
            status = DebitStatus(
                DebitState(row.state), int(row.collected_cents), int(row.returned_cents), row.progress_reason
            )
        yield _expected(row), status


def debit_report_times(conn: Connection, dossier_id: str) -> dict[str, datetime]:
    """EndToEndId -> import time of the bank report that last changed the debit (`updated_at` is
    written by `SqlDebitBook.update` only when the state changes): the ledger's `failed_on`."""
    d, p = schema.debits, schema.debit_progress
    query = (
        select(p.c.end_to_end_id, p.c.updated_at)
        .join(d, d.c.end_to_end_id == p.c.end_to_end_id)
        .where(d.c.dossier_id == dossier_id)
    )
    return {row.end_to_end_id: row.updated_at for row in conn.execute(query)}


def report_keys(conn: Connection) -> list[str]:
    r = schema.bank_reports
    return [row.report_key for row in conn.execute(select(r.c.report_key).order_by(r.c.imported_at))]


def issued_status() -> str:
    """The `debits.status` SEPA out writes for a debit just sent (pending for reconciliation)."""
    return _ISSUED
