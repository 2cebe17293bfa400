"""Mandates: deterministic reference, amendment detection on a changed debtor account."""

from __future__ import annotations

from datetime import date

from gateway.payments.mandates import (
    DebtorAccount,
    amendment_between,
    change_account,
    new_mandate,
    same_bank,
)
from gateway.sepa.ids import mandate_reference
from gateway.sepa.model import Amendment

OLD = DebtorAccount("Jean Martin", "FR7630006000011234567890189", "AGRIFRPP")
# another account of the same bank (Crédit Agricole, bank code 30006)
SAME_BANK = DebtorAccount("Jean Martin", "FR7630006000040000000100017")
OTHER_BANK = DebtorAccount("Jean Martin", "FR1420041010050500013M02606")


def test_reference_is_deterministic_and_unique() -> None:
    first = new_mandate("D-1", date(2026, 9, 14), OLD)
    assert first.reference == mandate_reference("D-1")
    assert first == new_mandate("D-1", date(2026, 9, 14), OLD)
    assert first.reference != new_mandate("D-2", date(2026, 9, 14), OLD).reference


def test_same_bank_detection() -> None:
    assert same_bank(OLD, SAME_BANK)
    assert not same_bank(OLD, OTHER_BANK)
    assert same_bank(
        DebtorAccount("x", OLD.iban, "AGRIFRPPXXX"), DebtorAccount("x", OTHER_BANK.iban, "AGRIFRPP")
    )


def test_no_change_no_amendment() -> None:
    mandate = new_mandate("D-1", date(2026, 9, 14), OLD)
    renamed = DebtorAccount("Jean Martin-Durand", OLD.iban, OLD.bic)
    assert change_account(mandate, renamed)[1] is None


def test_account_change_at_the_same_bank_carries_the_original_iban() -> None:
    mandate = new_mandate("D-1", date(2026, 9, 14), OLD)
    changed, amendment = change_account(mandate, SAME_BANK)
    assert changed.reference == mandate.reference
    assert changed.account == SAME_BANK
    assert amendment == Amendment(original_debtor_iban=OLD.iban)


def test_account_change_to_another_bank_is_smnda() -> None:
    mandate = new_mandate("D-1", date(2026, 9, 14), OLD)
    _, amendment = change_account(mandate, OTHER_BANK)
    assert amendment == Amendment(new_debtor_agent=True)


def test_new_reference_carries_the_original_mandate_id() -> None:
    before = new_mandate("D-1", date(2026, 9, 14), OLD)
    after = new_mandate("D-1-bis", date(2026, 10, 1), OLD)
    assert amendment_between(before, after) == Amendment(original_mandate_id=before.reference)
