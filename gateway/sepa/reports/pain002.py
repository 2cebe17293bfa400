"""pain.002 CustomerPaymentStatusReport (.001.10 and .001.03): statuses of an original pain.008.

Order of the records (what the reconciliation relies on): every transaction status of a PmtInf, then
the PmtInf status, and the group status last, although the group header comes first in the file: a
PmtInf- or group-level reject then only reaches the debits that no finer status already concerned
(EPC130-08 §4.6: a reject may concern a whole file, one batch, or one collection).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from gateway.sepa.reports.model import ReportHeader, StatusRecord, parse_amount
from gateway.sepa.reports.stream import namespace, stream, text

_TAGS = ("GrpHdr", "OrgnlGrpInfAndSts", "TxInfAndSts", "OrgnlPmtInfAndSts")


def _reason(element: etree._Element, ns: str) -> str | None:
    # The first StsRsnInf/Rsn/Cd (or Prtry) names the reason; EPC uses one reason per status.
    code = text(element.find(f"{{{ns}}}StsRsnInf/{{{ns}}}Rsn/{{{ns}}}Cd"))
    return code or text(element.find(f"{{{ns}}}StsRsnInf/{{{ns}}}Rsn/{{{ns}}}Prtry"))


def read_pain002(path: Path, message: str) -> Iterator[ReportHeader | StatusRecord]:
    """Yield the header, then the status records of `path` (validated while read)."""
    ns = namespace(message)
    q = {name: f"{{{ns}}}{name}" for name in (*_TAGS, "TxSts", "PmtInfSts", "GrpSts")}
    report_id = ""
    original_msg_id = ""
    group: StatusRecord | None = None
    pmtinf_id: str | None = None
    for element in stream(path, message, _TAGS):
        tag = element.tag
        if tag == q["GrpHdr"]:
            report_id = text(element.find(f"{{{ns}}}MsgId")) or ""
            created = text(element.find(f"{{{ns}}}CreDtTm")) or ""
            yield ReportHeader(message, report_id, created)
        elif tag == q["OrgnlGrpInfAndSts"]:
            original_msg_id = text(element.find(f"{{{ns}}}OrgnlMsgId")) or ""
            group = StatusRecord(
                report_id,
                "group",
                original_msg_id,
                None,
                None,
                text(element.find(q["GrpSts"])),
                _reason(element, ns),
                None,
                None,
            )
        elif tag == q["TxInfAndSts"]:
            parent = element.getparent()
            if pmtinf_id is None and parent is not None:
                pmtinf_id = text(parent.find(f"{{{ns}}}OrgnlPmtInfId"))
            amount = element.find(f"{{{ns}}}OrgnlTxRef/{{{ns}}}Amt/{{{ns}}}InstdAmt")
            yield StatusRecord(
                report_id,
                "transaction",
                original_msg_id,
                pmtinf_id,
                text(element.find(f"{{{ns}}}OrgnlEndToEndId")),
                text(element.find(q["TxSts"])),
                _reason(element, ns),
                None if amount is None else parse_amount(amount.text, "OrgnlTxRef/Amt/InstdAmt"),
                None if amount is None else amount.get("Ccy"),
            )
        else:  # OrgnlPmtInfAndSts: after its transactions
            this_pmtinf = text(element.find(f"{{{ns}}}OrgnlPmtInfId")) or pmtinf_id
            yield StatusRecord(
                report_id,
                "payment",
                original_msg_id,
                this_pmtinf,
                None,
                text(element.find(q["PmtInfSts"])),
                _reason(element, ns),
                None,
                None,
            )
            pmtinf_id = None
    if group is not None:
        yield group
