"""The fund's own postal address: written in a batch whose other party banks outside the EEA.

# SDD Core rulebook 2025 AT-05 (address of the creditor) and SCT rulebook 2025 AT-03 (address of
# the originator), after Regulation (EU) 2023/1113 art. 4: when a PSP of the payment is in a
# non-EEA SEPA country (EPC409-09: CH, GB, MC, SM, VA, AD, JE, GG, IM ...), the fund's address
# goes in pain.008 PmtInf/Cdtr/PstlAdr and pain.001 PmtInf/Dbtr/PstlAdr. Refused with
# `sepa-fund-address-required` when it is needed and not configured (GATEWAY_CREDITOR_ADDRESS_*).
"""

from __future__ import annotations

import dataclasses
import io
import os
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from gateway.bootstrap import fund, fund_address
from gateway.config import Settings
from gateway.errors import Code, ConfigurationError, RuleViolation
from gateway.sepa.batches import Batch, Plan
from gateway.sepa.model import Fund, Pain001Version, Pain008Version, PostalAddress, SequenceType
from gateway.sepa.pain001 import write_pain001
from gateway.sepa.pain008 import write_pain008, write_pain008_planned
from tests.unit.sepa.samples import (
    CREDIT_HEADER,
    DEBIT_HEADER,
    FUND,
    FUND_ADDRESS,
    GOLDEN,
    credit,
    debit,
    source,
)
from tests.unit.sepa.test_addresses import MONACO, ZURICH, epc_address_problems, xmllint_stream

UPDATE = os.environ.get("GATEWAY_UPDATE_GOLDEN") == "1"
NO_ADDRESS = dataclasses.replace(FUND, address=None)
FUND_PSTLADR = (
    "<PstlAdr><StrtNm>Rue de la Demo</StrtNm><BldgNb>1</BldgNb><PstCd>75015</PstCd>"
    "<TwnNm>Paris</TwnNm><Ctry>FR</Ctry></PstlAdr>"
)


def swiss_and_french_debits() -> list:  # type: ignore[type-arg]
    """A Swiss debtor (FRST, 2 Nov.) and a French one (RCUR, 10 Nov.): two batches."""
    return [
        debit(
            "D-0201",
            sequence=SequenceType.FRST,
            debtor_name="Lukas Muller",
            debtor_iban="CH9300762011623852957",
            debtor_bic="UBSWCHZH80A",
            debtor_address=ZURICH,
        ),
        debit("D-0202", collection_date=date(2026, 11, 10)),
    ]


def monaco_and_french_credits() -> list:  # type: ignore[type-arg]
    """A creditor banking in Monaco (3 Nov.) and a French one (4 Nov.): two batches."""
    return [
        credit(
            "D-0201",
            creditor_name="Chiara Rossi",
            creditor_iban="MC5811222000010123456789030",
            creditor_bic="SGBTMCMCXXX",
            creditor_address=MONACO,
        ),
        credit("D-0202", execution_date=date(2026, 11, 4)),
    ]


