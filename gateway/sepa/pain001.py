"""Streaming pain.001 (SEPA Credit Transfer) writer for the payouts to creditor parents.

Same construction as `gateway.sepa.pain008` (lxml `xmlfile` envelope, rule-checked text
fragments per CdtTrfTxInf, two passes, constant memory). Batches (PmtInf) are per requested
execution date (EPC125-05 AT-07); every transaction carries purpose `ALMY` (EPC125-05 AT-44).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from functools import partial
from operator import attrgetter, itemgetter
from pathlib import Path

from lxml import etree

from gateway.errors import Issue
from gateway.sepa import rules
from gateway.sepa.batches import Batch, Body, Plan, Spec, two_passes
from gateway.sepa.countries import bank_outside_eea
from gateway.sepa.ids import payment_info_id
from gateway.sepa.model import (
    BatchSummary,
    ByteSink,
    CreditSource,
    CreditTransfer,
    Fund,
    MessageHeader,
    Pain001Version,
    WriteSummary,
    format_cents,
)
from gateway.sepa.xmltext import (
    address_xml,
    agent_element,
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


def _check(credit: CreditTransfer, field: str) -> list[Issue]:
    return rules.check_credit(credit, field)


CREDIT_SPEC: Spec[CreditTransfer, date] = Spec(
    name="credits",
    normalize=rules.normalize_credit,
    is_clean=rules.credit_is_clean,
    check=_check,
    key=attrgetter("batch_key"),
    amount=attrgetter("amount_cents"),  # C, not a Python frame: read twice per transaction
    outside_eea=lambda c: bank_outside_eea(c.creditor_iban, c.creditor_bic),
    same_key=itemgetter(2),  # execution_date, the tuple's own item: batch_key without the call
)


def credit_xml(credit: CreditTransfer, *, v09: bool) -> str:
    """One CdtTrfTxInf in schema order; the creditor's bank is omitted when its BIC is not
    given (CdtrAgt is optional in both versions, EPC125-05 AT-23)."""
    if credit.creditor_bic is None:
        agent = ""
    else:
        tag = "BICFI" if v09 else "BIC"
        agent = f"<CdtrAgt><FinInstnId><{tag}>{credit.creditor_bic}</{tag}></FinInstnId></CdtrAgt>"
    remittance = (
        "" if credit.remittance is None else f"<RmtInf><Ustrd>{esc(credit.remittance)}</Ustrd></RmtInf>"
    )
    return (
        f"<CdtTrfTxInf><PmtId><EndToEndId>{esc(credit.end_to_end_id)}</EndToEndId></PmtId>"
        f'<Amt><InstdAmt Ccy="{credit.currency}">{format_cents(credit.amount_cents)}'
        f"</InstdAmt></Amt>{agent}"
        f"<Cdtr><Nm>{esc(credit.creditor_name)}</Nm>{address_xml(credit.creditor_address)}"
        f"</Cdtr><CdtrAcct><Id><IBAN>{credit.creditor_iban}</IBAN></Id></CdtrAcct>"
        f"<Purp><Cd>{credit.purpose}</Cd></Purp>{remittance}</CdtTrfTxInf>"
    )


def _payment_info_header(
    pmt_inf_id: str, batch: Batch[date], fund: Fund, *, v09: bool, batch_booking: bool
) -> list[etree._Element]:
    """PmtInf children before the transactions, in schema order."""
    day = iso_date(batch.key)
    # .09: ReqdExctnDt is a DateAndDateTime2Choice (<Dt>); .03: a plain ISODate
    execution = node("ReqdExctnDt", leaf("Dt", day)) if v09 else leaf("ReqdExctnDt", day)
    return [
        leaf("PmtInfId", pmt_inf_id),
        leaf("PmtMtd", "TRF"),
        leaf("BtchBookg", "true" if batch_booking else "false"),
        leaf("NbOfTxs", str(batch.count)),
        leaf("CtrlSum", format_cents(batch.total_cents)),
        node("PmtTpInf", node("SvcLvl", leaf("Cd", "SEPA"))),
        execution,
        # SCT rulebook 2025 AT-03: the originator's address, where a creditor banks outside the EEA
        fund_party(fund, "Dbtr", with_address=batch.outside_eea or bank_outside_eea(fund.iban, fund.bic)),
        node("DbtrAcct", node("Id", leaf("IBAN", fund.iban))),
        node("DbtrAgt", agent_element(fund.bic, "BICFI" if v09 else "BIC")),
        leaf("ChrgBr", "SLEV"),
    ]


def write_pain001(
    out: ByteSink | Path,
    header: MessageHeader,
    fund: Fund,
    credits: CreditSource,
    *,
    version: Pain001Version = Pain001Version.V09,
    batch_booking: bool = True,
) -> WriteSummary:
    """Check every EPC rule, then stream the pain.001 file to `out` (the fund pays).

    `credits` is called once for the rules and control sums and again to write; nothing is
    written when a rule fails (RuleViolation)."""
    fund = checked_fund(fund, header, needs_creditor_id=False)
    v09 = version is Pain001Version.V09
    planned, bodies = two_passes(credits, CREDIT_SPEC, partial(credit_xml, v09=v09))
    fund_address_needed(fund, planned.batches, "creditor")
    write = partial(
        _write,
        header=header,
        fund=fund,
        planned=planned,
        bodies=bodies,
        version=version,
        batch_booking=batch_booking,
    )
    return to_sink(out, version.value, write)


def _write(
    stream: ByteSink,
    *,
    header: MessageHeader,
    fund: Fund,
    planned: Plan[date],
    bodies: Iterator[tuple[Batch[date], Body]],
    version: Pain001Version,
    batch_booking: bool,
) -> WriteSummary:
    v09 = version is Pain001Version.V09
    summaries: list[BatchSummary] = []
    namespace = f"urn:iso:std:iso:20022:tech:xsd:{version.value}"
    with etree.xmlfile(stream, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element("Document", xmlns=namespace), xf.element("CstmrCdtTrfInitn"):
            xf.write(group_header(header, fund, planned.count, planned.total_cents))
            for batch, body in bodies:
                pmt_inf_id = payment_info_id(header.message_id, None, batch.key)
                with xf.element("PmtInf"):
                    for child in _payment_info_header(
                        pmt_inf_id, batch, fund, v09=v09, batch_booking=batch_booking
                    ):
                        xf.write(child)
                    xf.flush()  # the fragments below go to the same stream, after lxml's
                    body(stream)
                summaries.append(BatchSummary(pmt_inf_id, None, batch.key, batch.count, batch.total_cents))
    return WriteSummary(
        message_id=header.message_id,
        version=version.value,
        count=planned.count,
        total_cents=planned.total_cents,
        batches=tuple(summaries),
    )
