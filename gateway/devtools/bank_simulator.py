"""A stand-in bank for demonstrations and integration tests: answers a pain.008 the way a bank does.

Given a collection file the gateway emitted, it writes a pain.002.001.10 status report rejecting
the debits you name (with their EPC reason code) and a camt.054.001.08 notification crediting all
the others on their collection date, both valid against the official XSDs. Never for production:
it invents the bank's side of the exchange.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lxml import etree

from gateway.errors import Code, MalformedPayload, RuleViolation
from gateway.safeparse import parse_xml
from gateway.sepa.reports.reasons import REASONS

P8 = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"
P2 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"
C54 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"


@dataclass(frozen=True, slots=True)
class Debit:
    msg_id: str
    pmtinf_id: str
    end_to_end_id: str
    amount: str
    collection_date: str


def read_collection(path: Path) -> tuple[str, str, list[Debit]]:
    """(MsgId, creditor IBAN, debits) of a pain.008.001.08 file."""
    root = parse_xml(path.read_bytes(), max_bytes=256 * 1024 * 1024).getroot()
    if root.tag != f"{{{P8}}}Document":
        raise MalformedPayload(f"{path.name} is not a pain.008.001.08 collection file", field="PAIN008")
    ns = {"p": P8}
    msg_id = root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", namespaces=ns) or ""
    iban = ""
    debits: list[Debit] = []
    for pmt in root.iterfind("p:CstmrDrctDbtInitn/p:PmtInf", ns):
        pmtinf_id = pmt.findtext("p:PmtInfId", namespaces=ns) or ""
        day = pmt.findtext("p:ReqdColltnDt", namespaces=ns) or ""
        iban = pmt.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=ns) or iban
        for tx in pmt.iterfind("p:DrctDbtTxInf", ns):
            debits.append(
                Debit(
                    msg_id,
                    pmtinf_id,
                    tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns) or "",
                    tx.findtext("p:InstdAmt", namespaces=ns) or "0.00",
                    day,
                )
            )
    return msg_id, iban, debits


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def status_report(msg_id: str, debits: list[Debit], rejects: Mapping[str, str], at: datetime) -> bytes:
    """pain.002.001.10 rejecting `rejects` (EndToEndId -> EPC reason code)."""
    doc = etree.Element("Document", nsmap={None: P2})  # type: ignore[dict-item]
    report = _sub(doc, "CstmrPmtStsRpt")
    header = _sub(report, "GrpHdr")
    _sub(header, "MsgId", f"STS-{msg_id[2:]}"[:35])
    _sub(header, "CreDtTm", at.isoformat(timespec="seconds"))
    group = _sub(report, "OrgnlGrpInfAndSts")
    _sub(group, "OrgnlMsgId", msg_id)
    _sub(group, "OrgnlMsgNmId", "pain.008.001.08")
    _sub(group, "GrpSts", "PART")
    by_batch: dict[str, list[Debit]] = {}
    for debit in debits:
        if debit.end_to_end_id in rejects:
            by_batch.setdefault(debit.pmtinf_id, []).append(debit)
    for pmtinf_id, rejected in by_batch.items():
        batch = _sub(report, "OrgnlPmtInfAndSts")
        _sub(batch, "OrgnlPmtInfId", pmtinf_id)
        _sub(batch, "PmtInfSts", "PART")
        for n, debit in enumerate(rejected, 1):
            tx = _sub(batch, "TxInfAndSts")
            _sub(tx, "StsId", f"RJ-{n:04d}")
            _sub(tx, "OrgnlEndToEndId", debit.end_to_end_id)
            _sub(tx, "TxSts", "RJCT")
            _sub(_sub(_sub(tx, "StsRsnInf"), "Rsn"), "Cd", rejects[debit.end_to_end_id])
            ref = _sub(tx, "OrgnlTxRef")
            _sub(_sub(ref, "Amt"), "InstdAmt", debit.amount, Ccy="EUR")
            _sub(ref, "ReqdColltnDt", debit.collection_date)
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def notification(
    msg_id: str, iban: str, debits: list[Debit], rejects: Mapping[str, str], at: datetime
) -> bytes:
    """camt.054.001.08 crediting every debit not rejected, one booked entry per debit."""
    doc = etree.Element("Document", nsmap={None: C54})  # type: ignore[dict-item]
    body = _sub(doc, "BkToCstmrDbtCdtNtfctn")
    header = _sub(body, "GrpHdr")
    _sub(header, "MsgId", f"NTF-{msg_id[2:]}"[:35])
    _sub(header, "CreDtTm", at.isoformat(timespec="seconds"))
    note = _sub(body, "Ntfctn")
    _sub(note, "Id", f"NTF-{msg_id[2:]}-1"[:35])
    _sub(note, "CreDtTm", at.isoformat(timespec="seconds"))
    account = _sub(note, "Acct")
    _sub(_sub(account, "Id"), "IBAN", iban)
    _sub(account, "Ccy", "EUR")
    for n, debit in enumerate((d for d in debits if d.end_to_end_id not in rejects), 1):
        entry = _sub(note, "Ntry")
        _sub(entry, "NtryRef", f"E{n:06d}")
        _sub(entry, "Amt", debit.amount, Ccy="EUR")
        _sub(entry, "CdtDbtInd", "CRDT")
        _sub(_sub(entry, "Sts"), "Cd", "BOOK")
        _sub(_sub(entry, "BookgDt"), "Dt", debit.collection_date)
        _sub(_sub(entry, "ValDt"), "Dt", debit.collection_date)
        _sub(entry, "AcctSvcrRef", f"E{n:06d}-ASR")
        code = _sub(_sub(entry, "BkTxCd"), "Domn")
        _sub(code, "Cd", "PMNT")
        family = _sub(code, "Fmly")
        _sub(family, "Cd", "RDDT")
        _sub(family, "SubFmlyCd", "ESDD")
        tx = _sub(_sub(entry, "NtryDtls"), "TxDtls")
        refs = _sub(tx, "Refs")
        _sub(refs, "MsgId", debit.msg_id)
        _sub(refs, "PmtInfId", debit.pmtinf_id)
        _sub(refs, "EndToEndId", debit.end_to_end_id)
        _sub(tx, "Amt", debit.amount, Ccy="EUR")
        _sub(tx, "CdtDbtInd", "CRDT")
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def check_rejects(msg_id: str, debits: list[Debit], rejects: Mapping[str, str]) -> None:
    """Refuse to invent: each rejected EndToEndId must be a debit of the file, each reason code one
    of the EPC's (EPC173-14, gateway.sepa.reports.reasons). Raises RuleViolation naming every one."""
    known = sorted({d.end_to_end_id for d in debits})
    unknown = sorted(set(rejects) - set(known))
    if unknown:
        some = ", ".join(known[:3]) + (f" and {len(known) - 3} more" if len(known) > 3 else "")
        raise RuleViolation(
            f"no debit {', '.join(unknown)} in {msg_id} (its EndToEndIds: {some or 'none'})",
            code=Code.UNKNOWN_END_TO_END_ID,
            field="--reject",
        )
    invented = sorted({code for code in rejects.values() if code not in REASONS})
    if invented:
        raise RuleViolation(
            f"{', '.join(invented)} is not an EPC reason code for a rejected debit (e.g. AM04, AC04, MD07)",
            code=Code.UNKNOWN_REASON_CODE,
            field="--reject",
        )


