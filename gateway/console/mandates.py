"""The console's side of the mandates: the dossier page's view and its two actions, over the
mandate service (gateway.services.mandates, docs/mandates.md), with every IBAN masked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.console.masking import mask_iban
from gateway.errors import Issue
from gateway.payments.mandate_form import METHODS, account_issues
from gateway.payments.schedule import CHOSEN_DAYS
from gateway.services.mandates import change_debtor_account, fund_today, mandate_view, sign_mandate
from gateway.services.records import MandateRow

DEBIT_DAYS = CHOSEN_DAYS


def view(dossier_id: str, data: dict[str, Any], row: MandateRow | None) -> dict[str, Any]:
    """The mandate as the page shows it: signed, or pending (with the account the title brought)."""
    found = mandate_view(dossier_id, data, row)
    account = found.get("account") or {}
    return {
        **found,
        "signed": found["status"] == "signed",
        "holder": account.get("holder"),
        "iban": mask_iban(account.get("iban")),
        "bic": account.get("bic"),
        "pending": found.get("pending_amendment") is not None,
    }


def form_issues(holder: str | None, iban: str, bic: str | None) -> list[Issue]:
    """What is wrong with an account, before asking the operator to confirm it."""
    return account_issues(holder if holder is not None else "-", iban, bic)[1]


def _day(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 2 else (None if not text else -1)


def record_signature(
    store: Any, dossier_id: str, form: dict[str, str], *, now: datetime
) -> tuple[str, dict[str, Any]]:
    """Record the debtor's signature (gateway.services.mandates.sign_mandate); RecordViolation
    lists every bad field. Returns the outcome and the audit details (IBAN masked)."""
    recorded = sign_mandate(
        store,
        dossier_id,
        holder=form.get("holder", ""),
        iban=form.get("iban", ""),
        bic=form.get("bic") or None,
        signed_on=form.get("signed_on", ""),
        method=form.get("method", ""),
        debit_day=_day(form.get("debit_day", "")),
        now=now,
    )
    details = {
        "iban": mask_iban(form.get("iban", "").replace(" ", "").upper()),
        "signed_on": form.get("signed_on", ""),
        "method": form.get("method", ""),
        "debit_day": form.get("debit_day", ""),
        "changed": recorded.changed,
    }
    return ("done" if recorded.changed else "unchanged"), details


def amend_account(
    store: Any, dossier_id: str, *, iban: str, bic: str | None, holder: str | None, now: datetime
) -> dict[str, Any]:
    """Record the debtor's new account (same mandate, amendment with the next debit); the audit
    details (IBAN masked)."""
    pending = change_debtor_account(store, dossier_id, iban=iban, bic=bic, holder=holder, now=now)
    return {
        "iban": mask_iban(iban.replace(" ", "").upper()),
        "bic": bic,
        "holder_changed": bool(holder),
        "amendment_pending": pending is not None,
    }


__all__ = ["DEBIT_DAYS", "METHODS", "amend_account", "form_issues", "fund_today", "record_signature", "view"]
