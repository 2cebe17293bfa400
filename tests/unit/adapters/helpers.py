"""Helpers for the adapter tests: the examples, small edits of them, and the issues an input raises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.adapters import adapter_for
from gateway.errors import GatewayError

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "schemas" / "examples"
GOLDEN = ROOT / "tests" / "golden"


def example(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


def edit(text: str, old: str, new: str, count: int = 1) -> str:
    """Replace `old` (which must be there) by `new`, `count` times."""
    assert text.count(old) >= count, f"{old!r} not found {count} time(s)"
    return text.replace(old, new, count)


def avocat_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(example("avocat-1.json"))
    return doc


def failure(source: str, data: bytes | str, **kwargs: Any) -> GatewayError:
    """The error the adapter raises for `data` (the test fails if it accepts it)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with pytest.raises(GatewayError) as caught:
        adapter_for(source).parse(payload, **kwargs)
    return caught.value


def found(source: str, data: bytes | str, **kwargs: Any) -> list[tuple[str, str]]:
    """(code, field) of every issue the adapter reports for `data`."""
    return [(str(i.code), i.field) for i in failure(source, data, **kwargs).issues]


def json_bytes(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")
