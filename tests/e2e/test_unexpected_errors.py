"""An unexpected exception is a 500 problem, and its message (maybe personal data) is not logged."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from fastapi import APIRouter

from gateway.transport.http import Authenticator, RoleMap, create_app

SECRET = "NIR 1 84 12 76 451 089 46"


def test_unexpected_error_is_a_problem_without_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = APIRouter()

    @router.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError(f"could not map {SECRET}")

    app = create_app(authenticator=Authenticator(RoleMap()), extra_routers=[router])
    # raise_app_exceptions: if anything escaped the app, the test would see it here.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/test/boom")

    with caplog.at_level(logging.DEBUG):
        answer = asyncio.run(call())
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("internal-error")
    assert SECRET not in answer.text
    assert "RuntimeError" in caplog.text
    assert "boom" in caplog.text  # the stack's function names stay, for debugging
    assert SECRET not in caplog.text
