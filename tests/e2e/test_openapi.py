"""openapi/openapi.json is what the app declares: regenerate it with `make openapi`."""

from __future__ import annotations

from pathlib import Path

from gateway.transport.http.openapi import openapi_json

STORED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_stored_openapi_is_up_to_date() -> None:
    assert STORED.read_text(encoding="utf-8") == openapi_json(), (
        "openapi/openapi.json is stale: run `make openapi` and commit it"
    )
