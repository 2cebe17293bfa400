"""The back-office's view of a dossier's money: the ledger per month and per child, with the ASF."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from gateway.errors import ConfigurationError, NotFound
from gateway.payments.follow_up import legal_day
from gateway.services.intake import IntakeServices
from gateway.store.ledger import read_ledger
from gateway.transport.http.deps import provide
from gateway.transport.http.identity import Caller, Role, require_role

router = APIRouter(tags=["ledger"])
IntakeDep = Annotated[IntakeServices, Depends(provide(IntakeServices))]
BackOffice = Annotated[Caller, Depends(require_role(Role.BACK_OFFICE))]


def _child(child: int, due: int, paid: int, *figures: int) -> dict[str, object]:
    complement, net, recoverable = figures
    return {
        "child": child,
        "due_cents": due,
        "paid_cents": paid,
        "unpaid_cents": due - paid,
        "asf_cents": 20199,
        "asf_complement_cents": complement,
        "asf_complement_net_cents": net,
        "recoverable_cents": recoverable,
        "below_threshold": False,
    }


# Two children, 180 € and 150 € due, 50 € paid in December 2026 (shared 27.27 / 22.73 €): each
# child gets ASF − paid, recoverable up to its unpaid pension.
_MONTH_CHILDREN = [_child(0, 18000, 2727, 17472, 17384, 15273), _child(1, 15000, 2273, 17926, 17836, 12727)]
_EXAMPLE = {
    "dossier_id": "DOS-0A1B2C3D4E5F60718293A4B5",
    "as_of": "2026-12-20",
    "due_cents": 33000,
    "paid_cents": 5000,
    "arrears_cents": 28000,
    "prescribed_cents": 0,
    "asf_complement_cents": 35398,
    "asf_complement_net_cents": 35220,
    "recoverable_cents": 28000,
    "children": [
        {k: v for k, v in c.items() if k not in ("asf_cents", "below_threshold")} for c in _MONTH_CHILDREN
    ],
    "months": [
        {
            "period": "2026-12",
            "due_on": "2026-12-10",
            "due_cents": 33000,
            "paid_cents": 5000,
            "unpaid_cents": 28000,
            "status": "partly-paid",
            "reason": None,
            "asf_complement_cents": 35398,
            "asf_complement_net_cents": 35220,
            "recoverable_cents": 28000,
            "asf_unavailable": None,
            "children": _MONTH_CHILDREN,
            "end_to_end_ids": ["DD202612-0A1B2C3D4E5F60718293A4B5"],
            "prescription_date": "2031-12-10",
            "prescribed": False,
            "failed_on": "2026-12-11",
            "notice_due_by": "2026-12-26",
            "payment_due_by": "2027-01-10",
            "recovery_from": "2027-01-11",
        }
    ],
}


@router.get(
    "/v1/dossiers/{dossier_id}/ledger",
    summary="Ledger of a dossier per month and per child: due, paid, unpaid, ASF complement, recoverable",
    description=(
        "For every month with a debit: the day it fell due (`due_on`, the debit's collection date), "
        "what was due (the sum of the children's dues), what the bank collected net of returns, the "
        "EPC reason of a reject or return with its follow-up (`recover`, `fix-data`, `retry`), and "
        "one line per child: its due, its share of the payment (pro rata of the dues, art. 1342-10 "
        "C. civ.), and once the month is final its ASF complement (ASF − paid when paid < ASF, "
        "L. 523-1 I 4° CSS; not paid under 15 €, CAF practice; `_net_` amounts are what the family "
        "receives, net of the 0.5 % CRDS) and the recoverable part min(complement, due − paid). "
        "`asf_unavailable` names the error (`amounts-not-published`, `amounts-unknown`) when the "
        "ASF amounts of that month are not in the table. A month is owed for five years after it "
        "fell due (`prescription_date`, art. 2224 C. civ.); past it, it is `prescribed` and leaves "
        "the arrears. Totals for the dossier and per child. Amounts in euro cents.\n\n"
        "Follow-up of an unpaid or partly paid month that is not prescribed (R. 582-8 CSS: a notice "
        "to pay within 15 days, then forced recovery), as ISO dates in calendar days, else null: "
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
        connection = getattr(uow, "connection", None)
        if connection is None:
            raise ConfigurationError("the ledger needs the SQL store", field="store")
        ledger = read_ledger(connection, dossier_id, as_of=legal_day(intake.clock()))
    if ledger is None:
        raise NotFound(f"no dossier {dossier_id}", field="dossier_id")
    return JSONResponse(ledger.to_json())
