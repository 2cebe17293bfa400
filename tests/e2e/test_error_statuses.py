"""Errors raised behind a route leave the app with the status of gateway.problem's table.

`ArchiveCorrupt` and `BankChannelError` used to come out as 400 (the caller's fault); an error of a
kind nobody mapped is now a 500 problem, never a 4xx.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query

from gateway.archive.errors import ArchiveCorrupt
from gateway.errors import GatewayError, NotFound, RuleViolation
from gateway.infra.bank_channel import BankChannelError
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

    @router.get("/test/count")
    async def count(n: Annotated[int, Query(ge=1)]) -> dict[str, int]:
        return {"n": n}

    return create_app(authenticator=Authenticator(RoleMap()), extra_routers=[router])


def _get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=True)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    return asyncio.run(call())


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
    answer = _get(f"/test/raise/{name}")
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == status
    assert body["type"] == "urn:fr:ifpa:problem:" + code
    assert body["errors"][0]["code"] == code
    assert body["instance"] == f"/test/raise/{name}"


def test_a_malformed_parameter_is_a_400_problem_as_the_document_says() -> None:
    answer = _get("/test/count?n=0")
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["code"] for e in answer.json()["errors"]] == ["malformed-payload"]
    declared = _app().openapi()["paths"]["/test/count"]["get"]["responses"]
    assert "422" not in declared
    assert "application/problem+json" in declared["400"]["content"]


def test_the_openapi_document_declares_every_error_as_problem_json() -> None:
    document = _app().openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {
        "type", "title", "status", "detail", "errors",
    }  # fmt: skip
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")) and path != "/readyz":
                    assert list(answer["content"]) == ["application/problem+json"], (method, path, status)
                if status == "422":  # a rule refusing what was sent, never a parameter's form
                    assert answer["description"] != "Validation Error", (method, path)
