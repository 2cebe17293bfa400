"""What the back-office records for a dossier's money, and what still waits (docs/mandates.md).

- `sign_mandate`: the debtor signed the dossier's SEPA mandate (paper or electronic); until then
  the mandate is pending and the collection leaves the dossier out (the parents' consent to
  transmit bank details, art. R. 582-4-1 CSS, is not a mandate). Recorded again on a mandate
  already used by a collection, a new account is an amendment (EPC016 AT-24) carried by the next
  debit; on one never used, the record is simply corrected (the bank has not seen it).
- `change_debtor_account`: the same amendment, dated today (`gateway sepa mandate-account`).
- `record_payout_account`: the creditor parent's account; payouts go there only.
- `waiting`: the dossiers without a signed mandate or a payout account, each with its reasons.

Each change is written with its outbox event (`mandate.signed`, `mandate.amended`,
`payout_account.recorded`) in one transaction; recording the same thing twice changes nothing and
publishes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.errors import Code, NotFound, RecordViolation
from gateway.payments.mandate_form import Account, Signature, check_account, check_signature
from gateway.payments.mandates import DebtorAccount, Mandate, change_account
from gateway.sepa.ids import mandate_reference
from gateway.services.collection import MANDATE_PENDING, NO_PAYOUT_ACCOUNT
from gateway.services.events import MANDATE_AMENDED, MANDATE_SIGNED, PAYOUT_ACCOUNT_RECORDED, publish
from gateway.services.ports import Clock, DossierRow, PaymentsStore, PaymentsUnitOfWork
from gateway.services.records import STATUS_PENDING as PENDING
from gateway.services.records import STATUS_SIGNED as SIGNED
from gateway.services.records import MandateRow, PayoutAccountRow

PARIS = ZoneInfo("Europe/Paris")  # the fund's calendar: a signature dated today in Paris is today


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a PUT did: the record as it now stands, and whether anything changed."""

    view: dict[str, Any]
    changed: bool


@dataclass(frozen=True, slots=True)
class WaitingDossier:
    """A dossier the collection or the payout leaves out, and why (`mandate-pending`,
    `no-payout-account`); `prefilled`: the title brought the debtor's bank details."""

    dossier_id: str
    reasons: tuple[str, ...]
    received_at: datetime
    prefilled: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "dossier_id": self.dossier_id,
            "reasons": list(self.reasons),
            "received_at": self.received_at.isoformat().replace("+00:00", "Z"),
            "prefilled_from_title": self.prefilled,
        }


def fund_today(now: datetime) -> date:
    return now.astimezone(PARIS).date()


def _dossier(uow: PaymentsUnitOfWork, dossier_id: str) -> tuple[DossierRow, dict[str, Any]]:
    row = uow.dossiers.get(dossier_id)
    if row is None:
        raise NotFound(f"no such dossier: {dossier_id}", field="dossier_id")
    return row, json.loads(row.canonical_json)


def _locked_dossier(uow: PaymentsUnitOfWork, dossier_id: str) -> dict[str, Any]:
    """The dossier, locked until the transaction ends (PostgreSQL; SQLite serialises writers):
    two records for one dossier at once apply one after the other, never both from the same
    stale read."""
    uow.mandates.lock_dossier(dossier_id)
    return _dossier(uow, dossier_id)[1]


def _title_account(data: dict[str, Any], party: str) -> dict[str, Any] | None:
    account = data[party].get("bank_account")
    if account is None:
        return None
    return {"holder": account["holder"], "iban": account["iban"], "bic": account["bic"]}


def _locked_mandate(uow: PaymentsUnitOfWork, dossier_id: str) -> MandateRow | None:
    """The mandate, read after a collection run that holds it has committed (PostgreSQL)."""
    return uow.payments.mandates([dossier_id], for_update=True).get(dossier_id)


# --- views (what GET answers and the events carry) ---------------------------------------------


def mandate_view(dossier_id: str, data: dict[str, Any], row: MandateRow | None) -> dict[str, Any]:
    """The mandate as the back-office sees it: a pending one shows the account the title brought
    (a pre-fill, never a signature)."""
    if row is not None and row.status == SIGNED:
        return {
            "dossier_id": dossier_id,
            "status": SIGNED,
            "reference": row.reference,
            "signed_on": row.signed_on.isoformat() if row.signed_on else None,
            "method": row.method,
            "debit_day": row.collection_day or row.chosen_day,
            "account": {"holder": row.debtor_name, "iban": row.iban, "bic": row.bic},
            "prefilled_from_title": False,
            "amended_on": row.amended_on.isoformat() if row.amended_on else None,
            "first_collection_done": row.first_collection_done,
            "pending_amendment": row.pending_amendment,
        }
    prefill = (
        {"holder": row.debtor_name, "iban": row.iban, "bic": row.bic}
        if row is not None
        else _title_account(data, "debtor")
    )
    return {
        "dossier_id": dossier_id,
        "status": PENDING,
        "reference": row.reference if row is not None else mandate_reference(dossier_id),
        "signed_on": None,
        "method": None,
        "debit_day": None,
        "account": prefill,
        "prefilled_from_title": prefill is not None,
        "amended_on": None,
        "first_collection_done": False,
        "pending_amendment": None,
    }


