"""Golden tests: each valid input of each source gives exactly its expected canonical dossier JSON.

Regenerate the expected files after a deliberate change with `GOLDEN_UPDATE=1 make test` and review
the diff like any other code change.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.services.validation import validate

HERE = Path(__file__).resolve().parent
RECEIVED_AT = datetime(2026, 11, 23, tzinfo=UTC)  # `gateway validate --today 2026-11-23`
INPUTS = sorted(
    p
    for source in ("greffe", "notaire", "avocat")
    for p in (HERE / source).glob("*")
    if p.suffix in {".xml", ".json"} and not p.name.endswith(".expected.json")
)


def expected_path(path: Path) -> Path:
    return path.with_name(path.stem + ".expected.json")


def test_there_are_several_inputs_per_source() -> None:
    for source in ("greffe", "notaire", "avocat"):
        assert len([p for p in INPUTS if p.parent.name == source]) >= 3, source


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_dossier(path: Path) -> None:
    dossier = validate(path.parent.name, path.read_bytes(), received_at=RECEIVED_AT).dossier
    text = json.dumps(dossier, indent=2, ensure_ascii=False) + "\n"
    target = expected_path(path)
    if os.environ.get("GOLDEN_UPDATE") == "1":
        target.write_text(text, encoding="utf-8")
    assert target.exists(), f"no golden file {target.name}: run with GOLDEN_UPDATE=1"
    assert text == target.read_text(encoding="utf-8")
