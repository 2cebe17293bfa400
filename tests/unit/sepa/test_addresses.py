"""EPC 2025 address rules: structured or hybrid addresses, never unstructured-only; a payer or
payee whose bank is in a non-EEA SEPA country (EPC409-09) carries an address and a BIC.

Sources: SDD Core rulebook 2025 (EPC016-06, AT-09 debtor address, AT-13 debtor BIC) and SCT
rulebook 2025 (EPC125-05, AT-22 beneficiary address, AT-23 beneficiary BIC), in force from
5 October 2025; unstructured-only addresses refused from 15 November 2026.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import Code, RuleViolation
from gateway.sepa import addresses, countries, rules
from gateway.sepa.model import (
    CreditTransfer,
    DirectDebit,
    Pain001Version,
    Pain008Version,
    PostalAddress,
    SequenceType,
)
from gateway.sepa.pain001 import write_pain001
from gateway.sepa.pain008 import write_pain008
from tests.unit.sepa.samples import (
    CREDIT_HEADER,
    DEBIT_HEADER,
    FUND,
    GOLDEN,
    SCHEMAS,
    credit,
    debit,
    source,
)

UPDATE = os.environ.get("GATEWAY_UPDATE_GOLDEN") == "1"

ZURICH = PostalAddress("CH", "Zürich", "8001", "Bahnhofstrasse", "45")  # structured
MONACO = PostalAddress("MC", "Monaco", "98000", lines=("Le Millefiori", "1 rue des Genêts"))  # hybrid
LYON = PostalAddress("FR", "Lyon", "69002", lines=("12 rue de la République", "Bâtiment B, 3e étage"))
UNSTRUCTURED = PostalAddress("CH", "", lines=("Bahnhofstrasse 45", "8001 Zürich"))

# A valid IBAN and BIC of a bank in each non-EEA SEPA country named by the rulebooks (EPC409-09)
NON_EEA_ACCOUNTS = {
    "CH": ("CH9300762011623852957", "UBSWCHZH80A"),
    "GB": ("GB29NWBK60161331926819", "NWBKGB2L"),
    "JE": ("GB29NWBK60161331926819", "HSBCJESH"),  # Crown dependencies bank with GB IBANs
    "MC": ("MC5811222000010123456789030", "SGBTMCMCXXX"),
    "SM": ("SM86U0322509800000000270100", "BSSMSMSMXXX"),
    "VA": ("VA59001123000012345678", "IOPRVAVXXXX"),
    "AD": ("AD1200012030200359100100", "BACAADADXXX"),
}


def address_debits() -> list[DirectDebit]:
    """A Swiss debtor (structured address), a Monaco debtor (hybrid address), both with BIC;
    a French debtor with a hybrid address and no BIC (EEA: neither is required)."""
    return [
        debit(
            "D-0101",
            sequence=SequenceType.FRST,
            debtor_name="Lukas Müller",
            debtor_iban="CH9300762011623852957",
            debtor_bic="UBSWCHZH80A",
            debtor_address=ZURICH,
        ),
        debit(
            "D-0102",
            debtor_name="Chiara Rossi",
            debtor_iban="MC5811222000010123456789030",
            debtor_bic="SGBTMCMCXXX",
            debtor_address=MONACO,
        ),
        debit("D-0103", debtor_bic=None, debtor_address=LYON),
    ]


def address_credits() -> list[CreditTransfer]:
    """A creditor banking in the United Kingdom (hybrid address, BIC), a Swiss one and a Monaco one."""
    return [
        credit(
            "D-0101",
            creditor_name="Emma Smith",
            creditor_iban="GB29NWBK60161331926819",
            creditor_bic="NWBKGB2L",
            creditor_address=PostalAddress("GB", "London", "SW1A 1AA", lines=("10 Downing Street",)),
        ),
        credit(
            "D-0102",
            creditor_iban="CH9300762011623852957",
            creditor_bic="UBSWCHZH80A",
            creditor_address=ZURICH,
        ),
        credit(
            "D-0103",
            creditor_name="Chiara Rossi",
            creditor_iban="MC5811222000010123456789030",
            creditor_bic="SGBTMCMCXXX",
            creditor_address=MONACO,
        ),
    ]


def _golden(name: str, produced: bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(produced)
    assert produced == path.read_bytes(), f"{name} differs from the golden file"


def _golden_streamed_and_epc_checked(out: Path, version: str, party: str) -> None:
    """The file equals its golden copy, passes `xmllint --stream` and the read-back EPC checks."""
    _golden(f"{version}-addresses.xml", out.read_bytes())
    result = xmllint_stream(out, version)
    assert result.returncode == 0, result.stderr
    assert epc_address_problems(out, party) == []


def xmllint_stream(path: Path, version: str) -> subprocess.CompletedProcess[str]:
    """`xmllint --stream --schema`: the official XSD, validated while reading (constant memory)."""
    return subprocess.run(
        ["xmllint", "--noout", "--stream", "--schema", str(SCHEMAS / f"{version}.xsd"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def epc_address_problems(path: Path, party: str) -> list[str]:
    """The EPC 2025 address checks read back from a written file: every PstlAdr of `party`
    (Dbtr or Cdtr) has TwnNm and Ctry and at most two AdrLine; a party whose account's IBAN
    or BIC is in a non-EEA SEPA country has a PstlAdr and its bank a BIC."""
    tree = etree.parse(str(path))
    ns = {"p": tree.getroot().nsmap[None] or ""}
    tx_tag = "DrctDbtTxInf" if party == "Dbtr" else "CdtTrfTxInf"
    agent_tag = f"{party}Agt"
    problems = []
    for tx in tree.iterfind(f".//p:{tx_tag}", ns):
        e2e = tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns)
        address = tx.find(f"p:{party}/p:PstlAdr", ns)
        iban = tx.findtext(f"p:{party}Acct/p:Id/p:IBAN", namespaces=ns) or ""
        bic = tx.findtext(f"p:{agent_tag}/p:FinInstnId/p:BICFI", namespaces=ns) or tx.findtext(
            f"p:{agent_tag}/p:FinInstnId/p:BIC", namespaces=ns
        )
        if address is not None:
            town = address.findtext("p:TwnNm", namespaces=ns)
            if not town or not address.findtext("p:Ctry", namespaces=ns):
                problems.append(f"{e2e}: address without town or country")
            if len(address.findall("p:AdrLine", ns)) > 2:
                problems.append(f"{e2e}: more than two address lines")
        if countries.bank_outside_eea(iban, bic):
            if address is None:
                problems.append(f"{e2e}: non-EEA bank, no address")
            if bic is None:
                problems.append(f"{e2e}: non-EEA bank, no BIC")
            # SDD Core rulebook 2025 AT-05 / SCT rulebook 2025 AT-03: the fund's own address
            fund_party = "Cdtr" if party == "Dbtr" else "Dbtr"
            batch = tx.getparent()
            assert batch is not None
            fund_address = batch.find(f"p:{fund_party}/p:PstlAdr", ns)
            if fund_address is None or not fund_address.findtext("p:TwnNm", namespaces=ns):
                problems.append(f"{e2e}: non-EEA bank, no fund address in its batch")
    return problems


@pytest.mark.parametrize("version", list(Pain008Version))
def test_swiss_and_monaco_debtors_and_a_hybrid_address_golden(
    version: Pain008Version, tmp_path: Path
) -> None:
    """# SDD Core rulebook 2025 AT-09/AT-13: Swiss and Monaco debtors carry address and BIC."""
    out = tmp_path / "out.xml"
    write_pain008(out, DEBIT_HEADER, FUND, source(address_debits()), version=version)
    _golden_streamed_and_epc_checked(out, version.value, "Dbtr")
    text = out.read_text()
    assert "<Ctry>CH</Ctry>" in text
    assert "<Ctry>MC</Ctry>" in text
    bic_tag = "BICFI" if version is Pain008Version.V08 else "BIC"
    assert f"<{bic_tag}>UBSWCHZH80A</{bic_tag}>" in text
    assert f"<{bic_tag}>SGBTMCMCXXX</{bic_tag}>" in text
    # the hybrid address: town and country structured, then two free lines (transliterated)
    assert (
        "<PstCd>69002</PstCd><TwnNm>Lyon</TwnNm><Ctry>FR</Ctry>"
        "<AdrLine>12 rue de la Republique</AdrLine><AdrLine>Batiment B, 3e etage</AdrLine>"
    ) in text