def payout_view(dossier_id: str, data: dict[str, Any], row: PayoutAccountRow | None) -> dict[str, Any]:
    if row is not None:
        return {
            "dossier_id": dossier_id,
            "status": "recorded",
            "account": {"holder": row.holder, "iban": row.iban, "bic": row.bic},
            "prefilled_from_title": False,
            "recorded_at": row.recorded_at.isoformat().replace("+00:00", "Z"),
        }
    prefill = _title_account(data, "creditor")
    return {
        "dossier_id": dossier_id,
        "status": PENDING,
        "account": prefill,
        "prefilled_from_title": prefill is not None,
        "recorded_at": None,
    }


def show_mandate(store: PaymentsStore, dossier_id: str) -> dict[str, Any]:
    with store.read() as uow:
        _, data = _dossier(uow, dossier_id)
        return mandate_view(dossier_id, data, uow.payments.mandate(dossier_id))


def show_payout_account(store: PaymentsStore, dossier_id: str) -> dict[str, Any]:
    with store.read() as uow:
        _, data = _dossier(uow, dossier_id)
        return payout_view(dossier_id, data, uow.mandates.payout_account(dossier_id))


# --- the debtor's mandate ------------------------------------------------------------------------


def _signed(dossier_id: str, before: MandateRow | None, signature: Signature, now: datetime) -> MandateRow:
    account = signature.account
    return MandateRow(
        dossier_id=dossier_id,
        reference=before.reference if before is not None else mandate_reference(dossier_id),
        signed_on=signature.signed_on,
        debtor_name=account.holder,
        iban=account.iban,
        bic=account.bic,
        collection_day=before.collection_day if before is not None else None,
        chosen_day=signature.debit_day,
        # a new signature is a new mandate for the bank: its first collection is FRST (EPC016 AT-21)
        first_collection_done=False,
        pending_amendment=None,
        updated_at=now,
        status=SIGNED,
        method=signature.method,
    )


def _amended(
    row: MandateRow, account: Account, *, last_debited: DebtorAccount, day: int, on: date, now: datetime
) -> MandateRow:
    """The mandate `row` (already collected on) on `account`: same reference and date of signature;
    the next debit carries the amendment from the account its bank last debited (EPC130-08 AT-24,
    gateway.payments.mandates), so several changes between two collections amend from the last
    collected account, and a change back to it amends nothing."""
    assert row.signed_on is not None
    before = Mandate(row.reference, row.signed_on, last_debited)
    after, amendment = change_account(before, DebtorAccount(account.holder, account.iban, account.bic))
    moved = (after.account.iban, after.account.bic) != (row.iban, row.bic)
    return replace(
        row,
        debtor_name=after.account.name,
        iban=after.account.iban,
        bic=after.account.bic,
        chosen_day=day,
        pending_amendment=asdict(amendment) if amendment is not None else None,
        amended_on=on if moved else row.amended_on,
        updated_at=now,
    )


def _last_debited(uow: PaymentsUnitOfWork, row: MandateRow) -> DebtorAccount:
    found = uow.mandates.last_debited_account(row.dossier_id)
    return DebtorAccount(*found) if found is not None else DebtorAccount(row.debtor_name, row.iban, row.bic)


def _same(a: MandateRow, b: MandateRow) -> bool:
    return replace(a, updated_at=b.updated_at) == b


def _save_mandate(
    uow: PaymentsUnitOfWork, data: dict[str, Any], before: MandateRow | None, after: MandateRow, now: datetime
) -> Recorded:
    view = mandate_view(after.dossier_id, data, after)
    if before is not None and _same(before, after):
        return Recorded(view, changed=False)
    uow.payments.save_mandate(after)
    amended = before is not None and before.status == SIGNED and before.first_collection_done
    event = MANDATE_AMENDED if amended else MANDATE_SIGNED
    publish(uow.events, event, {"mandate": view}, at=now, dossier_id=after.dossier_id)
    return Recorded(view, changed=True)


def sign_mandate(
    store: PaymentsStore,
    dossier_id: str,
    *,
    holder: str,
    iban: str,
    bic: str | None,
    signed_on: str,
    method: str,
    debit_day: int | None,
    now: datetime,
) -> Recorded:
    """Record the mandate the debtor signed (or, on a mandate already collected on, the signed
    change of account). Raises NotFound for an unknown dossier, RecordViolation for bad input."""
    with store.transaction() as uow:
        data = _locked_dossier(uow, dossier_id)
        before = _locked_mandate(uow, dossier_id)
        used = before is not None and before.status == SIGNED and before.first_collection_done
        signature = check_signature(
            holder=holder,
            iban=iban,
            bic=bic,
            signed_on=signed_on,
            method=method,
            debit_day=debit_day,
            title_date=date.fromisoformat(data["title"]["date"]),
            today=fund_today(now),
            not_before=before.signed_on if used and before is not None else None,
        )
        if used and before is not None:
            after = _amended(
                before, signature.account, last_debited=_last_debited(uow, before),
                day=signature.debit_day, on=signature.signed_on, now=now,
            )  # fmt: skip
        else:
            after = _signed(dossier_id, before, signature, now)
        return _save_mandate(uow, data, before, after, now)


