"""A debtor parent's new account for a dossier's mandate: same mandate, amendment on the next debit."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from gateway.errors import Code, Issue, NotFound, RuleViolation
from gateway.payments.mandates import DebtorAccount, Mandate, change_account
from gateway.sepa import rules as sepa_rules
from gateway.store.payments import SqlPayments
from gateway.store.sql import SqlStore


def change_debtor_account(
    store: SqlStore, dossier_id: str, *, iban: str, bic: str | None, holder: str | None, now: datetime
) -> dict[str, Any] | None:
    """Record the new account; returns the amendment the next collection will carry (or None)."""
    issues: list[Issue] = [*sepa_rules.iban_rule(iban, "iban"), *sepa_rules.bic_rule(bic, "bic")]
    if issues:
        raise RuleViolation.from_issues(issues)
    with store.transaction() as uow:
        payments = SqlPayments(uow.connection)
        row = payments.mandate(dossier_id)
        if row is None:
            raise NotFound(
                f"dossier {dossier_id} has no mandate yet (it gets one at its first collection)",
                code=Code.NOT_FOUND,
                field="dossier_id",
            )
        before = Mandate(row.reference, row.signed_on, DebtorAccount(row.debtor_name, row.iban, row.bic))
        account = DebtorAccount(
            holder or row.debtor_name, sepa_rules.compact(iban), sepa_rules.compact(bic) if bic else None
        )
        after, amendment = change_account(before, account)
        pending = row.pending_amendment
        if amendment is not None:
            found = asdict(amendment)
            # An earlier change not yet collected keeps its original details: the bank knows the
            # mandate as it was at the last collection.
            pending = pending or found
        payments.save_mandate(
            replace(
                row,
                debtor_name=after.account.name,
                iban=after.account.iban,
                bic=after.account.bic,
                pending_amendment=pending,
                updated_at=now,
            )
        )
    return pending
