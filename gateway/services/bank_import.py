"""Bank reports in: a pain.002 or camt.054 from the bank, signed, archived and reconciled.

`import_report` is the whole use case (`gateway bank import` is its command line):
1. detect the message from the root namespace (pain.002.001.10/.03, camt.054.001.08/.02);
2. sign it (detached CMS); a file that is not a known report is archived as refused;
3. in ONE store transaction: stream it (validated against the official XSD while read), reconcile
   it with the debits SEPA out sent (gateway.payments.reconcile), record the debits' progress and
   every anomaly, publish `debit.settled|rejected|returned` per debit, then `arrears.changed` (the
   dossier's ledger, per child and month: gateway.payments.ledger) per dossier touched and
   `asf.differential_computed` per month touched with an ASF complement (per child), and remember
   the report (idempotency: its key is claimed first, so that the same report imported twice at
   once is applied once and reported as a duplicate by the other import, as in sequence;
   gateway.store.bank); a report that turns out invalid halfway rolls all of that back; the
   report is archived last in that transaction (with its row, docs/archive.md), or, when the
   import fails, in a transaction of its own;
4. return what it changed; a refused file raises a GatewayError (after being archived).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gateway.services.ports import Archive, PaymentsStore, Signer

if TYPE_CHECKING:
    from gateway.payments.reconcile import Outcome, Summary


class BankImportPorts(Protocol):
    """What an import needs (gateway.bootstrap.Gateway has them)."""

    @property
    def store(self) -> PaymentsStore: ...

    @property
    def signer(self) -> Signer: ...

    @property
    def archive(self) -> Archive: ...


@dataclass
class ImportResult:
    """What one import did: the report, its archive entry, the counts, and the anomalies."""

    file: str
    message: str
    report_id: str
    archive_seq: int | None
    duplicate: bool
    summary: Summary
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    dossiers: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "message": self.message,
            "report_id": self.report_id,
            "archive_seq": self.archive_seq,
            "duplicate": self.duplicate,
            "counts": dict(sorted(self.summary.counts.items())),
            "amounts_cents": dict(sorted(self.summary.amounts.items())),
            "anomalies": self.anomalies,
            "dossiers": self.dossiers,
        }


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _debit_event(outcome: Outcome, message: str) -> dict[str, Any]:
    debit = outcome.debit
    assert debit is not None  # only outcomes that change a debit are published
    reason = outcome.reason
    return {
        "end_to_end_id": debit.end_to_end_id,
        "dossier_id": debit.dossier_id,
        "period": debit.period,
        "instructed_cents": debit.amount_cents,
        "amount_cents": outcome.amount_cents,
        "state": None if outcome.after is None else outcome.after.value,
        "reason": None
        if reason is None
        else {"code": reason.code, "meaning": reason.meaning, "action": reason.action},
        "report": {"message": message, "report_id": outcome.report_id},
    }


def import_report(
    gateway: BankImportPorts, path: Path, *, now: Callable[[], datetime] = _utcnow
) -> ImportResult:
    """Sign, archive and reconcile one bank report (see the module docstring)."""
    from gateway.errors import GatewayError
    from gateway.sepa.reports import detect_message

    at = now()

    signature = gateway.signer.sign_detached_file(path)  # in chunks: a camt.054 is hundreds of MB

    def archive(metadata: dict[str, str], uow: Any = None) -> object:
        # evidence of what the bank sent, refused or not
        meta = {"file_name": path.name, "received_at": at.isoformat(), **metadata}
        return gateway.archive.append_file(
            "inbound-bank-report", path, signature=signature, metadata=meta, uow=uow
        )

    try:
        message = detect_message(path)
    except GatewayError as exc:
        archive({"refused": exc.code})
        raise
    try:
        return _import(gateway, path, message, at, archive)
    except GatewayError as exc:
        archive({"message": message, "refused": exc.code})
        raise
    except Exception:
        archive({"message": message, "refused": "import-failed"})
        raise


def _import(
    gateway: BankImportPorts,
    path: Path,
    message: str,
    at: datetime,
    archive: Callable[[dict[str, str], Any], object],
) -> ImportResult:
    from gateway.payments.follow_up import legal_day
    from gateway.payments.reconcile import CHANGES, OutcomeKind, Reconciler
    from gateway.sepa.reports import ReportHeader, read_report
    from gateway.services.emission import file_sha256
    from gateway.services.events import (
        ARREARS_CHANGED,
        ASF_DIFFERENTIAL_COMPUTED,
        DEBIT_REJECTED,
        DEBIT_RETURNED,
        DEBIT_SETTLED,
        publish,
    )
    from gateway.services.records import BankReportRow

    records = read_report(path, message)
    header = next(records)
    if not isinstance(header, ReportHeader):  # pragma: no cover - the readers start with it
        raise TypeError("a report starts with its header")
    key = f"{header.kind.value}:{header.report_id}"
    kinds = {
        OutcomeKind.SETTLED: DEBIT_SETTLED,
        OutcomeKind.REJECTED: DEBIT_REJECTED,
        OutcomeKind.RETURNED: DEBIT_RETURNED,
    }
    anomalies: list[dict[str, Any]] = []
    touched: dict[str, set[str]] = {}  # dossier -> periods changed by this report
    with gateway.store.transaction() as uow:
        reports = uow.bank_reports
        claimed = reports.claim(
            BankReportRow(key, message, header.report_id, file_sha256(path), None, at, {})
        )
        reconciler = Reconciler(reports.debit_book(key, now=at, claimed=claimed))
        duplicate = False
        for outcome in reconciler.run(chain([header], records)):
            if outcome.kind is OutcomeKind.DUPLICATE_REPORT:
                duplicate = True
            elif outcome.kind in CHANGES and outcome.debit is not None:
                debit = outcome.debit
                publish(
                    uow.events,
                    kinds[outcome.kind],
                    _debit_event(outcome, message),
                    at=at,
                    dossier_id=debit.dossier_id,
                )
                touched.setdefault(debit.dossier_id, set()).add(debit.period)
            if outcome.code is not None:
                anomalies.append(
                    {
                        "kind": outcome.kind.value,
                        "code": outcome.code,
                        "reference": outcome.reference,
                        "amount_cents": outcome.amount_cents,
                        "note": outcome.note,
                    }
                )
                if not duplicate:
                    reports.record_anomaly(key, outcome, at)
        for dossier_id, periods in sorted(touched.items()):
            inputs = uow.ledgers.inputs(dossier_id)
            if inputs is None:  # pragma: no cover - a debit's dossier exists (foreign key)
                continue
            ledger = inputs.ledger(as_of=legal_day(at))
            publish(
                uow.events,
                ARREARS_CHANGED,
                {"report": {"message": message, "report_id": header.report_id}, **ledger.to_json()},
                at=at,
                dossier_id=dossier_id,
            )
            for month in ledger.months:
                if month.period in periods and month.complement_cents > 0:
                    # the month's per-child complements, recoverable parts and their sums
                    publish(
                        uow.events,
                        ASF_DIFFERENTIAL_COMPUTED,
                        {"dossier_id": dossier_id, **month.to_json()},
                        at=at,
                        dossier_id=dossier_id,
                    )
        entry = archive({"message": message}, uow)  # last: the log's sequencing row until commit
        seq = getattr(entry, "seq", None)
        result = ImportResult(
            path.name, message, header.report_id, seq if isinstance(seq, int) else None, duplicate,
            reconciler.summary, anomalies, sorted(touched),
        )  # fmt: skip
        if not duplicate:
            reports.complete(key, result.to_json(), archive_seq=result.archive_seq)
    return result
