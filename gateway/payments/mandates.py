"""SDD mandates of the fund: one per dossier, deterministic reference, amendment detection.

The fund is the creditor (its ICS in settings), the debtor parent signs one mandate per dossier
(docs/payment-cycle.md "Mandates"). When the debtor's account changes, the mandate stays the same and
the next collection carries the amendment (EPC130-08 AT-24):
- new account at the same bank  -> the original IBAN (`OrgnlDbtrAcct/Id/IBAN`);
- new account at another bank   -> `SMNDA` in the original debtor account (EPC130-08 IG v9.0+);
the sequence type is not reset to FRST by an amendment (EPC rulebook since November 2016).
"Same bank" means same BIC when both are known, else same country and national bank code of
the IBANs (schwifty).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from schwifty import IBAN

from gateway.sepa.ids import mandate_reference
from gateway.sepa.model import Amendment
from gateway.sepa.rules import compact


@dataclass(frozen=True, slots=True)
class DebtorAccount:
    """The debtor parent's bank details as the mandate knows them."""

    name: str
    iban: str
    bic: str | None = None


@dataclass(frozen=True, slots=True)
class Mandate:
    """One mandate: unique reference (AT-01), signature date (AT-25), current account."""

    reference: str
    signed_on: date
    account: DebtorAccount


def new_mandate(dossier_id: str, signed_on: date, account: DebtorAccount) -> Mandate:
    """The dossier's mandate, its reference derived from the dossier id (gateway.sepa.ids)."""
    return Mandate(mandate_reference(dossier_id), signed_on, account)


def _bank_of(account: DebtorAccount) -> tuple[str, str]:
    iban = IBAN(compact(account.iban))
    return (iban.country_code, iban.bank_code)


def same_bank(before: DebtorAccount, after: DebtorAccount) -> bool:
    """True when both accounts are held by the same bank (BIC, else IBAN bank code)."""
    if before.bic and after.bic:
        # an 8-character BIC is the head office of the 11-character ones
        return compact(before.bic)[:8] == compact(after.bic)[:8]
    return _bank_of(before) == _bank_of(after)


def amendment_between(before: Mandate, after: Mandate) -> Amendment | None:
    """The amendment details a collection under `after` must carry, or None if nothing
    relevant changed (a name change alone is not an amendment in SDD, EPC130-08 AT-24)."""
    original_mandate_id = before.reference if before.reference != after.reference else None
    original_iban: str | None = None
    new_agent = False
    if compact(before.account.iban) != compact(after.account.iban):
        if same_bank(before.account, after.account):
            original_iban = compact(before.account.iban)
        else:
            new_agent = True
    amendment = Amendment(original_mandate_id, original_iban, new_agent)
    return None if amendment.is_empty else amendment


def change_account(mandate: Mandate, account: DebtorAccount) -> tuple[Mandate, Amendment | None]:
    """The same mandate on a new account, with the amendment for its next collection."""
    changed = Mandate(mandate.reference, mandate.signed_on, account)
    return changed, amendment_between(mandate, changed)