def answer_collection(
    pain008: Path, out_dir: Path, *, rejects: Mapping[str, str], at: datetime
) -> list[Path]:
    """Write the bank's answers to `pain008` into `out_dir`: a pain.002 if anything is rejected,
    and a camt.054 if anything is credited. Returns their paths.

    Answering the same file again replaces the earlier answers: a pain.002 from an earlier run that
    rejected something no longer rejected is removed, never left for `bank import` to pick up."""
    msg_id, iban, debits = read_collection(pain008)
    check_rejects(msg_id, debits, rejects)
    out_dir.mkdir(parents=True, exist_ok=True)
    answers = {
        out_dir / f"pain002-{msg_id}.xml": (
            status_report(msg_id, debits, rejects, at)
            if any(d.end_to_end_id in rejects for d in debits)
            else None
        ),
        out_dir / f"camt054-{msg_id}.xml": (
            notification(msg_id, iban, debits, rejects, at)
            if any(d.end_to_end_id not in rejects for d in debits)
            else None
        ),
    }
    written: list[Path] = []
    for path, content in answers.items():
        if content is None:
            path.unlink(missing_ok=True)
            continue
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(content)
        partial.replace(path)  # atomic: `bank import var/bank/*.xml` never sees half a file
        written.append(path)
    return written
