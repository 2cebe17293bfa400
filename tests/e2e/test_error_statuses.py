"""Errors raised behind a route leave the app with the status of gateway.problem's table.

`ArchiveCorrupt` and `BankChannelError` used to come out as 400 (the caller's fault); an error of a
kind nobody mapped is now a 500 problem, never a 4xx.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from gateway.archive.errors import ArchiveCorrupt
from gateway.errors import GatewayError, NotFound, RuleViolation
from gateway.transport.bank import BankChannelError
from gateway.transport.http import Authenticator, RoleMap, create_app


class NobodyMappedThis(GatewayError):
    default_code = "nobody-mapped-this"


RAISED: dict[str, GatewayError] = {
    "archive": ArchiveCorrupt("journal entry 7: digest differs", field="journal[7]"),
    "bank": BankChannelError("the bank refused the upload: HTTP 503"),
    "unmapped": NobodyMappedThis("something new went wrong"),
    "rule": RuleViolation("a rule refuses it", field="Decision/TypeTitre"),
    "missing": NotFound("no dossier DOS-X", field="dossier_id"),
}


def _app() -> FastAPI:
    router = APIRouter()

    @router.get("/test/raise/{name}")
    async def raise_it(name: str) -> None:
        raise RAISED[name]

    return create_app(authenticator=Authenticator(RoleMap()), extra_routers=[router])


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("archive", 500, "archive-corrupt"),
        ("bank", 502, "bank-channel-failed"),
        ("unmapped", 500, "nobody-mapped-this"),
        ("rule", 422, "rule-violation"),
        ("missing", 404, "not-found"),
    ],
)
def test_status_comes_from_the_table(name: str, status: int, code: str) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=True)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(f"/test/raise/{name}")

    answer = asyncio.run(call())
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == status
    assert body["type"] == "urn:fr:ifpa:problem:" + code
    assert body["errors"][0]["code"] == code
    assert body["instance"] == f"/test/raise/{name}"
