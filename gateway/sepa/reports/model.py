"""Typed records read from bank reports: pain.002 statuses and camt.054 entries, amounts in cents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Literal, NamedTuple

from gateway.errors import Code, SchemaViolation

PAIN002_VERSIONS = ("pain.002.001.10", "pain.002.001.03")
CAMT054_VERSIONS = ("camt.054.001.08", "camt.054.001.02")
SUPPORTED = PAIN002_VERSIONS + CAMT054_VERSIONS


class ReportKind(StrEnum):
    """Which family a report belongs to."""

    STATUS = "pain.002"  # CustomerPaymentStatusReport: rejects before settlement
    NOTIFICATION = "camt.054"  # BankToCustomerDebitCreditNotification: credits, returns


def kind_of(message: str) -> ReportKind:
    """`pain.002.001.10` -> STATUS, `camt.054.001.08` -> NOTIFICATION."""
    return ReportKind.STATUS if message.startswith("pain.002") else ReportKind.NOTIFICATION


@dataclass(frozen=True, slots=True)
class ReportHeader:
    """Group header of a report: its own MsgId (the idempotency key of the whole file)."""

    message: str  # e.g. camt.054.001.08
    report_id: str  # GrpHdr/MsgId
    created_at: str  # GrpHdr/CreDtTm as written (ISODateTime, offset optional)

    @property
    def kind(self) -> ReportKind:
        return kind_of(self.message)


StatusLevel = Literal["group", "payment", "transaction"]


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """One status in a pain.002: of the whole original message, of one PmtInf, or of one transaction.

    Transactions come first, then their PmtInf, then the group (see gateway.sepa.reports.pain002),
    so a PmtInf- or group-level RJCT only concerns what no transaction-level status settled."""

    report_id: str
    level: StatusLevel
    original_msg_id: str
    original_pmtinf_id: str | None
    end_to_end_id: str | None
    status: str | None  # ACCP, ACSC, ACSP, ACTC, ACWC, PART, PDNG, RCVD, RJCT, CANC
    reason: str | None  # ISO ExternalStatusReason1Code (EPC: AC01, AM04, MD07...)
    amount_cents: int | None
    currency: str | None


CreditDebit = Literal["CRDT", "DBIT"]


class EntryRecord(NamedTuple):
    """One transaction of a camt.054 entry (or a whole batch entry without transaction details).

    A NamedTuple rather than a frozen dataclass: a million are made per file, and a frozen
    dataclass's __init__ costs five times more."""

    report_id: str
    entry_ref: str  # NtryRef, else AcctSvcrRef, else notification id + position: stable per report
    credit_debit: CreditDebit
    reversal: bool
    status: str  # BOOK, PDNG, INFO (camt.054.001.08: Sts/Cd)
    booking_date: date | None
    value_date: date | None
    amount_cents: int
    currency: str
    end_to_end_id: str | None
    msg_id: str | None
    pmtinf_id: str | None
    return_reason: str | None
    bank_tx_code: str | None  # Domn/Fmly/SubFmly, e.g. PMNT/RDDT/ESDD (collection), PMNT/RDDT/UPDD

    @property
    def is_booked(self) -> bool:
        return self.status == "BOOK"

    @property
    def is_return(self) -> bool:
        """Money going back out for a collection: a return, refund or reversal (EPC130-08 §4.6)."""
        return self.credit_debit == "DBIT" or self.reversal or self.return_reason is not None


def parse_amount(text: str | None, field: str = "Amt") -> int:
    """ISO 20022 decimal amount text to integer cents, never through float.

    Euro amounts have at most 2 significant decimals (ISO 4217); `12.500` is 1250 cents, `12.505`
    is refused rather than rounded."""
    if text is not None:
        # Fast path, exact integer arithmetic (a million entries per file): "123.45", "7", "0.5".
        whole, dot, fraction = text.strip().partition(".")
        if whole.isdigit() and whole.isascii() and (not dot or (fraction.isdigit() and fraction.isascii())):
            fraction = fraction.rstrip("0")
            if len(fraction) <= 2:
                return int(whole) * 100 + int(fraction.ljust(2, "0"))
    if text is None or not text.strip():
        raise SchemaViolation("an amount is missing", code=Code.SEPA_REPORT_INVALID_AMOUNT, field=field)
    try:
        if not text.isascii() or "e" in text.lower():  # xs:decimal: ASCII digits, no exponent
            raise InvalidOperation
        value = Decimal(text.strip())
    except InvalidOperation:
        raise SchemaViolation(
            f"{text!r} is not a decimal amount", code=Code.SEPA_REPORT_INVALID_AMOUNT, field=field
        ) from None
    cents = value * 100
    if not value.is_finite() or value < 0 or cents != cents.to_integral_value():
        raise SchemaViolation(
            f"{text!r} is not a euro amount in cents", code=Code.SEPA_REPORT_INVALID_AMOUNT, field=field
        )
    return int(cents)
