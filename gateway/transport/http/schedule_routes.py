"""The back-office's view of what a dossier owes, month by month and child by child."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from gateway.services.schedule import Schedules
from gateway.transport.http.deps import provide
from gateway.transport.http.identity import Caller, Role, require_role

router = APIRouter(tags=["schedule"])
SchedulesDep = Annotated[Schedules, Depends(provide(Schedules))]
BackOffice = Annotated[Caller, Depends(require_role(Role.BACK_OFFICE))]

_INDEX = {
    "series": "INSEE-001763852",
    "base_value": "113.86",
    "base_period": "2023-01",
    "value": "117.16",
    "value_period": "2024-01",
    "revalued_on": "2024-03-20",
    "monthly_cents": 15435,
}
_EXAMPLE = {
    "dossier_id": "DOS-SJY6AOBVQJWTYNNQ",
    "from": "2024-04",
    "to": "2025-04",
    "months": [
        {
            "period": "2024-04",
            "due_cents": 15435,
            "held": False,
            "children": [
                {
                    "child": 0,
                    "title_cents": 15000,
                    "due_cents": 15435,
                    "owed_from": "2024-04-01",
                    "owed_to": "2024-04-30",
                    "index": _INDEX,
                    "held": None,
                }
            ],
        },
        {
            "period": "2025-04",
            "due_cents": None,
            "held": True,
            "children": [
                {
                    "child": 0,
                    "title_cents": 15000,
                    "due_cents": None,
                    "held": {
                        "code": "index-missing",
                        "field": "children[0].indexation",
                        "message": "no value of index INSEE-001763852 for 2025-01 (needed for the "
                        "revaluation of 2025-03-20): the month is held, not debited; import the index "
                        "with `gateway indices import`",
                    },
                }
            ],
        },
    ],
}


@router.get(
    "/v1/dossiers/{dossier_id}/schedule",
    summary="What a dossier owes per month and per child, after revaluation, with the index used",
    description=(
        "For each month from `from` to `to` (YYYY-MM, both included): each child that owes something "
        "that month (from its own effective date to the title's end date; a month covered in part is "
        "owed in proportion of its days), the title's amount and the amount due after revaluation "
        "(art. L. 582-1 I CSS; the title's clause, art. 1074-4 II 6° CPC), with the index values used "
        "and their months. A month whose revaluation needs an index value the gateway does not have "
        "is held (`held: true`, no total, the child's `held.code` is `index-missing`): it is not "
        "debited until the value is imported. Amounts in euro cents. A bad `from` or `to` is a 400 "
        "problem (`invalid-period`) naming the parameter."
    ),
    responses={
        200: {"content": {"application/json": {"example": _EXAMPLE}}},
        400: {"description": "`from` or `to` missing, not YYYY-MM, or `to` before `from`"},
        404: {"description": "no such dossier"},
    },
)
def get_schedule(
    dossier_id: str,
    schedules: SchedulesDep,
    caller: BackOffice,
    start: Annotated[str | None, Query(alias="from", description="First month, YYYY-MM")] = None,
    end: Annotated[str | None, Query(alias="to", description="Last month, YYYY-MM (included)")] = None,
) -> JSONResponse:
    return JSONResponse(schedules.of(dossier_id, start, end))
