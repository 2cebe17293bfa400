"""What the back-office records for a dossier: the debtor's signed mandate and the creditor's payout
account, and every check made before either is stored (no storage, no clock: dates are passed in).

The parents' consent to transmit bank details (art. R. 582-4-1 CSS) is not a debit mandate: the
debtor signs one, on paper or electronically, before the first debit (SDD Core rulebook, EPC016:
mandate reference AT-01, date of signature AT-25, debtor's account AT-07). A signature is checked
here: an account holder SEPA can carry (EPC130-08 AT-14), a valid IBAN of the SEPA zone and an
optional valid BIC (EPC130-08 AT-07/AT-13), a date of signature neither in the future nor before
the title, a method (`paper` or `electronic`), and the debit day the debtor chose among the 1st,
10th and 15th (the fund's payment cycle, docs/mandates.md). Every problem is reported at once,
each naming its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, cast

from gateway.errors import Code, Issue, RecordViolation
from gateway.payments.schedule import CHOSEN_DAYS
from gateway.sepa import rules as sepa_rules

Method = Literal["paper", "electronic"]
METHODS: tuple[Method, ...] = ("paper", "electronic")
DEFAULT_DEBIT_DAY = 10  # when the debtor did not choose (docs/mandates.md)


@dataclass(frozen=True, slots=True)
class Account:
    """A bank account as recorded: holder, compact IBAN, compact BIC (optional since 2016)."""

    holder: str
    iban: str
    bic: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"holder": self.holder, "iban": self.iban, "bic": self.bic}


@dataclass(frozen=True, slots=True)
class Signature:
    """A mandate as the debtor signed it (or an amendment of its account, signed on `signed_on`)."""

    account: Account
    signed_on: date
    method: Method
    debit_day: int


def account_issues(holder: str, iban: str, bic: str | None) -> tuple[Account, list[Issue]]:
    """The account, normalised (IBAN/BIC without spaces, in capitals), and what is wrong with it.

    # EPC130-08 AT-07/AT-14 (debtor), EPC125-05 AT-20/AT-21 (beneficiary): a name SEPA can carry,
    # an IBAN of a SEPA country with valid check digits, a BIC that is a BIC when given."""
    account = Account(
        holder.strip(),
        sepa_rules.compact(iban.strip()),
        sepa_rules.compact(bic.strip()) if bic and bic.strip() else None,
    )
    issues = [
        *sepa_rules.name_rule(account.holder, "holder"),
        *sepa_rules.iban_rule(account.iban, "iban"),
        *sepa_rules.bic_rule(account.bic, "bic"),
    ]
    return account, issues


def check_account(holder: str, iban: str, bic: str | None) -> Account:
    """The account, or RecordViolation listing every problem (a payout account is only this)."""
    account, issues = account_issues(holder, iban, bic)
    if issues:
        raise RecordViolation.from_issues(issues)
    return account


def _signature_date(
    text: str, *, earliest: tuple[date, str] | None, today: date
) -> tuple[date | None, list[Issue]]:
    try:
        signed_on = date.fromisoformat(text.strip())
    except ValueError:
        return None, [Issue(Code.INVALID_DATE, "signed_on", "date of signature must be YYYY-MM-DD")]
    if signed_on > today:
        # EPC016 AT-25: the date the debtor signed, so never a date to come.
        return None, [Issue(Code.INVALID_DATE, "signed_on", "date of signature is in the future")]
    if earliest is not None and signed_on < earliest[0]:
        # The mandate collects the pension the title fixes: it cannot be signed before the title
        # (nor an amendment before the mandate it amends).
        message = f"date of signature is before {earliest[1]} ({earliest[0].isoformat()})"
        return None, [Issue(Code.INVALID_DATE, "signed_on", message)]
    return signed_on, []


def check_signature(
    *,
    holder: str,
    iban: str,
    bic: str | None,
    signed_on: str,
    method: str,
    debit_day: int | None,
    title_date: date | None,
    today: date,
    not_before: date | None = None,
) -> Signature:
    """A signed mandate (or amendment) as recorded, or RecordViolation listing every problem.

    `today` is the fund's date (Paris); `not_before` is the mandate's own signature date when the
    form amends one (an amendment is signed after the mandate it amends)."""
    account, issues = account_issues(holder, iban, bic)
    bounds = [(d, what) for d, what in ((title_date, "the title"), (not_before, "the mandate")) if d]
    earliest = max(bounds, default=None, key=lambda bound: bound[0])
    day, date_issues = _signature_date(signed_on, earliest=earliest, today=today)
    issues += date_issues
    if method not in METHODS:
        issues.append(Issue(Code.INVALID_MANDATE_METHOD, "method", "method must be 'paper' or 'electronic'"))
    chosen = DEFAULT_DEBIT_DAY if debit_day is None else debit_day
    if chosen not in CHOSEN_DAYS:
        issues.append(
            Issue(Code.INVALID_DEBIT_DAY, "debit_day", "debit day must be 1, 10 or 15 (the debtor's choice)")
        )
    if issues or day is None:
        raise RecordViolation.from_issues(issues)
    return Signature(account, day, cast(Method, method), chosen)
