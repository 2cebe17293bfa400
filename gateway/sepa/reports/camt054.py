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


_TX_FIELDS = ("Refs", "Amt", "AmtDtls", "BkTxCd", "RtrInf")
_ENTRY_FIELDS = (
    "NtryRef", "Amt", "CdtDbtInd", "RvslInd", "Sts", "BookgDt", "ValDt", "AcctSvcrRef", "BkTxCd", "NtryDtls",
)  # fmt: skip


class _Tx:
    """The fields of one TxDtls, read in a single pass over its children (hot loop)."""

    __slots__ = ("amount", "code", "currency", "end_to_end_id", "msg_id", "pmtinf_id", "reason")

    def __init__(self, tx: etree._Element, slots: dict[str, int], cut: int) -> None:
        found: list[etree._Element | None] = [None] * len(_TX_FIELDS)
        for child in tx:
            i = slots.get(child.tag)
            if i is not None:
                found[i] = child
        refs, amount, details, code, returned = found
        self.end_to_end_id = self.msg_id = self.pmtinf_id = None
        if refs is not None:
            for ref in refs:
                key = ref.tag[cut:]
                if key == "EndToEndId":
                    self.end_to_end_id = ref.text
                elif key == "MsgId":
                    self.msg_id = ref.text
                elif key == "PmtInfId":
                    self.pmtinf_id = ref.text
        if amount is None and details is not None:  # .02: AmtDtls/TxAmt/Amt, else InstdAmt/Amt
            for detail in details:
                kind = detail.tag[cut:]
                if len(detail) and (kind == "TxAmt" or (kind == "InstdAmt" and amount is None)):
                    amount = detail[0]
        self.amount: str | None = None if amount is None else amount.text
        self.currency: str | None = None if amount is None else amount.get("Ccy")
        self.code = None if code is None else _bank_code(code, cut)
        self.reason = None if returned is None else _reason(returned, cut)


def read_camt054(path: Path, message: str) -> Iterator[ReportHeader | EntryRecord]:
    """Yield the header, then one record per booked transaction of `path` (validated while read)."""
    ns = namespace(message)
    cut = len(ns) + 2  # "{" + ns + "}"
    ntry = f"{{{ns}}}Ntry"
    entry_slots = {f"{{{ns}}}{name}": i for i, name in enumerate(_ENTRY_FIELDS)}
    tx_slots = {f"{{{ns}}}{name}": i for i, name in enumerate(_TX_FIELDS)}
    report_id = ""
    position = 0
    for element in stream(path, message, ("GrpHdr", "Ntry")):
        if element.tag != ntry:
            report_id = text(element.find(f"{{{ns}}}MsgId")) or ""
            yield ReportHeader(message, report_id, text(element.find(f"{{{ns}}}CreDtTm")) or "")
            continue
        position += 1
        found: list[etree._Element | None] = [None] * len(_ENTRY_FIELDS)
        for child in element:  # one pass over the entry's children: find() per field costs 3x more
            i = entry_slots.get(child.tag)
            if i is not None:
                found[i] = child
        (
            ref_el,
            amount_el,
            side_el,
            reversal_el,
            status_el,
            booking_el,
            value_el,
            service_el,
            code_el,
            details,
        ) = found
        amount_text = None if amount_el is None else amount_el.text
        currency = "" if amount_el is None else amount_el.get("Ccy", "")
        credit_debit: CreditDebit = "DBIT" if side_el is not None and side_el.text == "DBIT" else "CRDT"
        # .02: <Sts>BOOK</Sts>; .08: <Sts><Cd>BOOK</Cd></Sts>
        status = "" if status_el is None else _text(status_el[0]) if len(status_el) else _text(status_el)
        # xs:boolean collapses whitespace
        reversal = reversal_el is not None and _text(reversal_el).strip() in ("true", "1")
        booking = None if booking_el is None else _day(booking_el)
        value = None if value_el is None else _day(value_el)
        code = None if code_el is None else _bank_code(code_el, cut)
        entry_ref = "" if ref_el is None else _text(ref_el)
        service_ref = "" if service_el is None else _text(service_el)
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
            tx = _Tx(element_tx, tx_slots, cut)
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
