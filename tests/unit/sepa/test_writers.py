"""pain.008 / pain.001 writers: golden files, the real xmllint, batches, sums, two passes."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import Code, RuleViolation
from gateway.sepa.model import (
    DirectDebit,
    Pain001Version,
    Pain008Version,
    SequenceType,
    format_cents,
)
from gateway.sepa.pain001 import write_pain001
from gateway.sepa.pain008 import write_pain008
from tests.unit.sepa.samples import (
    CREDIT_HEADER,
    DEBIT_HEADER,
    FUND,
    GOLDEN,
    debit,
    elements,
    golden_credits,
    golden_debits,
    source,
    texts,
    xmllint,
)

UPDATE = os.environ.get("GATEWAY_UPDATE_GOLDEN") == "1"  # regenerate after a deliberate change


def _golden(name: str, produced: bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(produced)
    assert produced == path.read_bytes(), f"{name} differs from the golden file"


@pytest.mark.parametrize("version", list(Pain008Version))
def test_pain008_golden_and_xmllint(version: Pain008Version, tmp_path: Path) -> None:
    out = tmp_path / f"{version.value}.xml"
    summary = write_pain008(out, DEBIT_HEADER, FUND, source(golden_debits()), version=version)
    _golden(f"{version.value}.xml", out.read_bytes())
    result = xmllint(out, version.value)
    assert result.returncode == 0, result.stderr
    assert summary.count == 6
    assert summary.total_cents == sum(d.amount_cents for d in golden_debits())
    assert [(b.sequence, b.day, b.count) for b in summary.batches] == [
        ("FRST", date(2026, 11, 2), 2),
        ("RCUR", date(2026, 11, 2), 2),
        ("RCUR", date(2026, 11, 10), 2),
    ]


@pytest.mark.parametrize("version", list(Pain001Version))
def test_pain001_golden_and_xmllint(version: Pain001Version, tmp_path: Path) -> None:
    out = tmp_path / f"{version.value}.xml"
    summary = write_pain001(out, CREDIT_HEADER, FUND, source(golden_credits()), version=version)
    _golden(f"{version.value}.xml", out.read_bytes())
    result = xmllint(out, version.value)
    assert result.returncode == 0, result.stderr
    assert [(b.day, b.count) for b in summary.batches] == [
        (date(2026, 11, 3), 2),
        (date(2026, 11, 4), 1),
    ]


def test_pain008_content_follows_the_epc_rules(tmp_path: Path) -> None:
    out = tmp_path / "dd.xml"
    write_pain008(out, DEBIT_HEADER, FUND, source(golden_debits()))
    tree = etree.parse(str(out))
    names = texts(tree, "//p:Dbtr/p:Nm/text()")
    assert names[0] == "Zoe Lefevre-OEdipe"  # EPC217-08 transliteration
    assert names[2] == "Jurgen Strasse + Sohne"
    # BIC optional: NOTPROVIDED
    assert texts(tree, "//p:DrctDbtTxInf[2]/p:DbtrAgt//p:Othr/p:Id/text()") == ["NOTPROVIDED"]
    # amendments: same bank -> original IBAN; new bank -> SMNDA + original mandate id
    details = elements(tree, "//p:AmdmntInfDtls")
    assert len(details) == 2
    assert texts(details[0], "p:OrgnlDbtrAcct/p:Id/p:IBAN/text()") == ["FR1420041010050500013M02606"]
    assert texts(details[1], "p:OrgnlDbtrAcct/p:Id/p:Othr/p:Id/text()") == ["SMNDA"]
    assert len(texts(details[1], "p:OrgnlMndtId/text()")) == 1
    assert texts(tree, "//p:AmdmntInd/text()") == ["true", "true"]
    # the creditor identifier (AT-02) with scheme SEPA, the fund's IBAN compacted
    assert set(texts(tree, "//p:CdtrSchmeId//p:Id/text()")) == {"FR72ZZZ123456"}
    assert set(texts(tree, "//p:CdtrAcct/p:Id/p:IBAN/text()")) == {"FR7630006000011234567890189"}
    assert texts(tree, "//p:InstdAmt/text()")[3] == "999999999.99"


def test_pain001_carries_purpose_almy(tmp_path: Path) -> None:
    out = tmp_path / "ct.xml"
    write_pain001(out, CREDIT_HEADER, FUND, source(golden_credits()))
    tree = etree.parse(str(out))
    assert texts(tree, "//p:CdtTrfTxInf/p:Purp/p:Cd/text()") == ["ALMY"] * 3
    # no creditor BIC: the optional CdtrAgt is left out
    assert len(elements(tree, "//p:CdtTrfTxInf/p:CdtrAgt")) == 2


def _cents(values: list[str]) -> list[int]:
    return [int(v.replace(".", "")) for v in values]


def _sum_check(xml: bytes) -> None:
    """NbOfTxs/CtrlSum of the message and of each PmtInf equal what the file contains."""
    tree = etree.parse(io.BytesIO(xml))
    cents = _cents(texts(tree, "//p:InstdAmt/text()"))
    assert texts(tree, "//p:GrpHdr/p:CtrlSum/text()") == [format_cents(sum(cents))]
    assert texts(tree, "//p:GrpHdr/p:NbOfTxs/text()") == [str(len(cents))]
    for pmt in elements(tree, "//p:PmtInf"):
        batch = _cents(texts(pmt, ".//p:InstdAmt/text()"))
        assert texts(pmt, "p:CtrlSum/text()") == [format_cents(sum(batch))]
        assert texts(pmt, "p:NbOfTxs/text()") == [str(len(batch))]


def test_control_sums_are_the_sums_of_the_amounts() -> None:
    out = io.BytesIO()
    write_pain008(out, DEBIT_HEADER, FUND, source(golden_debits()))
    _sum_check(out.getvalue())
    out = io.BytesIO()
    write_pain001(out, CREDIT_HEADER, FUND, source(golden_credits()))
    _sum_check(out.getvalue())


def test_ungrouped_input_is_written_batch_by_batch() -> None:
    """Input not sorted by batch: one pass per batch, same PmtInf content as sorted input."""
    a1 = debit("A1", sequence=SequenceType.FRST)
    b1 = debit("B1", collection_date=date(2026, 11, 10))
    a2 = debit("A2", sequence=SequenceType.FRST)
    b2 = debit("B2", collection_date=date(2026, 11, 10))
    reads = 0

    def counting(items: list[DirectDebit]) -> Iterator[DirectDebit]:
        nonlocal reads
        reads += 1
        yield from items

    mixed = io.BytesIO()
    write_pain008(mixed, DEBIT_HEADER, FUND, lambda: counting([a1, b1, a2, b2]))
    assert reads == 3  # one planning pass, then one per batch
    sorted_out = io.BytesIO()
    write_pain008(sorted_out, DEBIT_HEADER, FUND, source([a1, a2, b1, b2]))
    assert mixed.getvalue() == sorted_out.getvalue()


def test_grouped_input_is_read_twice_only() -> None:
    reads = 0
    items = golden_debits()

    def factory() -> Iterator[DirectDebit]:
        nonlocal reads
        reads += 1
        return iter(items)

    write_pain008(io.BytesIO(), DEBIT_HEADER, FUND, factory)
    assert reads == 2


def test_a_source_that_changes_between_passes_is_refused() -> None:
    calls = 0

    def factory() -> Iterator[DirectDebit]:
        nonlocal calls
        calls += 1
        amount = 100 if calls == 1 else 200
        return iter([debit("D-1", amount_cents=amount)])

    with pytest.raises(RuleViolation) as caught:
        write_pain008(io.BytesIO(), DEBIT_HEADER, FUND, factory)
    assert caught.value.code == Code.TOTALS_MISMATCH


def test_nothing_is_written_when_a_rule_fails() -> None:
    out = io.BytesIO()
    bad = [debit("D-1"), debit("D-2", currency="USD")]
    with pytest.raises(RuleViolation) as caught:
        write_pain008(out, DEBIT_HEADER, FUND, source(bad))
    assert caught.value.code == Code.SEPA_CURRENCY
    assert caught.value.field == "debits[1].currency"
    assert out.getvalue() == b""


def test_an_empty_run_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        write_pain008(io.BytesIO(), DEBIT_HEADER, FUND, source([]))
    assert caught.value.code == Code.MISSING_FIELD


def test_the_fund_is_checked_too() -> None:
    from dataclasses import replace

    with pytest.raises(RuleViolation) as caught:
        write_pain008(
            io.BytesIO(),
            DEBIT_HEADER,
            replace(FUND, creditor_id="FR00ZZZ123456"),
            source([debit()]),
        )
    assert caught.value.code == Code.SEPA_INVALID_CREDITOR_ID
    assert caught.value.field == "fund.creditor_id"


def test_naive_creation_time_is_refused() -> None:
    from dataclasses import replace
    from datetime import datetime

    header = replace(DEBIT_HEADER, created_at=datetime(2026, 10, 27, 9, 30))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone"):
        write_pain008(io.BytesIO(), header, FUND, source([debit()]))
