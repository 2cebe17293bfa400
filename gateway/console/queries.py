"""What the console's pages read: small queries on the store, each bounded (indexes, LIMIT).

Kept apart from the routes so that each page is a few calls here, and so that the benchmark
(bench/console.py) measures the same code on a national-size store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, select

from gateway.domain.transmission import SourceKind
from gateway.errors import InvalidInput
from gateway.payments.ledger import Ledger, build_ledger
from gateway.services.ports import DossierRow, EventRow, ReceiptRow
from gateway.services.records import STATUS_SIGNED, MandateRow, PaymentFileRow
from gateway.store import schema
from gateway.store.bank import debit_report_times, dossier_debits
from gateway.store.payments import SqlPayments
from gateway.store.sql import SqlStore

SOURCES = tuple(kind.value for kind in SourceKind)
_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
PAGE = 50


def _source_pattern(source: str) -> str:
    # receipts are stored as canonical JSON (sorted keys, no spaces): gateway.services.intake.receipt_bytes
    return f'%"source":"{source}"%'


# --- dashboard ------------------------------------------------------------------------------------


def title_counts(store: SqlStore, since: datetime) -> dict[str, dict[str, int]]:
    """Titles received since `since`, per source: {"greffe": {"accepted": n, "rejected": m}, ...}."""
    counts = {source: {"accepted": 0, "rejected": 0} for source in SOURCES}
    d, r = schema.dossiers, schema.receipts
    with store.read() as uow:
        conn = uow.connection
        accepted = (
            select(d.c.source_kind, func.count()).where(d.c.received_at >= since).group_by(d.c.source_kind)
        )
        for source, n in conn.execute(accepted):
            counts.setdefault(str(source), {"accepted": 0, "rejected": 0})["accepted"] = int(n)
        refused = select(
            *[
                func.coalesce(func.sum(case((r.c.receipt_json.like(_source_pattern(s)), 1), else_=0)), 0)
                for s in SOURCES
            ]
        ).where(r.c.created_at >= since, r.c.dossier_id.is_(None))
        row = conn.execute(refused).one()
        for source, n in zip(SOURCES, row, strict=True):
            counts[source]["rejected"] = int(n)
    return counts


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused title: its signed rejection receipt, with every error in the sender's own paths."""

    receipt_id: str
    received_at: datetime
    source: str
    sender: str
    payload_sha256: str
    errors: list[dict[str, str]]
    warnings: list[dict[str, str]]
    receipt_json: str
    signature: bytes

    @property
    def codes(self) -> list[str]:
        return sorted({e["code"] for e in self.errors})


def _refusal(row: Any) -> Refusal:
    receipt = json.loads(row.receipt_json)
    return Refusal(
        receipt_id=row.receipt_id,
        received_at=row.created_at,
        source=receipt.get("source", ""),
        sender=receipt.get("sender", ""),
        payload_sha256=receipt.get("payload_sha256", ""),
        errors=list(receipt.get("errors", [])),
        warnings=list(receipt.get("warnings", [])),
        receipt_json=row.receipt_json,
        signature=row.signature,
    )


@dataclass(frozen=True, slots=True)
class RefusalFilter:
    source: str | None = None
    code: str | None = None
    day_from: date | None = None
    day_to: date | None = None

    @classmethod
    def parse(
        cls, source: str | None, code: str | None, day_from: str | None, day_to: str | None
    ) -> RefusalFilter:
        """From the page's query parameters; InvalidInput names the parameter that is wrong."""
        if source and source not in SOURCES:
            raise InvalidInput(f"source must be one of {', '.join(SOURCES)}", field="source")
        if code and not _CODE.fullmatch(code):
            raise InvalidInput(
                "code must be an error code (lower case letters, digits, dashes)", field="code"
            )
        return cls(source or None, code or None, _day(day_from, "from"), _day(day_to, "to"))


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date YYYY-MM-DD", field=name) from None


def _utc_midnight(day: date) -> datetime:
    from datetime import UTC

    return datetime.combine(day, time(0), tzinfo=UTC)