def _golden(name: str, produced: bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(produced)
    assert produced == path.read_bytes(), f"{name} differs from the golden file"


def _fund_addresses(path: Path, fund_tag: str) -> list[bool]:
    """For each PmtInf in file order: does the fund's party carry a PstlAdr?"""
    root = etree.parse(str(path)).getroot()
    ns = {"p": root.nsmap[None] or ""}
    return [info.find(f"p:{fund_tag}/p:PstlAdr", ns) is not None for info in root.iterfind(".//p:PmtInf", ns)]


@pytest.mark.parametrize("version", list(Pain008Version))
def test_a_swiss_debtor_brings_the_funds_address_into_its_batch_only(
    version: Pain008Version, tmp_path: Path
) -> None:
    """# SDD Core rulebook 2025 AT-05: Cdtr/PstlAdr where the debtor's bank is non-EEA."""
    out = tmp_path / "out.xml"
    summary = write_pain008(out, DEBIT_HEADER, FUND, source(swiss_and_french_debits()), version=version)
    _golden(f"{version.value}-fund-address.xml", out.read_bytes())
    assert xmllint_stream(out, version.value).returncode == 0
    assert epc_address_problems(out, "Dbtr") == []
    assert _fund_addresses(out, "Cdtr") == [True, False]  # the Swiss batch, then the French one
    assert f"<Cdtr><Nm>CAF DEMO ARIPA</Nm>{FUND_PSTLADR}</Cdtr>" in out.read_text()
    assert [b.sequence for b in summary.batches] == ["FRST", "RCUR"]


@pytest.mark.parametrize("version", list(Pain001Version))
def test_a_monaco_creditor_brings_the_funds_address_into_its_batch_only(
    version: Pain001Version, tmp_path: Path
) -> None:
    """# SCT rulebook 2025 AT-03: Dbtr/PstlAdr (the fund pays) where the creditor's bank is non-EEA."""
    out = tmp_path / "out.xml"
    write_pain001(out, CREDIT_HEADER, FUND, source(monaco_and_french_credits()), version=version)
    _golden(f"{version.value}-fund-address.xml", out.read_bytes())
    assert xmllint_stream(out, version.value).returncode == 0
    assert epc_address_problems(out, "Cdtr") == []
    assert _fund_addresses(out, "Dbtr") == [True, False]
    assert f"<Dbtr><Nm>CAF DEMO ARIPA</Nm>{FUND_PSTLADR}</Dbtr>" in out.read_text()


def test_eea_only_files_carry_no_fund_address(tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    write_pain008(out, DEBIT_HEADER, FUND, source([debit()]))
    assert "<PstlAdr>" not in out.read_text()


class _Sink(io.BytesIO):
    pass


def test_without_the_funds_address_a_swiss_debtor_stops_the_file_before_a_byte() -> None:
    out = _Sink()
    with pytest.raises(RuleViolation) as caught:
        write_pain008(out, DEBIT_HEADER, NO_ADDRESS, source(swiss_and_french_debits()))
    assert [(i.code, i.field) for i in caught.value.issues] == [
        (Code.SEPA_FUND_ADDRESS_REQUIRED, "fund.address")
    ]
    assert "GATEWAY_CREDITOR_ADDRESS_TOWN" in caught.value.message
    assert "Muller" not in caught.value.message  # no personal data in the message
    assert out.getvalue() == b""


def test_without_the_funds_address_a_monaco_creditor_stops_the_payout_file() -> None:
    out = _Sink()
    with pytest.raises(RuleViolation) as caught:
        write_pain001(out, CREDIT_HEADER, NO_ADDRESS, source(monaco_and_french_credits()))
    assert caught.value.code == Code.SEPA_FUND_ADDRESS_REQUIRED
    assert "creditor's bank is outside the EEA" in caught.value.message
    assert out.getvalue() == b""


def test_without_the_funds_address_eea_files_are_written() -> None:
    out = _Sink()
    write_pain008(out, DEBIT_HEADER, NO_ADDRESS, source([debit()]))
    write_pain001(_Sink(), CREDIT_HEADER, NO_ADDRESS, source([credit()]))
    assert out.getvalue().startswith(b"<?xml")


def test_a_fund_banking_outside_the_eea_always_gives_its_address() -> None:
    """The fund's own PSP in a non-EEA SEPA country: every batch needs the fund's address."""
    monaco_fund = Fund("CAF DEMO ARIPA", "MC5811222000010123456789030", "SGBTMCMCXXX", "FR72ZZZ123456")
    with pytest.raises(RuleViolation) as caught:
        write_pain008(_Sink(), DEBIT_HEADER, monaco_fund, source([debit()]))
    assert caught.value.code == Code.SEPA_FUND_ADDRESS_REQUIRED
    out = _Sink()
    write_pain008(
        out, DEBIT_HEADER, dataclasses.replace(monaco_fund, address=FUND_ADDRESS), source([debit()])
    )
    assert FUND_PSTLADR.encode() in out.getvalue()


def test_a_malformed_fund_address_is_refused_with_its_code() -> None:
    """# EPC rulebooks 2025: the fund's address is structured or hybrid, like any other."""
    bad = dataclasses.replace(FUND, address=PostalAddress("FR", "", lines=("1 rue X", "Paris")))
    with pytest.raises(RuleViolation) as caught:
        write_pain008(_Sink(), DEBIT_HEADER, bad, source([debit()]))
    assert [(i.code, i.field) for i in caught.value.issues] == [
        (Code.SEPA_ADDRESS_UNSTRUCTURED, "fund.address.town")
    ]


def _plan(debits: list, outside: bool) -> Plan:  # type: ignore[type-arg]
    batches = tuple(
        Batch(d.batch_key, 1, d.amount_cents, outside and d.debtor_iban.startswith("CH")) for d in debits
    )
    return Plan(batches, len(debits), sum(d.amount_cents for d in debits), grouped=True)


def test_the_planned_path_writes_the_funds_address_where_the_plan_says(tmp_path: Path) -> None:
    """The store's GROUP BY flags the batches (gateway.store.payments.message_batches): same file
    as the two-pass writer's."""
    debits = swiss_and_french_debits()
    one = tmp_path / "one.xml"
    write_pain008_planned(one, DEBIT_HEADER, FUND, _plan(debits, outside=True), iter(debits))
    assert one.read_bytes() == (GOLDEN / "pain.008.001.08-fund-address.xml").read_bytes()
    with pytest.raises(RuleViolation) as caught:
        write_pain008_planned(_Sink(), DEBIT_HEADER, NO_ADDRESS, _plan(debits, outside=True), iter(debits))
    assert caught.value.code == Code.SEPA_FUND_ADDRESS_REQUIRED


def test_the_planned_path_refuses_a_non_eea_debit_in_a_batch_planned_without() -> None:
    """A plan that missed the flag would leave the fund's address out: the writing stops."""
    debits = swiss_and_french_debits()
    with pytest.raises(RuleViolation) as caught:
        write_pain008_planned(_Sink(), DEBIT_HEADER, FUND, _plan(debits, outside=False), iter(debits))
    assert [(i.code, i.field) for i in caught.value.issues] == [(Code.TOTALS_MISMATCH, "debits[0]")]


# --- settings: GATEWAY_CREDITOR_ADDRESS_* ---------------------------------------------------------


def test_the_dev_default_is_a_demo_address_so_zero_setup_works() -> None:
    assert fund_address(Settings()) == FUND_ADDRESS
    assert fund(Settings()).address == FUND_ADDRESS


def test_an_address_is_configured_structured_or_hybrid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_CREDITOR_ADDRESS_STREET", "")
    monkeypatch.setenv("GATEWAY_CREDITOR_ADDRESS_BUILDING_NUMBER", "")
    monkeypatch.setenv("GATEWAY_CREDITOR_ADDRESS_POSTCODE", "13002")
    monkeypatch.setenv("GATEWAY_CREDITOR_ADDRESS_TOWN", "Marseille")
    monkeypatch.setenv(
        "GATEWAY_CREDITOR_ADDRESS_LINES", '["Caisse d\'allocations familiales", "10 quai d\'Arenc"]'
    )
    assert fund_address(Settings()) == PostalAddress(
        "FR", "Marseille", "13002", lines=("Caisse d'allocations familiales", "10 quai d'Arenc")
    )


def test_an_empty_town_means_no_address(monkeypatch: pytest.MonkeyPatch) -> None:
    for part in ("STREET", "BUILDING_NUMBER", "POSTCODE", "TOWN"):
        monkeypatch.setenv(f"GATEWAY_CREDITOR_ADDRESS_{part}", "")
    assert fund(Settings()).address is None


@pytest.mark.parametrize(
    ("env", "code", "field"),
    [
        ({"TOWN": ""}, Code.SEPA_ADDRESS_UNSTRUCTURED, "creditor_address_town"),
        ({"COUNTRY": "France"}, Code.SEPA_ADDRESS_UNSTRUCTURED, "creditor_address_country"),
        ({"LINES": '["a", "b", "c"]'}, Code.SEPA_ADDRESS_TOO_MANY_LINES, "creditor_address_lines"),
        ({"STREET": "x" * 71}, Code.SEPA_ADDRESS_UNSTRUCTURED, "creditor_address_street"),
    ],
)
def test_a_malformed_configured_address_is_refused_at_start_up(
    env: dict[str, str], code: str, field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for part, value in env.items():
        monkeypatch.setenv(f"GATEWAY_CREDITOR_ADDRESS_{part}", value)
    with pytest.raises(ConfigurationError) as caught:
        fund(Settings())
    assert (caught.value.code, caught.value.field) == (code, field)
    assert "GATEWAY_CREDITOR_ADDRESS_" in caught.value.message  # says which setting to fix