@pytest.mark.parametrize("version", list(Pain001Version))
def test_non_eea_creditors_golden(version: Pain001Version, tmp_path: Path) -> None:
    """# SCT rulebook 2025 AT-22/AT-23: UK, Swiss and Monaco beneficiaries carry address and BIC."""
    out = tmp_path / "out.xml"
    write_pain001(out, CREDIT_HEADER, FUND, source(address_credits()), version=version)
    _golden_streamed_and_epc_checked(out, version.value, "Cdtr")
    assert "<TwnNm>London</TwnNm><Ctry>GB</Ctry><AdrLine>10 Downing Street</AdrLine>" in out.read_text()


def test_the_golden_files_pass_the_read_back_checks_and_the_checks_catch_a_missing_address(
    tmp_path: Path,
) -> None:
    """The read-back EPC check is real: a Swiss debit with its address removed is caught."""
    golden = (GOLDEN / "pain.008.001.08-addresses.xml").read_bytes()
    broken = tmp_path / "broken.xml"
    start = golden.index(b"<PstlAdr>", golden.index(b"<Dbtr>"))  # the Swiss debtor's
    broken.write_bytes(golden[:start] + golden[golden.index(b"</PstlAdr>", start) + 10 :])
    assert xmllint_stream(broken, "pain.008.001.08").returncode == 0  # the XSD does not see it
    assert epc_address_problems(broken, "Dbtr") == [
        f"{address_debits()[0].end_to_end_id}: non-EEA bank, no address"
    ]
    # and the fund's own address removed from that batch's header is caught as well
    fund_cut = tmp_path / "fund-cut.xml"
    start = golden.index(b"<PstlAdr>")  # the first one is the fund's, in Cdtr
    assert golden.rindex(b"<Cdtr>", 0, start) > golden.rindex(b"<PmtInf>", 0, start)
    fund_cut.write_bytes(golden[:start] + golden[golden.index(b"</PstlAdr>", start) + 10 :])
    assert xmllint_stream(fund_cut, "pain.008.001.08").returncode == 0
    assert epc_address_problems(fund_cut, "Dbtr") == [
        f"{address_debits()[0].end_to_end_id}: non-EEA bank, no fund address in its batch"
    ]


