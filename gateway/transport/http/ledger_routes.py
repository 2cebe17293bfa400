"""The back-office's view of a dossier's money: the arrears ledger and the ASF to advance, by month."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from gateway.errors import ConfigurationError, NotFound
from gateway.intake import IntakeServices
from gateway.payments.ledger import build_ledger
from gateway.store.bank import debit_report_times, dossier_debits
from gateway.transport.http.deps import provide
from gateway.transport.http.identity import Caller, Role, require_role

router = APIRouter(tags=["ledger"])
IntakeDep = Annotated[IntakeServices, Depends(provide(IntakeServices))]
BackOffice = Annotated[Caller, Depends(require_role(Role.BACK_OFFICE))]

_EXAMPLE = {
    "dossier_id": "DOS-0A1B2C3D4E5F60718293A4B5",
    "due_cents": 30000,
    "paid_cents": 12000,
    "arrears_cents": 18000,
    "time_barred_cents": 0,
    "asf_advance_cents": 8178,
    "months": [
        {
            "period": "2026-11",
            "due_cents": 30000,
            "paid_cents": 12000,
            "unpaid_cents": 18000,
            "status": "partly-paid",
            "reason": None,
            "asf_advance": {
                "kind": "differential",
                "amount_cents": 8178,
                "recoverable_cents": 8178,
                "asf_cents": 20178,
            },
            "end_to_end_ids": ["DD202611-0A1B2C3D4E5F60718293A4B5"],
            "time_barred": False,
            "failed_on": "2026-11-06",
            "notice_due_by": "2026-11-21",
            "payment_due_by": "2026-12-06",
            "recovery_from": "2026-12-07",
        }
    ],
}


@router.get(
    "/v1/dossiers/{dossier_id}/ledger",
    summary="Arrears ledger of a dossier: due, paid and unpaid by month, with the ASF to advance",
    description=(
        "For every month with a debit: what was due, what the bank collected net of returns, the EPC "
        "reason of a reject or return with its follow-up (`recover`, `fix-data`, `retry`), and for an "
        "unpaid or partly paid month the ASF advance of L. 581-2 CSS (full ASF on total default, else "
        "min(pension, ASF) minus what was paid, nothing under 15 €). Months more than 24 months old are "
        "time-barred and left out of the arrears. Amounts in euro cents.\n\n"
        "Follow-up of an unpaid or partly paid month that is not time-barred (R. 582-8 CSS: a notice to "
        "pay within 15 days, then forced recovery), as ISO dates in calendar days, else null: "
        "`failed_on`, the day (Paris time) the gateway imported the bank report that left the month "
        "unpaid (reject, return or short credit); `notice_due_by` = `failed_on` + 15 days, the last "
        "day to send the notice to pay; `payment_due_by` = `notice_due_by` + 15 days, the end of the "
        "15 days the notice gives the debtor when sent on its last day; `recovery_from` = "
        "`payment_due_by` + 1 day, the first day forced recovery may start if the debtor has not paid."
    ),
    responses={
        200: {"content": {"application/json": {"example": _EXAMPLE}}},
        404: {"description": "no such dossier"},
    },
)
def get_ledger(dossier_id: str, intake: IntakeDep, caller: BackOffice) -> JSONResponse:
    with intake.store.read() as uow:
        if uow.dossiers.get(dossier_id) is None:
            raise NotFound(f"no dossier {dossier_id}", field="dossier_id")
        connection = getattr(uow, "connection", None)
        if connection is None:
            raise ConfigurationError("the ledger needs the SQL store", field="store")
        today = intake.clock().date()
        debits = dossier_debits(connection, dossier_id)
        reported = debit_report_times(connection, dossier_id)
        ledger = build_ledger(dossier_id, debits, as_of=today, reported_at=reported)
    return JSONResponse(ledger.to_json())
