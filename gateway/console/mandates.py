"""The console's side of the mandates: what the dashboard counts and what the dossier page does.

Small functions over the mandate service (gateway.mandate_changes), so that the pages do not
depend on its details.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.console.masking import mask_iban
from gateway.errors import Issue, RuleViolation
from gateway.mandate_changes import change_debtor_account
from gateway.sepa import rules as sepa_rules
from gateway.store.payments import MandateRow
from gateway.store.sql import SqlStore

CAN_SIGN = False  # recording a signature needs the signed-mandate service (not on this branch yet)


def mandate_view(row: MandateRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "reference": row.reference,
        "signed_on": row.signed_on,
        "debtor_name": row.debtor_name,
        "iban": mask_iban(row.iban),
        "bic": row.bic,
        "pending": row.pending_amendment is not None,
        "extra": [],
    }


def account_issues(iban: str, bic: str | None) -> list[Issue]:
    """What is wrong with a new account, before asking the operator to confirm it."""
    return [*sepa_rules.iban_rule(iban, "iban"), *sepa_rules.bic_rule(bic, "bic")]


def amend_account(
    store: SqlStore, dossier_id: str, *, iban: str, bic: str | None, holder: str | None, now: datetime
) -> dict[str, Any]:
    """Record the debtor's new account; the audit details (the IBAN masked)."""
    issues = account_issues(iban, bic)
    if issues:
        raise RuleViolation.from_issues(issues)
    pending = change_debtor_account(store, dossier_id, iban=iban, bic=bic, holder=holder, now=now)
    return {
        "iban": mask_iban(iban),
        "bic": bic,
        "holder_changed": bool(holder),
        "amendment_pending": pending is not None,
    }


__all__ = ["CAN_SIGN", "account_issues", "amend_account", "mandate_view"]
