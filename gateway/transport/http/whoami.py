"""`GET /v1/whoami`: the role the gateway sees in the caller's certificate (for integrators)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.transport.http.identity import CallerDep

router = APIRouter(tags=["integration"])


class WhoAmI(BaseModel):
    role: str
    subject: str
    fingerprint_sha256: str
    via: str


@router.get(
    "/v1/whoami",
    summary="The caller's role, as read from its client certificate (any role)",
    response_model=WhoAmI,
    responses={401: {"description": "no client certificate, or one that maps to no role"}},
)
async def whoami(caller: CallerDep) -> WhoAmI:
    return WhoAmI(
        role=caller.role.value,
        subject=caller.subject,
        fingerprint_sha256=caller.fingerprint_sha256,
        via=caller.via,
    )
