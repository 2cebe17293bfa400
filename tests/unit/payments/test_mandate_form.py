"""A signed mandate and a payout account as the back-office records them: every bad field is
reported at once, with its code and field, and no message quotes the account."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gateway.errors import RuleViolation
from gateway.payments.mandate_form import Account, check_account, check_signature

TITLE = date(2026, 11, 16)
TODAY = date(2026, 12, 6)
GOOD: dict[str, Any] = {
    "holder": "M. Julien Martin",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
    "bic": "agrifrpp",
    "signed_on": "2026-11-24",
    "method": "paper",
    "debit_day": 15,
}


def sign(**changes: Any) -> Any:
    return check_signature(**{**GOOD, **changes}, title_date=TITLE, today=TODAY)


def refusal(**changes: Any) -> set[tuple[str, str]]:
    with pytest.raises(RuleViolation) as caught:
        sign(**changes)
    for issue in caught.value.issues:
        assert "30006000011234567890189" not in issue.message  # never the account itself
    return {(i.code, i.field) for i in caught.value.issues}


def test_a_good_signature_is_normalised() -> None:
    signature = sign()
    assert signature.account == Account("M. Julien Martin", "FR7630006000011234567890189", "AGRIFRPP")
    assert (signature.signed_on, signature.method, signature.debit_day) == (date(2026, 11, 24), "paper", 15)


def test_the_debit_day_is_the_10th_when_the_debtor_did_not_choose() -> None:
    assert sign(debit_day=None).debit_day == 10
    assert sign(bic=None).account.bic is None  # an IBAN alone identifies a SEPA account


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"iban": "FR7630006000011234567890188"}, ("invalid-iban", "iban")),  # check digits
        ({"iban": "XX7630006000011234567890189"}, ("invalid-iban", "iban")),
        # EPC130-08 AT-07: the SEPA zone only (a valid Brazilian IBAN)
        ({"iban": "BR1800360305000010009795493C1"}, ("sepa-iban-outside-sepa", "iban")),
        ({"bic": "AGRIFRP"}, ("invalid-bic", "bic")),
        ({"signed_on": "2026-13-01"}, ("invalid-date", "signed_on")),
        ({"signed_on": "2026-12-07"}, ("invalid-date", "signed_on")),  # EPC016 AT-25: not to come
        ({"signed_on": "2026-11-15"}, ("invalid-date", "signed_on")),  # before the title
        ({"method": "fax"}, ("invalid-mandate-method", "method")),
        ({"debit_day": 5}, ("invalid-debit-day", "debit_day")),
        ({"holder": "  "}, ("sepa-name-too-long", "holder")),  # EPC130-08 AT-14: a name is needed
        ({"holder": "J" * 71}, ("sepa-name-too-long", "holder")),
        ({"holder": "Julien ☃"}, ("sepa-charset", "holder")),
    ],
)
def test_each_bad_field_is_named(changes: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in refusal(**changes)


def test_every_problem_is_reported_at_once() -> None:
    found = refusal(iban="FR00", bic="X", signed_on="soon", method="", debit_day=31)
    assert {field for _, field in found} == {"iban", "bic", "signed_on", "method", "debit_day"}


def test_an_amendment_is_not_signed_before_the_mandate_it_amends() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_signature(**{**GOOD, "signed_on": "2026-11-20"}, title_date=TITLE, today=TODAY,
                        not_before=date(2026, 11, 24))  # fmt: skip
    assert (caught.value.code, caught.value.field) == ("invalid-date", "signed_on")
    assert "the mandate (2026-11-24)" in caught.value.message


def test_a_payout_account_is_checked_the_same_way() -> None:
    assert check_account("Mme Sophie Moreau", "fr14 2004 1010 0505 0001 3m02 606", None) == Account(
        "Mme Sophie Moreau", "FR1420041010050500013M02606", None
    )
    with pytest.raises(RuleViolation) as caught:
        check_account("Mme Sophie Moreau", "FR1420041010050500013M02607", "PSSTFRPPXXX")
    assert (caught.value.code, caught.value.field) == ("invalid-iban", "iban")