def test_an_unstructured_only_address_is_refused_and_nothing_is_written() -> None:
    """# EPC rulebooks 2025: addresses of free lines only refused from 15 November 2026."""
    out = _Sink()
    bad = debit(debtor_iban="CH9300762011623852957", debtor_bic="UBSWCHZH80A", debtor_address=UNSTRUCTURED)
    with pytest.raises(RuleViolation) as caught:
        write_pain008(out, DEBIT_HEADER, FUND, source([bad]))
    assert [(i.code, i.field) for i in caught.value.issues] == [
        (Code.SEPA_ADDRESS_UNSTRUCTURED, "debits[0].debtor_address.town")
    ]
    assert "unstructured" in caught.value.issues[0].message
    assert out.written == 0


def test_an_unstructured_only_creditor_address_is_refused() -> None:
    bad = credit(creditor_address=PostalAddress("DE", " ", lines=("Hauptstrasse 5", "10115 Berlin")))
    with pytest.raises(RuleViolation) as caught:
        write_pain001(_Sink(), CREDIT_HEADER, FUND, source([bad]))
    assert [(i.code, i.field) for i in caught.value.issues] == [
        (Code.SEPA_ADDRESS_UNSTRUCTURED, "credits[0].creditor_address.town")
    ]


def test_a_hybrid_address_has_at_most_two_lines_of_70_characters() -> None:
    """# EPC rulebooks 2025, hybrid address: town + country + at most two AdrLine (Max70Text)."""
    three = PostalAddress("FR", "Lyon", lines=("a", "b", "c"))
    assert [(i.code, i.field) for i in rules.address_rule(three, "a")] == [
        (Code.SEPA_ADDRESS_TOO_MANY_LINES, "a.lines")
    ]
    long = PostalAddress("FR", "Lyon", lines=("x" * 71,))
    assert [(i.code, i.field) for i in rules.address_rule(long, "a")] == [
        (Code.SEPA_ADDRESS_TOO_MANY_LINES, "a.lines[0]")
    ]
    empty = PostalAddress("FR", "Lyon", lines=(" ",))
    assert [i.code for i in rules.address_rule(empty, "a")] == [Code.SEPA_ADDRESS_TOO_MANY_LINES]
    assert list(rules.address_rule(PostalAddress("FR", "Lyon", lines=("x" * 70, "y")), "a")) == []
    assert list(rules.address_rule(LYON, "a")) == []


@pytest.mark.parametrize("country", sorted(NON_EEA_ACCOUNTS))
def test_a_non_eea_debtor_needs_an_address_and_a_bic(country: str) -> None:
    """# SDD Core rulebook 2025 AT-09/AT-13, EPC409-09 non-EEA SEPA countries."""
    iban, bic = NON_EEA_ACCOUNTS[country]
    bare = debit(debtor_iban=iban, debtor_bic=None)
    if country == "JE":  # a GB IBAN alone already says non-EEA; the JE BIC says so too
        bare = debit(debtor_iban="FR7630006000011234567890189", debtor_bic=bic)
        assert [(i.code, i.field) for i in rules.check_debit(bare)] == [
            (Code.SEPA_ADDRESS_REQUIRED, "debit.debtor_address")
        ]
        return
    found = rules.check_debit(bare)
    assert [(i.code, i.field) for i in found] == [
        (Code.SEPA_ADDRESS_REQUIRED, "debit.debtor_address"),
        (Code.SEPA_BIC_REQUIRED, "debit.debtor_bic"),
    ]
    assert not rules.debit_is_clean(bare)
    assert rules.check_debit(debit(debtor_iban=iban, debtor_bic=bic, debtor_address=ZURICH)) == []


