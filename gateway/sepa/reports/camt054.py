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


def _date(element: etree._Element | None, ns: str) -> date | None:
    if element is None:
        return None
    day = text(element.find(f"{{{ns}}}Dt"))
    if day is None:
        stamp = text(element.find(f"{{{ns}}}DtTm"))
        day = stamp[:10] if stamp else None
    return None if day is None else date.fromisoformat(day[:10])


class _Names:
    """Qualified tag names of one message version, computed once (hot loop)."""

    def __init__(self, ns: str) -> None:
        q = {
            name: f"{{{ns}}}{name}"
            for name in (
                "NtryRef", "Amt", "CdtDbtInd", "RvslInd", "Sts", "BookgDt", "ValDt", "AcctSvcrRef",
                "BkTxCd", "NtryDtls", "TxDtls", "Btch", "Refs", "EndToEndId", "MsgId", "PmtInfId",
                "AmtDtls", "TxAmt", "InstdAmt", "RtrInf", "Rsn", "Cd", "Prtry", "Domn", "Fmly",
                "SubFmlyCd",
            )
        }  # fmt: skip
        self.__dict__.update(q)
        self.ns = ns

    NtryRef: str
    Amt: str
    CdtDbtInd: str
    RvslInd: str
    Sts: str
    BookgDt: str
    ValDt: str
    AcctSvcrRef: str
    BkTxCd: str
    NtryDtls: str
    TxDtls: str
    Btch: str
    Refs: str
    EndToEndId: str
    MsgId: str
    PmtInfId: str
    AmtDtls: str
    TxAmt: str
    InstdAmt: str
    RtrInf: str
    Rsn: str
    Cd: str
    Prtry: str
    Domn: str
    Fmly: str
    SubFmlyCd: str


def _bank_code(element: etree._Element | None, n: _Names) -> str | None:
    if element is None:
        return None
    domain = element.find(n.Domn)
    if domain is None:
        return None
    family = domain.find(n.Fmly)
    parts = [text(domain.find(n.Cd))]
    if family is not None:
        parts += [text(family.find(n.Cd)), text(family.find(n.SubFmlyCd))]
    return "/".join(part for part in parts if part) or None


def _tx_amount(tx: etree._Element, n: _Names) -> etree._Element | None:
    # .08 carries TxDtls/Amt; .02 only AmtDtls/TxAmt/Amt (or InstdAmt/Amt)
    found = tx.find(n.Amt)
    if found is None:
        found = tx.find(f"{n.AmtDtls}/{n.TxAmt}/{n.Amt}")
    if found is None:
        found = tx.find(f"{n.AmtDtls}/{n.InstdAmt}/{n.Amt}")
    return found


def read_camt054(path: Path, message: str) -> Iterator[ReportHeader | EntryRecord]:
    """Yield the header, then one record per booked transaction of `path` (validated while read)."""
    ns = namespace(message)
    n = _Names(ns)
    report_id = ""
    position = 0
    for element in stream(path, message, ("GrpHdr", "Ntry")):
        if element.tag != f"{{{ns}}}Ntry":
            report_id = text(element.find(n.MsgId)) or ""
            yield ReportHeader(message, report_id, text(element.find(f"{{{ns}}}CreDtTm")) or "")
            continue
        position += 1
        amount_el = element.find(n.Amt)
        entry_amount = parse_amount(None if amount_el is None else amount_el.text, "Ntry/Amt")
        currency = "" if amount_el is None else amount_el.get("Ccy", "")
        status_el = element.find(n.Sts)
        # .02: <Sts>BOOK</Sts>; .08: <Sts><Cd>BOOK</Cd></Sts>
        status = text(status_el) or text(None if status_el is None else status_el.find(n.Cd)) or ""
        entry_ref = (
            text(element.find(n.NtryRef)) or text(element.find(n.AcctSvcrRef)) or f"{report_id}#{position}"
        )
        credit_debit: CreditDebit = "DBIT" if text(element.find(n.CdtDbtInd)) == "DBIT" else "CRDT"
        reversal = text(element.find(n.RvslInd)) in ("true", "1")
        booking = _date(element.find(n.BookgDt), ns)
        value = _date(element.find(n.ValDt), ns)
        code = _bank_code(element.find(n.BkTxCd), n)
        details = element.find(n.NtryDtls)
        transactions = [] if details is None else details.findall(n.TxDtls)
        if not transactions:
            batch = None if details is None else details.find(n.Btch)
            yield EntryRecord(
                report_id, entry_ref, credit_debit, reversal, status, booking, value, entry_amount,
                currency, None,
                None if batch is None else text(batch.find(n.MsgId)),
                None if batch is None else text(batch.find(n.PmtInfId)),
                None, code,
            )  # fmt: skip
            continue
        single = len(transactions) == 1
        for index, tx in enumerate(transactions, start=1):
            refs = tx.find(n.Refs)
            tx_amount_el = _tx_amount(tx, n)
            if tx_amount_el is None and not single:
                # several transactions in one entry: each must say its own amount
                raise SchemaViolation(
                    f"entry {entry_ref}: transaction {index} has no amount",
                    code=Code.SEPA_REPORT_INVALID_AMOUNT,
                    field="TxDtls/Amt",
                )
            amount = entry_amount if tx_amount_el is None else parse_amount(tx_amount_el.text, "TxDtls/Amt")
            reason_el = tx.find(f"{n.RtrInf}/{n.Rsn}")
            reason = None
            if reason_el is not None:
                reason = text(reason_el.find(n.Cd)) or text(reason_el.find(n.Prtry))
            yield EntryRecord(
                report_id,
                entry_ref if single else f"{entry_ref}/{index}",
                credit_debit,
                reversal,
                status,
                booking,
                value,
                amount,
                currency if tx_amount_el is None else tx_amount_el.get("Ccy", currency),
                None if refs is None else text(refs.find(n.EndToEndId)),
                None if refs is None else text(refs.find(n.MsgId)),
                None if refs is None else text(refs.find(n.PmtInfId)),
                reason,
                _bank_code(tx.find(n.BkTxCd), n) or code,
            )