def refusals(
    store: SqlStore, where: RefusalFilter = RefusalFilter(), *, before: str | None = None, limit: int = PAGE
) -> list[Refusal]:
    """Refused titles, newest first; `before` is the receipt id the previous page ended with."""
    r = schema.receipts
    conditions: list[ColumnElement[bool]] = [r.c.dossier_id.is_(None)]
    if where.source:
        conditions.append(r.c.receipt_json.like(_source_pattern(where.source)))
    if where.code:
        conditions.append(r.c.receipt_json.like(f'%"code":"{where.code}"%'))
    if where.day_from:
        conditions.append(r.c.created_at >= _utc_midnight(where.day_from))
    if where.day_to:
        conditions.append(r.c.created_at < _utc_midnight(where.day_to + timedelta(days=1)))
    with store.read() as uow:
        conn = uow.connection
        if before:
            mark = conn.execute(select(r.c.created_at).where(r.c.receipt_id == before)).scalar()
            if mark is not None:
                conditions.append(
                    (r.c.created_at < mark) | and_(r.c.created_at == mark, r.c.receipt_id < before)
                )
        query = (
            select(r).where(*conditions).order_by(r.c.created_at.desc(), r.c.receipt_id.desc()).limit(limit)
        )
        # receipts with a dossier are most of the table: the date index, walked backwards, finds
        # the refused ones without reading the others' JSON
        return [_refusal(row) for row in conn.execute(query)]


def refusal(store: SqlStore, receipt_id: str) -> Refusal | None:
    r = schema.receipts
    with store.read() as uow:
        row = uow.connection.execute(
            select(r).where(r.c.receipt_id == receipt_id, r.c.dossier_id.is_(None))
        ).first()
    return None if row is None else _refusal(row)


@dataclass(frozen=True, slots=True)
class MandateCounts:
    without_signed_mandate: int  # accepted dossiers not collected until the debtor's signature
    without_payout_account: int  # accepted dossiers whose payouts wait for the creditor's account
    pending_amendments: int  # account changes the next debit will carry


def mandate_counts(store: SqlStore) -> MandateCounts:
    """What waits for the back-office (gateway.services.mandates.waiting lists them one by one)."""
    d, m, p = schema.dossiers, schema.mandates, schema.payout_accounts
    with store.read() as uow:
        conn = uow.connection
        dossiers = conn.execute(
            select(func.count()).select_from(d).where(d.c.status == "accepted")
        ).scalar_one()
        signed = conn.execute(
            select(func.count()).select_from(m).where(m.c.status == STATUS_SIGNED)
        ).scalar_one()
        accounts = conn.execute(select(func.count()).select_from(p)).scalar_one()
        pending = conn.execute(
            select(func.count()).select_from(m).where(m.c.pending_amendment.is_not(None))
        ).scalar_one()
    return MandateCounts(
        max(int(dossiers) - int(signed), 0), max(int(dossiers) - int(accounts), 0), int(pending)
    )


# --- dossier --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DossierPage:
    row: DossierRow
    data: dict[str, Any]
    mandate: MandateRow | None
    ledger: Ledger
    events: list[EventRow]
    receipts: list[ReceiptRow]


def dossier(store: SqlStore, dossier_id: str, *, today: date, events: int = 100) -> DossierPage | None:
    e, r = schema.events, schema.receipts
    with store.read() as uow:
        row = uow.dossiers.get(dossier_id)
        if row is None:
            return None
        conn = uow.connection
        mandate = SqlPayments(conn).mandate(dossier_id)
        ledger = build_ledger(
            dossier_id,
            dossier_debits(conn, dossier_id),
            as_of=today,
            reported_at=debit_report_times(conn, dossier_id),
        )
        found_events = [
            EventRow(**x._mapping)
            for x in conn.execute(
                select(e).where(e.c.dossier_id == dossier_id).order_by(e.c.event_id.desc()).limit(events)
            )
        ]
        receipts = [
            ReceiptRow(**x._mapping)
            for x in conn.execute(select(r).where(r.c.dossier_id == dossier_id).order_by(r.c.created_at))
        ]
    return DossierPage(row, json.loads(row.canonical_json), mandate, ledger, found_events, receipts)


# --- collections and payouts ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileStatus:
    file: PaymentFileRow
    statuses: dict[str, int]  # status of the file's transactions from the bank reports: count