def change_debtor_account(
    store: PaymentsStore, dossier_id: str, *, iban: str, bic: str | None, holder: str | None, now: datetime
) -> dict[str, Any] | None:
    """The debtor moved the collections to another account, signed today: the mandate stays and
    the next debit carries the amendment. Returns the pending amendment (or None)."""
    with store.transaction() as uow:
        data = _locked_dossier(uow, dossier_id)
        row = _locked_mandate(uow, dossier_id)
        if row is None or row.status != SIGNED:
            raise RecordViolation(
                f"dossier {dossier_id} has no signed mandate yet: record the debtor's signature "
                "first (gateway mandates sign)",
                code=Code.MANDATE_PENDING,
                field="dossier_id",
            )
        account = check_account(holder or row.debtor_name, iban, bic)
        if row.first_collection_done:
            after = _amended(
                row, account, last_debited=_last_debited(uow, row), day=row.chosen_day,
                on=fund_today(now), now=now,
            )  # fmt: skip
        else:  # never collected on: the bank has not seen the mandate, nothing to amend
            after = replace(
                row, debtor_name=account.holder, iban=account.iban, bic=account.bic, updated_at=now
            )
        _save_mandate(uow, data, row, after, now)
        return after.pending_amendment


# --- the creditor's payout account -----------------------------------------------------------------


def record_payout_account(
    store: PaymentsStore, dossier_id: str, *, holder: str, iban: str, bic: str | None, now: datetime
) -> Recorded:
    """Record the account the creditor parent is paid on (payouts go there and nowhere else)."""
    with store.transaction() as uow:
        data = _locked_dossier(uow, dossier_id)
        account = check_account(holder, iban, bic)
        book = uow.mandates
        before = book.payout_account(dossier_id)
        if before is not None and (before.holder, before.iban, before.bic) == (
            account.holder,
            account.iban,
            account.bic,
        ):
            return Recorded(payout_view(dossier_id, data, before), changed=False)
        row = PayoutAccountRow(dossier_id, account.holder, account.iban, account.bic, now)
        book.save_payout_account(row)
        view = payout_view(dossier_id, data, row)
        publish(uow.events, PAYOUT_ACCOUNT_RECORDED, {"payout_account": view}, at=now, dossier_id=dossier_id)
        return Recorded(view, changed=True)


# --- what waits ------------------------------------------------------------------------------------


def _in_force(data: dict[str, Any], today: date) -> bool:
    end = data.get("end_date")
    return end is None or date.fromisoformat(end) >= today


def waiting(store: PaymentsStore, *, today: date) -> Iterator[WaitingDossier]:
    """Accepted dossiers still in force without a signed mandate (`mandate-pending`) or without a
    payout account (`no-payout-account`), in dossier id order, streamed."""
    with store.read() as uow:
        for page in uow.mandates.waiting_pages():
            for row in page:
                data = json.loads(row.canonical_json)
                if not _in_force(data, today):
                    continue
                reasons = tuple(
                    reason
                    for reason, missing in (
                        (MANDATE_PENDING, not row.mandate_signed),
                        (NO_PAYOUT_ACCOUNT, not row.payout_recorded),
                    )
                    if missing
                )
                prefilled = _title_account(data, "debtor") is not None
                yield WaitingDossier(row.dossier_id, reasons, row.received_at, prefilled)


@dataclass(frozen=True, slots=True)
class Mandates:
    """The mandate functions with the store and the clock given once (the HTTP edge's service)."""

    store: PaymentsStore
    clock: Clock

    def show(self, dossier_id: str) -> dict[str, Any]:
        return show_mandate(self.store, dossier_id)

    def show_payout_account(self, dossier_id: str) -> dict[str, Any]:
        return show_payout_account(self.store, dossier_id)

    def sign(
        self, dossier_id: str, *, holder: str, iban: str, bic: str | None, signed_on: str, method: str,
        debit_day: int | None,
    ) -> Recorded:  # fmt: skip
        return sign_mandate(
            self.store, dossier_id, holder=holder, iban=iban, bic=bic, signed_on=signed_on, method=method,
            debit_day=debit_day, now=self.clock(),
        )  # fmt: skip

    def record_payout_account(self, dossier_id: str, *, holder: str, iban: str, bic: str | None) -> Recorded:
        return record_payout_account(
            self.store, dossier_id, holder=holder, iban=iban, bic=bic, now=self.clock()
        )
