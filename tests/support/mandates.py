"""Test helper: the back-office records, for dossiers that came with bank details, the mandate the
debtor signed on those details and the creditor's payout account (what `gateway demo` does too)."""

from __future__ import annotations

from datetime import date, datetime

from gateway.services.mandates import record_payout_account, show_mandate, show_payout_account, sign_mandate
from gateway.store import SqlStore


def sign_as_prefilled(
    store: SqlStore, dossier_id: str, *, signed_on: date, now: datetime, day: int = 10
) -> None:
    """Sign the dossier's mandate on the debtor's account the title brought, and record the
    creditor's account the title brought as the payout account."""
    account = show_mandate(store, dossier_id)["account"]
    assert account is not None, "the title brought no debtor bank details"
    sign_mandate(
        store, dossier_id, holder=account["holder"], iban=account["iban"], bic=account["bic"],
        signed_on=signed_on.isoformat(), method="paper", debit_day=day, now=now,
    )  # fmt: skip
    payee = show_payout_account(store, dossier_id)["account"]
    if payee is not None:
        record_payout_account(
            store, dossier_id, holder=payee["holder"], iban=payee["iban"], bic=payee["bic"], now=now
        )
