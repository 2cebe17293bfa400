"""camt.054 BankToCustomerDebitCreditNotification (.001.08 and .001.02): credits and returns booked.

For the fund's collection account (EPC130-08, creditor side): a CRDT entry books collected debits
(one per transaction, or one batch entry with transaction details, or a batch entry with only the
PmtInfId), a DBIT entry books an R-transaction after settlement (return, refund, reversal) with
`RtrInf/Rsn` giving the EPC reason. One `EntryRecord` is yielded per transaction detail.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from lxml import etree

from gateway.errors import Code, SchemaViolation
from gateway.sepa.reports.model import CreditDebit, EntryRecord, ReportHeader, parse_amount
from gateway.sepa.reports.stream import namespace, stream, text


def _text(element: etree._Element) -> str:
    # Identifiers and codes are xs:string (whitespace is significant); only dates and amounts
    # collapse whitespace, and those are stripped where they are parsed.
    value = element.text
    return "" if value is None else value


def _day(element: etree._Element) -> date | None:
    # DateAndDateTime2Choice: <Dt>2026-11-05</Dt> or <DtTm>2026-11-05T10:00:00</DtTm>
    value = element[0].text if len(element) else None
    return date.fromisoformat(value.strip()[:10]) if value else None


def _bank_code(element: etree._Element, cut: int) -> str | None:
    # BkTxCd/Domn(Cd, Fmly(Cd, SubFmlyCd)) -> "PMNT/RDDT/ESDD"; the XSD fixes that order.
    if not len(element) or element[0].tag[cut:] != "Domn":
        return None
    domain = element[0]
    family = domain[1]
    return f"{domain[0].text}/{family[0].text}/{family[1].text}"


def _reason(element: etree._Element, cut: int) -> str | None:
    # RtrInf/Rsn/Cd (or Prtry)
    for child in element:
        if child.tag[cut:] == "Rsn":
            for code in child:
                return _text(code) or None
    return None


class _Tx:
    """The fields of one TxDtls, read in a single pass over its children (hot loop)."""

    __slots__ = ("amount", "code", "currency", "end_to_end_id", "msg_id", "pmtinf_id", "reason")

    def __init__(self, tx: etree._Element, cut: int) -> None:
        self.end_to_end_id = self.msg_id = self.pmtinf_id = None
        self.amount: str | None = None
        self.currency: str | None = None
        self.reason: str | None = None
        self.code: str | None = None
        instructed: etree._Element | None = None
        for child in tx:
            name = child.tag[cut:]
            if name == "Refs":
                for ref in child:
                    key = ref.tag[cut:]
                    if key == "EndToEndId":
                        self.end_to_end_id = ref.text
                    elif key == "MsgId":
                        self.msg_id = ref.text
                    elif key == "PmtInfId":
                        self.pmtinf_id = ref.text
            elif name == "Amt":  # .08
                self.amount, self.currency = child.text, child.get("Ccy")
            elif name == "AmtDtls" and self.amount is None:  # .02: AmtDtls/TxAmt/Amt or InstdAmt/Amt
                for detail in child:
                    kind = detail.tag[cut:]
                    if len(detail) and (kind == "TxAmt" or (kind == "InstdAmt" and instructed is None)):
                        instructed = detail[0]
            elif name == "BkTxCd":
                self.code = _bank_code(child, cut)
            elif name == "RtrInf":
                self.reason = _reason(child, cut)
        if self.amount is None and instructed is not None:
            self.amount, self.currency = instructed.text, instructed.get("Ccy")


def read_camt054(path: Path, message: str) -> Iterator[ReportHeader | EntryRecord]:
    """Yield the header, then one record per booked transaction of `path` (validated while read)."""
    ns = namespace(message)
    cut = len(ns) + 2  # "{" + ns + "}"
    ntry = f"{{{ns}}}Ntry"
    report_id = ""
    position = 0
    for element in stream(path, message, ("GrpHdr", "Ntry")):
        if element.tag != ntry:
            report_id = text(element.find(f"{{{ns}}}MsgId")) or ""
            yield ReportHeader(message, report_id, text(element.find(f"{{{ns}}}CreDtTm")) or "")
            continue
        position += 1
        amount_text: str | None = None
        currency = ""
        status = entry_ref = service_ref = ""
        credit_debit: CreditDebit = "CRDT"
        reversal = False
        booking = value = None
        code: str | None = None
        details: etree._Element | None = None
        for child in element:  # one pass over the entry's children: find() per field costs 3x more
            name = child.tag[cut:]
            if name == "Amt":
                amount_text, currency = child.text, child.get("Ccy", "")
            elif name == "CdtDbtInd":
                credit_debit = "DBIT" if _text(child) == "DBIT" else "CRDT"
            elif name == "Sts":  # .02: <Sts>BOOK</Sts>; .08: <Sts><Cd>BOOK</Cd></Sts>
                status = _text(child[0]) if len(child) else _text(child)
            elif name == "NtryRef":
                entry_ref = _text(child)
            elif name == "AcctSvcrRef":
                service_ref = _text(child)
            elif name == "RvslInd":
                reversal = _text(child).strip() in ("true", "1")  # xs:boolean collapses whitespace
            elif name == "BookgDt":
                booking = _day(child)
            elif name == "ValDt":
                value = _day(child)
            elif name == "BkTxCd":
                code = _bank_code(child, cut)
            elif name == "NtryDtls":
                details = child
        entry_ref = entry_ref or service_ref or f"{report_id}#{position}"
        transactions = [] if details is None else [c for c in details if c.tag[cut:] == "TxDtls"]
        if not transactions:
            batch = None if details is None else details.find(f"{{{ns}}}Btch")
            yield EntryRecord(
                report_id, entry_ref, credit_debit, reversal, status, booking, value,
                parse_amount(amount_text, "Ntry/Amt"),
                currency, None,
                None if batch is None else text(batch.find(f"{{{ns}}}MsgId")),
                None if batch is None else text(batch.find(f"{{{ns}}}PmtInfId")),
                None, code,
            )  # fmt: skip
            continue
        single = len(transactions) == 1
        for index, element_tx in enumerate(transactions, start=1):
            tx = _Tx(element_tx, cut)
            if tx.amount is None and not single:
                # several transactions in one entry: each must say its own amount
                raise SchemaViolation(
                    f"entry {entry_ref}: transaction {index} has no amount",
                    code=Code.SEPA_REPORT_INVALID_AMOUNT,
                    field="TxDtls/Amt",
                )
            yield EntryRecord(
                report_id,
                entry_ref if single else f"{entry_ref}/{index}",
                credit_debit,
                reversal,
                status,
                booking,
                value,
                parse_amount(amount_text if tx.amount is None else tx.amount, "Amt"),
                currency if tx.currency is None else tx.currency,
                tx.end_to_end_id,
                tx.msg_id,
                tx.pmtinf_id,
                tx.reason,
                tx.code or code,
            )