@pytest.mark.parametrize("country", sorted(NON_EEA_ACCOUNTS))
def test_a_non_eea_creditor_needs_an_address_and_a_bic(country: str) -> None:
    """# SCT rulebook 2025 AT-22/AT-23."""
    iban, bic = NON_EEA_ACCOUNTS[country]
    if country == "JE":
        iban = "FR7630006000011234567890189"
    found = rules.check_credit(credit(creditor_iban=iban, creditor_bic=bic))
    assert [(i.code, i.field) for i in found] == [(Code.SEPA_ADDRESS_REQUIRED, "credit.creditor_address")]
    assert not rules.credit_is_clean(credit(creditor_iban=iban, creditor_bic=bic))


def test_a_non_eea_debit_without_address_stops_the_file() -> None:
    out = _Sink()
    bad = debit(debtor_iban="MC5811222000010123456789030", debtor_bic="SGBTMCMCXXX")
    with pytest.raises(RuleViolation) as caught:
        write_pain008(out, DEBIT_HEADER, FUND, source([debit(), bad]))
    assert [(i.code, i.field) for i in caught.value.issues] == [
        (Code.SEPA_ADDRESS_REQUIRED, "debits[1].debtor_address")
    ]
    assert out.written == 0


def test_eea_parties_need_neither_address_nor_bic() -> None:
    assert rules.check_debit(debit(debtor_bic=None)) == []
    assert rules.check_credit(credit(creditor_iban="DE89370400440532013000", creditor_bic=None)) == []


def test_the_country_list_is_epc409_09_with_its_source() -> None:
    """# EPC409-09: 41 countries (27 EU, 3 EEA, CH, GB, AD, MC, SM, VA, AL, MD, ME, MK, RS) plus
    the territories the list names, with the Crown dependencies and Gibraltar outside the EEA."""
    assert "EPC409-09" in countries.SEPA.source
    assert {"CH", "GB", "MC", "SM", "VA", "AD", "JE", "GG", "IM", "GI"} <= countries.SEPA.non_eea
    assert {"AL", "MD", "ME", "MK", "RS"} <= countries.SEPA.non_eea
    assert not {"FR", "DE", "IS", "LI", "NO", "GP", "RE"} & countries.SEPA.non_eea
    territories = {"AX", "GF", "GP", "MQ", "RE", "YT", "BL", "MF", "PM", "GI", "JE", "GG", "IM"}
    sovereign = countries.SEPA.all - territories
    assert len(sovereign) == 41


@pytest.mark.parametrize(
    ("iban", "outside"),
    [
        ("RS35260005601001611379", False),  # Serbia, in the schemes since 22 May 2025
        ("AL47212110090000000235698741", False),
        ("ME25505000012345678951", False),
        ("MK07250120000058984", False),
        ("MD24AG000225100013104168", False),
        ("NC8420041010050500013M02606", True),  # New Caledonia: CFP franc, not SEPA
    ],
)
def test_sepa_membership_follows_the_epc_list(iban: str, outside: bool) -> None:
    codes = [i.code for i in rules.iban_rule(iban, "iban")]
    assert codes == ([Code.SEPA_IBAN_OUTSIDE_SEPA] if outside else [])


class _Sink:
    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes, /) -> int:
        self.written += len(data)
        return len(data)


def test_a_titles_address_maps_to_the_hybrid_form() -> None:
    """The canonical dossier's address: town, postcode, country structured, lines as AdrLine."""
    title = {"lines": ["Résidence Les Mauves", "14 rue Paul Bellamy"], "postal_code": "44000",
             "commune": "Nantes", "country": "FR"}  # fmt: skip
    mapped = addresses.hybrid_address(title)
    assert mapped == PostalAddress(
        "FR", "Nantes", "44000", lines=("Résidence Les Mauves", "14 rue Paul Bellamy")
    )
    assert addresses.from_json(addresses.to_json(mapped)) == mapped
    assert addresses.hybrid_address(None) is None


def test_more_than_two_lines_are_joined_when_they_fit_and_refused_when_not() -> None:
    assert addresses.fitted_lines(["Bat. B", "Esc. 3", "12 rue Haute"]) == ("Bat. B", "Esc. 3, 12 rue Haute")
    too_long = ["x" * 60, "y" * 60, "z" * 60]
    assert addresses.fitted_lines(too_long) == tuple(too_long)  # never cut ...
    kept = PostalAddress("FR", "Lyon", lines=addresses.fitted_lines(too_long))
    assert [i.code for i in rules.address_rule(kept, "a")] == [
        Code.SEPA_ADDRESS_TOO_MANY_LINES
    ]  # ... refused
