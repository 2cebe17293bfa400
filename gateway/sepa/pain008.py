"""Streaming pain.008 (SEPA Direct Debit Core) writer: constant memory; two passes over a source
(`write_pain008`), or one over debits whose batches are planned beforehand
(`write_pain008_planned`, the monthly run) -- `gateway.sepa.batches`.

Layout: `lxml.etree.xmlfile` writes the envelope (declaration, Document, GrpHdr, each PmtInf
header and every closing tag, escaping done by lxml); each DrctDbtTxInf is a pre-ordered text
fragment written straight to the same stream after `xf.flush()`. Why: building ~25 lxml
elements per transaction costs ~12 us, the fragment ~1.5 us; at 1,000,000 debits that is the
difference between missing and meeting the 20 s target. It is safe because every value went
through `rules` (SEPA character set: no XML special character; `esc` still escapes
defensively) and every file is XSD-validated (`gateway.sepa.xsd`).

Batches (PmtInf) are per (sequence type, requested collection date), EPC130-08 AT-21/AT-11.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from functools import partial
from operator import attrgetter, itemgetter
from pathlib import Path

from lxml import etree

from gateway.errors import Issue
from gateway.sepa import rules
from gateway.sepa.batches import Batch, Body, Plan, Spec, one_pass, two_passes
from gateway.sepa.countries import bank_outside_eea
from gateway.sepa.ids import payment_info_id
from gateway.sepa.model import (
    BatchSummary,
    ByteSink,
    DebitSource,
    DirectDebit,
    Fund,
    MessageHeader,
    Pain008Version,
    WriteSummary,
    format_cents,
)
from gateway.sepa.xmltext import (
    address_xml,
    agent_element,
    agent_xml,
    checked_fund,
    esc,
    fund_address_needed,
    fund_party,
    group_header,
    iso_date,
    leaf,
    node,
    to_sink,
)

DebitKey = tuple[str, date]


def _check(debit: DirectDebit, field: str) -> list[Issue]:
    return rules.check_debit(debit, field)


DEBIT_SPEC: Spec[DirectDebit, DebitKey] = Spec(
    name="debits",
    normalize=rules.normalize_debit,
    is_clean=rules.debit_is_clean,
    check=_check,
    key=attrgetter("batch_key"),
    amount=attrgetter("amount_cents"),  # C, not a Python frame: read twice per transaction
    outside_eea=lambda d: bank_outside_eea(d.debtor_iban, d.debtor_bic),
    # (sequence, collection_date) as the tuple's own items: equal to batch_key (a StrEnum equals
    # its value), without the property's call
    same_key=itemgetter(4, 5),
)


def _amendment_xml(debit: DirectDebit) -> str:
    amendment = debit.amendment
    if amendment is None:
        return ""
    parts = ["<AmdmntInd>true</AmdmntInd><AmdmntInfDtls>"]
    if amendment.original_mandate_id is not None:
        parts.append(f"<OrgnlMndtId>{esc(amendment.original_mandate_id)}</OrgnlMndtId>")
    if amendment.original_debtor_iban is not None:
        # EPC130-08 AT-24: account changed within the same bank -> the original IBAN
        parts.append(f"<OrgnlDbtrAcct><Id><IBAN>{amendment.original_debtor_iban}</IBAN></Id></OrgnlDbtrAcct>")
    elif amendment.new_debtor_agent:
        # EPC130-08 IG (v9.0+) usage rule: "SMNDA" = same mandate, new debtor account elsewhere
        parts.append("<OrgnlDbtrAcct><Id><Othr><Id>SMNDA</Id></Othr></Id></OrgnlDbtrAcct>")
    parts.append("</AmdmntInfDtls>")
    return "".join(parts)


def debit_xml(debit: DirectDebit, *, v08: bool) -> str:
    """One DrctDbtTxInf in schema order (identical for .02 and .08 except the BIC tag)."""
    remittance = (
        "" if debit.remittance is None else f"<RmtInf><Ustrd>{esc(debit.remittance)}</Ustrd></RmtInf>"
    )
    return (
        f"<DrctDbtTxInf><PmtId><EndToEndId>{esc(debit.end_to_end_id)}</EndToEndId></PmtId>"
        f'<InstdAmt Ccy="{debit.currency}">{format_cents(debit.amount_cents)}</InstdAmt>'
        f"<DrctDbtTx><MndtRltdInf><MndtId>{esc(debit.mandate_id)}</MndtId>"
        f"<DtOfSgntr>{iso_date(debit.mandate_signed_on)}</DtOfSgntr>{_amendment_xml(debit)}"
        f"</MndtRltdInf></DrctDbtTx>"
        f"<DbtrAgt>{agent_xml(debit.debtor_bic, bicfi=v08)}</DbtrAgt>"
        f"<Dbtr><Nm>{esc(debit.debtor_name)}</Nm>{address_xml(debit.debtor_address)}</Dbtr>"
        f"<DbtrAcct><Id><IBAN>{debit.debtor_iban}</IBAN></Id></DbtrAcct>"
        f"{remittance}</DrctDbtTxInf>"
    )


def debit_renderer(*, v08: bool) -> Callable[[DirectDebit], str]:
    """`debit_xml` for a whole file: the same text (property-tested), built with one format
    string for the usual debit -- no address, no amendment, text without `&`, `<` or `>` (the
    rules make every text SEPA, which has none: escaping stays for what they did not see) --
    and `debit_xml` for the others. 1.0 us instead of 2.0 us a debit."""
    bic_tag = "BICFI" if v08 else "BIC"
    no_bic = agent_xml(None, bicfi=v08)

    def render(debit: DirectDebit) -> str:
        (e2e, cents, mandate, signed, _seq, _day, name, iban, bic, address, remittance, amendment, ccy) = (
            debit
        )
        text = f"{e2e}{mandate}{name}{remittance}"
        if (
            address is not None
            or amendment is not None
            or cents < 0
            or "&" in text
            or "<" in text
            or ">" in text
        ):
            return debit_xml(debit, v08=v08)
        agent = no_bic if bic is None else f"<FinInstnId><{bic_tag}>{bic}</{bic_tag}></FinInstnId>"
        info = "" if remittance is None else f"<RmtInf><Ustrd>{remittance}</Ustrd></RmtInf>"
        return (
            f"<DrctDbtTxInf><PmtId><EndToEndId>{e2e}</EndToEndId></PmtId>"
            f'<InstdAmt Ccy="{ccy}">{cents // 100}.{cents % 100:02d}</InstdAmt>'
            f"<DrctDbtTx><MndtRltdInf><MndtId>{mandate}</MndtId><DtOfSgntr>{signed.isoformat()}"
            f"</DtOfSgntr></MndtRltdInf></DrctDbtTx><DbtrAgt>{agent}</DbtrAgt><Dbtr><Nm>{name}</Nm>"
            f"</Dbtr><DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct>{info}</DrctDbtTxInf>"
        )

    return render


def _payment_info_header(
    pmt_inf_id: str,
    batch: Batch[DebitKey],
    fund: Fund,
    *,
    v08: bool,
    batch_booking: bool,
) -> list[etree._Element]:
    """PmtInf children before the transactions, in schema order."""
    sequence, day = batch.key
    fund_abroad = bank_outside_eea(fund.iban, fund.bic)
    bic_tag = "BICFI" if v08 else "BIC"
    return [
        leaf("PmtInfId", pmt_inf_id),
        leaf("PmtMtd", "DD"),
        leaf("BtchBookg", "true" if batch_booking else "false"),
        leaf("NbOfTxs", str(batch.count)),
        leaf("CtrlSum", format_cents(batch.total_cents)),
        node(
            "PmtTpInf",
            node("SvcLvl", leaf("Cd", "SEPA")),
            node("LclInstrm", leaf("Cd", "CORE")),  # SDD Core scheme
            leaf("SeqTp", sequence),
        ),
        leaf("ReqdColltnDt", iso_date(day)),
        # SDD Core rulebook 2025 AT-05: the creditor's address, where a debtor banks outside the EEA
        fund_party(fund, "Cdtr", with_address=batch.outside_eea or fund_abroad),
        node("CdtrAcct", node("Id", leaf("IBAN", fund.iban))),
        node("CdtrAgt", agent_element(fund.bic, bic_tag)),
        leaf("ChrgBr", "SLEV"),
        # EPC130-08 AT-02: creditor identifier, private id with scheme name "SEPA"
        node(
            "CdtrSchmeId",
            node(
                "Id",
                node(
                    "PrvtId",
                    node(
                        "Othr",
                        leaf("Id", fund.creditor_id),
                        node("SchmeNm", leaf("Prtry", "SEPA")),
                    ),
                ),
            ),
        ),
    ]


def write_pain008(
    out: ByteSink | Path,
    header: MessageHeader,
    fund: Fund,
    debits: DebitSource,
    *,
    version: Pain008Version = Pain008Version.V08,
    batch_booking: bool = True,
) -> WriteSummary:
    """Check every EPC rule, then stream the pain.008 file to `out`.

    `debits` is called once for the rules and control sums and again to write (see
    `gateway.sepa.batches`); nothing is written when a rule fails (RuleViolation)."""
    fund = checked_fund(fund, header, needs_creditor_id=True)
    render = debit_renderer(v08=version is Pain008Version.V08)
    planned, bodies = two_passes(debits, DEBIT_SPEC, render)
    fund_address_needed(fund, planned.batches, "debtor")
    return to_sink(out, version.value, partial(
        _write, header=header, fund=fund, planned=planned, bodies=bodies,
        version=version, batch_booking=batch_booking,
    ))  # fmt: skip


def write_pain008_planned(
    out: ByteSink | Path,
    header: MessageHeader,
    fund: Fund,
    planned: Plan[DebitKey],
    debits: Iterable[DirectDebit],
    *,
    version: Pain008Version = Pain008Version.V08,
    batch_booking: bool = True,
) -> WriteSummary:
    """Stream the pain.008 file in ONE pass over `debits`, its batches, counts and control sums
    known beforehand (`planned`, e.g. from the store's GROUP BY); `debits` come in the plan's
    order (grouped by sequence type and collection date). Each debit is checked against the EPC
    rules as it is rendered: on an error (RuleViolation) or a count that differs from the plan
    (`totals-mismatch`) the writing stops and the caller discards the partial file."""
    fund = checked_fund(fund, header, needs_creditor_id=True)
    fund_address_needed(fund, planned.batches, "debtor")
    render = debit_renderer(v08=version is Pain008Version.V08)
    bodies = one_pass(debits, DEBIT_SPEC, planned, render)
    return to_sink(out, version.value, partial(
        _write, header=header, fund=fund, planned=planned, bodies=bodies,
        version=version, batch_booking=batch_booking,
    ))  # fmt: skip


def _write(
    stream: ByteSink,
    *,
    header: MessageHeader,
    fund: Fund,
    planned: Plan[DebitKey],
    bodies: Iterator[tuple[Batch[DebitKey], Body]],
    version: Pain008Version,
    batch_booking: bool,
) -> WriteSummary:
    v08 = version is Pain008Version.V08
    summaries: list[BatchSummary] = []
    namespace = f"urn:iso:std:iso:20022:tech:xsd:{version.value}"
    with etree.xmlfile(stream, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element("Document", xmlns=namespace), xf.element("CstmrDrctDbtInitn"):
            xf.write(group_header(header, fund, planned.count, planned.total_cents))
            for batch, body in bodies:
                sequence, day = batch.key
                pmt_inf_id = payment_info_id(header.message_id, sequence, day)
                with xf.element("PmtInf"):
                    for child in _payment_info_header(
                        pmt_inf_id, batch, fund, v08=v08, batch_booking=batch_booking
                    ):
                        xf.write(child)
                    xf.flush()  # the fragments below go to the same stream, after lxml's
                    body(stream)
                summaries.append(BatchSummary(pmt_inf_id, sequence, day, batch.count, batch.total_cents))
    return WriteSummary(
        message_id=header.message_id,
        version=version.value,
        count=planned.count,
        total_cents=planned.total_cents,
        batches=tuple(summaries),
    )
