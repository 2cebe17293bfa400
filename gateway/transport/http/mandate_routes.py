"""The back-office records a dossier's signed SEPA mandate and the creditor's payout account
(gateway.services.mandates; docs/mandates.md). Bad input is a 422 problem naming each field."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import ConfigurationError
from gateway.services.intake import IntakeServices
from gateway.services.mandates import (
    record_payout_account,
    show_mandate,
    show_payout_account,
    sign_mandate,
)
from gateway.store import SqlStore
from gateway.transport.http.deps import provide
from gateway.transport.http.identity import Caller, Role, require_role

router = APIRouter(tags=["mandates"])
IntakeDep = Annotated[IntakeServices, Depends(provide(IntakeServices))]
BackOffice = Annotated[Caller, Depends(require_role(Role.BACK_OFFICE))]


class SignedMandate(BaseModel):
    """The mandate as the debtor signed it (checked by the gateway, each problem naming its field)."""

    model_config = ConfigDict(extra="forbid")

    holder: str = Field(max_length=200, description="Account holder, as on the mandate (SEPA name, ≤ 70)")
    iban: str = Field(max_length=50, description="IBAN of a SEPA-zone account (spaces allowed)")
    bic: str | None = Field(default=None, max_length=20, description="BIC (optional)")
    signed_on: str = Field(
        max_length=10,
        description="Date the debtor signed (YYYY-MM-DD; EPC016 AT-25): not in the future, not before "
        "the title; on a mandate already collected on, the date the debtor signed the change",
    )
    method: str = Field(max_length=16, description="`paper` or `electronic`")
    debit_day: int | None = Field(default=None, description="1, 10 or 15, the debtor's choice (default 10)")


class PayoutAccount(BaseModel):
    """The creditor parent's account: payouts go there and nowhere else."""

    model_config = ConfigDict(extra="forbid")

    holder: str = Field(max_length=200)
    iban: str = Field(max_length=50)
    bic: str | None = Field(default=None, max_length=20)


_MANDATE_EXAMPLE = {
    "dossier_id": "DOS-BG4LC4BOWWEEYNVE",
    "status": "signed",
    "reference": "ARIPA-5Q3G7M2K4X6T8B1N9C0D2F4H",
    "signed_on": "2026-11-25",
    "method": "paper",
    "debit_day": 10,
    "account": {"holder": "M. Thomas Dubois", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP"},
    "prefilled_from_title": False,
    "amended_on": None,
    "first_collection_done": False,
    "pending_amendment": None,
}
_PAYOUT_EXAMPLE = {
    "dossier_id": "DOS-BG4LC4BOWWEEYNVE",
    "status": "recorded",
    "account": {"holder": "Mme Sophie Moreau", "iban": "FR1420041010050500013M02606", "bic": "PSSTFRPPXXX"},
    "prefilled_from_title": False,
    "recorded_at": "2026-11-25T09:00:00Z",
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "not a JSON object of the documented fields (malformed-payload)"},
    403: {"description": "only the back-office records mandates and payout accounts"},
    404: {"description": "no such dossier"},
    422: {
        "description": "a field the rules refuse: invalid-iban, sepa-iban-outside-sepa, invalid-bic, "
        "invalid-date, invalid-debit-day, invalid-mandate-method, sepa-charset, sepa-name-too-long"
    },
}


def _store(intake: IntakeServices) -> SqlStore:
    if not isinstance(intake.store, SqlStore):
        raise ConfigurationError("mandates need the SQL store", field="store")
    return intake.store


@router.get(
    "/v1/dossiers/{dossier_id}/mandate",
    summary="The dossier's SEPA mandate: pending (pre-filled from the title, if it brought bank "
    "details) or signed",
    responses={200: {"content": {"application/json": {"example": _MANDATE_EXAMPLE}}}, 404: _ERRORS[404]},
)
async def get_mandate(dossier_id: str, intake: IntakeDep, caller: BackOffice) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(show_mandate, _store(intake), dossier_id))


@router.put(
    "/v1/dossiers/{dossier_id}/mandate",
    summary="Record the SEPA mandate the debtor signed; from then on the dossier is collected",
    description=(
        "Until this is recorded the mandate is pending and the monthly collection leaves the dossier "
        "out (`mandate-pending`): the parents' consent to transmit bank details (art. R. 582-4-1 CSS) "
        "is not a mandate. The first debit is FRST, then RCUR. On a mandate already collected on, a "
        "new account is an amendment carried by the next debit (EPC130-08 AT-24: the original IBAN "
        "at the same bank, `SMNDA` at another); the reference and date of signature stay. Sending "
        "the same record again changes nothing. Events: `mandate.signed`, `mandate.amended`."
    ),
    responses={200: {"content": {"application/json": {"example": _MANDATE_EXAMPLE}}}, **_ERRORS},
)
async def put_mandate(
    dossier_id: str, body: SignedMandate, intake: IntakeDep, caller: BackOffice
) -> JSONResponse:
    recorded = await run_in_threadpool(
        lambda: sign_mandate(
            _store(intake), dossier_id, holder=body.holder, iban=body.iban, bic=body.bic,
            signed_on=body.signed_on, method=body.method, debit_day=body.debit_day, now=intake.clock(),
        )
    )  # fmt: skip
    return JSONResponse(recorded.view)


@router.get(
    "/v1/dossiers/{dossier_id}/payout-account",
    summary="The creditor's payout account: recorded, or pending (pre-filled from the title)",
    responses={200: {"content": {"application/json": {"example": _PAYOUT_EXAMPLE}}}, 404: _ERRORS[404]},
)
async def get_payout_account(dossier_id: str, intake: IntakeDep, caller: BackOffice) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(show_payout_account, _store(intake), dossier_id))


@router.put(
    "/v1/dossiers/{dossier_id}/payout-account",
    summary="Record the account the creditor parent is paid on; payouts go there only",
    description=(
        "Until it is recorded, what is collected for the dossier is not paid out: the payout run "
        "lists the dossier (`no-payout-account`) and pays it at the first run after. Event: "
        "`payout_account.recorded`."
    ),
    responses={200: {"content": {"application/json": {"example": _PAYOUT_EXAMPLE}}}, **_ERRORS},
)
async def put_payout_account(
    dossier_id: str, body: PayoutAccount, intake: IntakeDep, caller: BackOffice
) -> JSONResponse:
    recorded = await run_in_threadpool(
        lambda: record_payout_account(
            _store(intake), dossier_id, holder=body.holder, iban=body.iban, bic=body.bic, now=intake.clock()
        )
    )
    return JSONResponse(recorded.view)
