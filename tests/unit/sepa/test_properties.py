"""Property tests: generated valid inputs always give XSD-valid files with exact control sums;
the rules' fast path says "clean" exactly when the detailed rules find nothing."""

from __future__ import annotations

import io
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.sepa import ids, rules
from gateway.sepa.charset import SEPA_CHARACTERS
from gateway.sepa.model import (
    Amendment,
    CreditTransfer,
    DirectDebit,
    Pain001Version,
    Pain008Version,
    PostalAddress,
    SequenceType,
    format_cents,
)
from gateway.sepa.pain001 import write_pain001
from gateway.sepa.pain008 import write_pain008
from gateway.sepa.xsd import load_schema
from tests.unit.sepa.samples import CREDIT_HEADER, DEBIT_HEADER, FUND, source, texts

IBANS = [
    "FR7630006000011234567890189",
    "FR1420041010050500013M02606",
    "DE89370400440532013000",
    "BE68539007547034",
    "IT60X0542811101000000123456",
]
BICS = [None, "AGRIFRPP", "COBADEFFXXX", "BNPAFRPPXXX"]
_letters = st.sampled_from(sorted(SEPA_CHARACTERS - {" "}))


def _text(max_size: int) -> st.SearchStrategy[str]:
    """SEPA text, with anything unidecode can transliterate sprinkled in."""
    alphabet = st.sampled_from([*sorted(SEPA_CHARACTERS), "é", "ß", "Ø", "ç", "&", "_"])
    return st.text(alphabet=alphabet, min_size=1, max_size=max_size // 2).filter(lambda s: s.strip() != "")


addresses = st.none() | st.builds(
    PostalAddress,
    country=st.sampled_from(["FR", "DE", "BE"]),
    town=_text(30),
    postcode=st.none() | st.text(alphabet="0123456789", min_size=4, max_size=5),
    street=st.none() | _text(60),
    building_number=st.none() | st.text(alphabet="0123456789ab", min_size=1, max_size=4),
)
amendments = st.none() | st.sampled_from(
    [
        Amendment(original_debtor_iban="FR1420041010050500013M02606"),
        Amendment(original_mandate_id="OLD-MANDATE-1", new_debtor_agent=True),
        Amendment(original_mandate_id="OLD-MANDATE-2"),
    ]
)
amounts = st.integers(min_value=1, max_value=99_999_999_999)
days = st.dates(min_value=date(2026, 11, 1), max_value=date(2026, 11, 30))


@st.composite
def debits(draw: st.DrawFn) -> DirectDebit:
    dossier = draw(st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=8))
    return DirectDebit(
        end_to_end_id=ids.end_to_end_id(dossier, "DD", "2026-11"),
        amount_cents=draw(amounts),
        mandate_id=ids.mandate_reference(dossier),
        mandate_signed_on=date(2026, 1, 1),
        sequence=draw(st.sampled_from(list(SequenceType))),
        collection_date=draw(days),
        debtor_name=draw(_text(70)),
        debtor_iban=draw(st.sampled_from(IBANS)),
        debtor_bic=draw(st.sampled_from(BICS)),
        debtor_address=draw(addresses),
        remittance=draw(st.none() | _text(140)),
        amendment=draw(amendments),
    )


@st.composite
def credits(draw: st.DrawFn) -> CreditTransfer:
    dossier = draw(st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=8))
    return CreditTransfer(
        end_to_end_id=ids.end_to_end_id(dossier, "CT", "2026-11"),
        amount_cents=draw(amounts),
        execution_date=draw(days),
        creditor_name=draw(_text(70)),
        creditor_iban=draw(st.sampled_from(IBANS)),
        creditor_bic=draw(st.sampled_from(BICS)),
        creditor_address=draw(addresses),
        remittance=draw(st.none() | _text(140)),
    )


def _cents(tree: etree._ElementTree, path: str) -> list[int]:
    return [int(v.replace(".", "")) for v in texts(tree, path)]


_SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SLOW
@given(st.lists(debits(), min_size=1, max_size=12), st.sampled_from(list(Pain008Version)))
def test_pain008_always_valid_with_exact_sums(items: list[DirectDebit], version: Pain008Version) -> None:
    out = io.BytesIO()
    summary = write_pain008(out, DEBIT_HEADER, FUND, source(items), version=version)
    tree = etree.parse(io.BytesIO(out.getvalue()))
    load_schema(version.value).assertValid(tree)
    total = sum(d.amount_cents for d in items)
    assert summary.total_cents == total
    assert _cents(tree, "//p:GrpHdr/p:CtrlSum/text()") == [total]
    assert sum(_cents(tree, "//p:PmtInf/p:CtrlSum/text()")) == total
    assert sorted(_cents(tree, "//p:InstdAmt/text()")) == sorted(d.amount_cents for d in items)
    assert len({b.payment_info_id for b in summary.batches}) == len(summary.batches)


@_SLOW
@given(st.lists(credits(), min_size=1, max_size=12), st.sampled_from(list(Pain001Version)))
def test_pain001_always_valid_with_exact_sums(items: list[CreditTransfer], version: Pain001Version) -> None:
    out = io.BytesIO()
    write_pain001(out, CREDIT_HEADER, FUND, source(items), version=version)
    tree = etree.parse(io.BytesIO(out.getvalue()))
    load_schema(version.value).assertValid(tree)
    assert _cents(tree, "//p:GrpHdr/p:CtrlSum/text()") == [sum(c.amount_cents for c in items)]


@given(
    end_to_end_id=st.text(max_size=40),
    name=st.text(max_size=80),
    remittance=st.none() | st.text(max_size=150),
    bic=st.none() | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=12),
    cents=st.integers(min_value=-10, max_value=10**12),
    iban=st.sampled_from([*IBANS, "FR0030006000011234567890189", "GB33BUKB20201555555555"])
    | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=34),
)
def test_fast_path_agrees_with_the_detailed_rules(
    end_to_end_id: str, name: str, remittance: str | None, bic: str | None, cents: int, iban: str
) -> None:
    from tests.unit.sepa.samples import debit

    item = debit()._replace(
        end_to_end_id=end_to_end_id,
        debtor_name=name,
        remittance=remittance,
        debtor_bic=bic,
        amount_cents=cents,
        debtor_iban=iban,
    )
    if rules.debit_is_clean(item):  # "clean" must never hide an issue the rules would report
        assert rules.check_debit(item) == []


@given(credits(), st.text(max_size=80), st.text(max_size=6))
def test_credit_fast_path_agrees_with_the_detailed_rules(
    item: CreditTransfer, name: str, purpose: str
) -> None:

    for candidate in (item, item._replace(creditor_name=name), item._replace(purpose=purpose)):
        if rules.credit_is_clean(candidate):
            assert rules.check_credit(candidate) == []


def test_format_cents() -> None:
    assert format_cents(1) == "0.01"
    assert format_cents(12345) == "123.45"
    assert format_cents(99_999_999_999) == "999999999.99"