def files(store: SqlStore, *, limit: int = 24) -> list[FileStatus]:
    """The latest files emitted, each with its transactions' status as the bank reported it."""
    f, debits, credits = schema.payment_files, schema.debits, schema.credits
    with store.read() as uow:
        conn = uow.connection
        rows = [
            PaymentFileRow(**x._mapping)
            for x in conn.execute(select(f).order_by(f.c.created_at.desc(), f.c.message_id).limit(limit))
        ]
        ids = [x.message_id for x in rows]
        statuses: dict[str, dict[str, int]] = {i: {} for i in ids}
        for table in (debits, credits):
            query = (
                select(table.c.message_id, table.c.status, func.count())
                .where(table.c.message_id.in_(ids))
                .group_by(table.c.message_id, table.c.status)
            )
            for message_id, status, n in conn.execute(query):
                statuses[str(message_id)][str(status)] = int(n)
    return [FileStatus(x, dict(sorted(statuses[x.message_id].items()))) for x in rows]


def payment_file(store: SqlStore, message_id: str) -> PaymentFileRow | None:
    f = schema.payment_files
    with store.read() as uow:
        row = uow.connection.execute(select(f).where(f.c.message_id == message_id)).first()
    return None if row is None else PaymentFileRow(**row._mapping)


@dataclass(frozen=True, slots=True)
class BankReport:
    report_key: str
    message: str
    report_id: str
    imported_at: datetime
    archive_seq: int | None
    counts: dict[str, int]
    reasons: dict[str, int]
    anomalies: int


def bank_reports(store: SqlStore, *, limit: int = 24) -> list[BankReport]:
    """The latest bank reports imported, with their outcomes and the EPC reason codes met."""
    b, p, a = schema.bank_reports, schema.debit_progress, schema.bank_anomalies
    with store.read() as uow:
        conn = uow.connection
        rows = list(conn.execute(select(b).order_by(b.c.imported_at.desc()).limit(limit)))
        keys = [row.report_key for row in rows]
        reasons: dict[str, dict[str, int]] = {k: {} for k in keys}
        query = (
            select(p.c.report_key, p.c.reason, func.count())
            .where(p.c.report_key.in_(keys), p.c.reason.is_not(None))
            .group_by(p.c.report_key, p.c.reason)
        )
        for key, reason, n in conn.execute(query):
            reasons[str(key)][str(reason)] = int(n)
        anomalies = {
            str(key): int(n)
            for key, n in conn.execute(
                select(a.c.report_key, func.count()).where(a.c.report_key.in_(keys)).group_by(a.c.report_key)
            )
        }
    found = []
    for row in rows:
        summary = json.loads(row.summary_json)
        counts = summary.get("counts", {}) if isinstance(summary, dict) else {}
        found.append(
            BankReport(
                row.report_key,
                row.message,
                row.report_id,
                row.imported_at,
                row.archive_seq,
                {str(k): int(v) for k, v in sorted(counts.items())},
                dict(sorted(reasons[row.report_key].items())),
                anomalies.get(row.report_key, 0),
            )
        )
    return found


# --- deliveries -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriptionCounts:
    subscription: str
    pending: int  # waiting for their first attempt
    failing: int  # pending again after a failed attempt
    dead: int


def delivery_counts(store: SqlStore) -> list[SubscriptionCounts]:
    """Per subscription, the deliveries not delivered (delivered ones are most of the table and
    grow with every event: they are not counted, so that the page reads only the open ones)."""
    d = schema.webhook_deliveries
    query = (
        select(d.c.subscription, d.c.status, d.c.attempts, func.count())
        .where(d.c.status.in_(("pending", "dead")))
        .group_by(d.c.subscription, d.c.status, d.c.attempts)
    )
    found: dict[str, dict[str, int]] = {}
    with store.read() as uow:
        for subscription, status, attempts, n in uow.connection.execute(query):
            counts = found.setdefault(str(subscription), {"pending": 0, "failing": 0, "dead": 0})
            key = "dead" if status == "dead" else ("failing" if attempts else "pending")
            counts[key] += int(n)
    return [SubscriptionCounts(s, **found[s]) for s in sorted(found)]


def dead_count(store: SqlStore) -> int:
    d = schema.webhook_deliveries
    with store.read() as uow:
        return int(
            uow.connection.execute(
                select(func.count()).select_from(d).where(d.c.status == "dead")
            ).scalar_one()
        )


def event_types(conn: Connection, event_ids: Sequence[int]) -> dict[int, str]:
    e = schema.events
    if not event_ids:
        return {}
    return {
        int(i): str(t)
        for i, t in conn.execute(select(e.c.event_id, e.c.type).where(e.c.event_id.in_(event_ids)))
    }


def event_types_of(store: SqlStore, event_ids: Sequence[int]) -> dict[int, str]:
    with store.read() as uow:
        return event_types(uow.connection, event_ids)
