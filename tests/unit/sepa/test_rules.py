"""One test per EPC rule with a bad input: the stable code and the field path."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from gateway.errors import Code, Issue
from gateway.sepa import rules
from gateway.sepa.model import Amendment, PostalAddress
from tests.unit.sepa.samples import FUND, credit, debit


def _codes(issues: list[Issue]) -> set[tuple[str, str]]:
    return {(i.code, i.field) for i in issues}


def test_valid_inputs_have_no_issue() -> None:
    assert rules.check_debit(debit()) == []
    assert rules.check_credit(credit()) == []
    assert rules.check_fund(rules.normalize_fund(FUND)) == []


def test_charset() -> None:  # EPC130-08 §1.4, EPC217-08
    issues = rules.check_debit(rules.normalize_debit(debit(debtor_name="Jean 😀 Martin")))
    assert (Code.SEPA_CHARSET, "debit.debtor_name") in _codes(issues)


def test_name_too_long() -> None:  # EPC130-08 AT-14
    issues = rules.check_debit(debit(debtor_name="A" * 71))
    assert _codes(issues) == {(Code.SEPA_NAME_TOO_LONG, "debit.debtor_name")}
    assert rules.check_debit(debit(debtor_name="A" * 70)) == []


def test_empty_name() -> None:  # EPC130-08 AT-14: mandatory
    assert _codes(rules.check_debit(debit(debtor_name="  "))) == {
        (Code.SEPA_NAME_TOO_LONG, "debit.debtor_name")
    }


def test_creditor_name_too_long() -> None:  # EPC125-05 AT-21
    assert _codes(rules.check_credit(credit(creditor_name="B" * 71))) == {
        (Code.SEPA_NAME_TOO_LONG, "credit.creditor_name")
    }


def test_remittance_too_long() -> None:  # EPC130-08 AT-22
    assert _codes(rules.check_debit(debit(remittance="R" * 141))) == {
        (Code.SEPA_REMITTANCE_TOO_LONG, "debit.remittance")
    }
    assert rules.check_debit(debit(remittance="R" * 140)) == []


@pytest.mark.parametrize(
    "value",
    ["X" * 36, "", "/ABC", "ABC/", "AB//C", " ABC", "AB_C", "ÉTÉ"],
    ids=["too-long", "empty", "leading", "trailing", "double", "space", "underscore", "accent"],
)
def test_invalid_identifier(value: str) -> None:  # EPC130-08 AT-10 and IG §1.5
    assert (Code.SEPA_INVALID_IDENTIFIER, "debit.end_to_end_id") in _codes(
        rules.check_debit(debit(end_to_end_id=value))
    )


def test_invalid_mandate_id() -> None:  # EPC130-08 AT-01
    assert _codes(rules.check_debit(debit(mandate_id="A//B"))) == {
        (Code.SEPA_INVALID_IDENTIFIER, "debit.mandate_id")
    }


def test_currency() -> None:  # EPC130-08 AT-06: EUR only
    assert _codes(rules.check_debit(debit(currency="CHF"))) == {(Code.SEPA_CURRENCY, "debit.currency")}


@pytest.mark.parametrize("cents", [0, -5, 100_000_000_000])
def test_amount_out_of_range(cents: int) -> None:  # EPC130-08 AT-06
    assert _codes(rules.check_debit(debit(amount_cents=cents))) == {
        (Code.SEPA_AMOUNT_OUT_OF_RANGE, "debit.amount_cents")
    }


def test_amount_bounds_are_inclusive() -> None:
    assert rules.check_debit(debit(amount_cents=1)) == []
    assert rules.check_debit(debit(amount_cents=99_999_999_999)) == []


@pytest.mark.parametrize(
    "iban",
    ["FR7630006000011234567890188", "FR76300060000112345678901", "XX7630006000011234567890189"],
    ids=["checksum", "length", "country"],
)
def test_invalid_iban(iban: str) -> None:  # EPC130-08 AT-07
    assert _codes(rules.check_debit(debit(debtor_iban=iban))) == {(Code.INVALID_IBAN, "debit.debtor_iban")}


def test_iban_outside_sepa() -> None:  # EPC409-09 list of SEPA countries
    assert _codes(rules.check_credit(credit(creditor_iban="BR1500000000000010932840814P2"))) == {
        (Code.SEPA_IBAN_OUTSIDE_SEPA, "credit.creditor_iban")
    }


def test_invalid_bic() -> None:  # EPC130-08 AT-13
    assert _codes(rules.check_debit(debit(debtor_bic="AGRI12PP"))) == {(Code.INVALID_BIC, "debit.debtor_bic")}


def test_bic_is_optional() -> None:  # EPC130-08 AT-13: NOTPROVIDED
    assert rules.check_debit(debit(debtor_bic=None)) == []
    assert rules.check_credit(credit(creditor_bic=None)) == []


def test_invalid_creditor_id() -> None:  # EPC130-08 AT-02, EPC262-08
    fund = replace(FUND, creditor_id="FR73ZZZ123456")
    assert _codes(rules.check_fund(rules.normalize_fund(fund))) == {
        (Code.SEPA_INVALID_CREDITOR_ID, "fund.creditor_id")
    }


def test_unstructured_address() -> None:  # EPC130-08 AT-09 (structured addresses)
    bad = PostalAddress(country="France", town=" ")
    assert _codes(rules.check_debit(debit(debtor_address=bad))) == {
        (Code.SEPA_ADDRESS_UNSTRUCTURED, "debit.debtor_address.country"),
        (Code.SEPA_ADDRESS_UNSTRUCTURED, "debit.debtor_address.town"),
    }


def test_address_part_too_long() -> None:
    bad = PostalAddress(country="FR", town="T" * 36)
    assert _codes(rules.check_credit(credit(creditor_address=bad))) == {
        (Code.SEPA_ADDRESS_UNSTRUCTURED, "credit.creditor_address.town")
    }


def test_mandate_signed_after_collection() -> None:  # EPC130-08 AT-25
    issues = rules.check_debit(debit(mandate_signed_on=date(2026, 12, 1)))
    assert _codes(issues) == {(Code.SEPA_INVALID_MANDATE, "debit.mandate_signed_on")}


def test_empty_amendment() -> None:  # EPC130-08 AT-24
    assert _codes(rules.check_debit(debit(amendment=Amendment()))) == {
        (Code.SEPA_INVALID_MANDATE, "debit.amendment")
    }


def test_amendment_with_both_account_forms() -> None:  # EPC130-08 AT-24
    amendment = Amendment(original_debtor_iban="FR1420041010050500013M02606", new_debtor_agent=True)
    assert (Code.SEPA_INVALID_MANDATE, "debit.amendment") in _codes(
        rules.check_debit(debit(amendment=amendment))
    )


def test_amendment_original_iban_is_checked() -> None:
    amendment = Amendment(original_debtor_iban="FR1420041010050500013M02607")
    assert _codes(rules.check_debit(debit(amendment=amendment))) == {
        (Code.INVALID_IBAN, "debit.amendment.original_debtor_iban")
    }


def test_invalid_purpose() -> None:  # EPC125-05 AT-44
    assert _codes(rules.check_credit(credit(purpose="alimony"))) == {
        (Code.SEPA_INVALID_PURPOSE, "credit.purpose")
    }


def test_normalization_compacts_and_transliterates() -> None:
    raw = debit(debtor_name="Cécile", debtor_iban="fr76 3000 6000 0112 3456 7890 189")
    clean = rules.normalize_debit(raw)
    assert clean.debtor_name == "Cecile"
    assert clean.debtor_iban == "FR7630006000011234567890189"
    assert rules.check_debit(clean) == []
    already = debit()
    assert rules.normalize_debit(already) is already


def test_iban_check_digits_outside_02_98_are_refused() -> None:
    # "FR00..." passes a bare mod-97 test for no IBAN ISO 7064 could produce (00, 01, 99)
    from stdnum.iso7064 import mod_97_10

    bban = "30006000011234567890189"
    for digits in ("00", "01", "99"):
        iban = f"FR{digits}{bban}"
        assert list(rules.iban_rule(iban, "f")) != []
    assert mod_97_10.is_valid(bban + "FR76")
