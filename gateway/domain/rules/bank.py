"""Bank-detail rules: valid SEPA IBAN and BIC, the parents' consent, a RIB under three months old."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from gateway.domain.calendar import add_months
from gateway.domain.identifiers import check_bic, check_iban
from gateway.domain.transmission import BankAccount, Transmission
from gateway.errors import Code, Issue

RIB_MAX_AGE_MONTHS = 3  # R. 582-4-1 CSS: a RIB dated less than three months


def _accounts(t: Transmission) -> Iterator[tuple[str, BankAccount]]:
    for role, parent in (("debtor", t.debtor), ("creditor", t.creditor)):
        if parent.bank_account is not None:
            yield f"{role}.bank_account", parent.bank_account


def bank_details_valid(t: Transmission, today: date) -> Iterator[Issue]:
    for base, account in _accounts(t):
        _, reason = check_iban(account.iban)
        if reason is not None:
            yield Issue(Code.INVALID_IBAN, f"{base}.iban", reason)
        if account.bic is not None:
            _, reason = check_bic(account.bic)
            if reason is not None:
                yield Issue(Code.INVALID_BIC, f"{base}.bic", reason)


def bank_details_with_consent(t: Transmission, today: date) -> Iterator[Issue]:
    # R. 582-4-1 CSS: bank details are transmitted only after both parents agreed
    if t.bank_details_consent is not True:
        for base, _ in _accounts(t):
            yield Issue(
                Code.BANK_DETAILS_WITHOUT_CONSENT,
                base,
                "bank details may only be sent when both parents agreed to it "
                "(R. 582-4-1 CSS); set the consent flag or leave the bank details out",
            )


def rib_recent(t: Transmission, today: date) -> Iterator[Issue]:
    oldest = add_months(today, -RIB_MAX_AGE_MONTHS)
    for base, account in _accounts(t):
        if account.rib_date > today:
            yield Issue(Code.INVALID_DATE, f"{base}.rib_date", "the RIB is dated in the future")
        elif account.rib_date < oldest:
            yield Issue(
                Code.RIB_TOO_OLD,
                f"{base}.rib_date",
                f"the RIB is dated {account.rib_date.isoformat()}, more than "
                f"{RIB_MAX_AGE_MONTHS} months before the transmission (R. 582-4-1 CSS); "
                "ask for a recent one",
            )
