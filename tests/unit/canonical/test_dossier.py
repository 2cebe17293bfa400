"""The canonical dossier: contract keys, JSON Schema and XSD validity, XML round trip, stable ids."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree

from gateway.canonical import xml as canonical_xml
from gateway.canonical.dossier import build_dossier, dedupe_key, dossier_id_for
from gateway.canonical.schemas import json_schema, json_schema_text, xsd_text
from gateway.domain.transmission import Transmission
from gateway.errors import Issue
from tests.unit.domain import factories as f

ROOT = Path(__file__).resolve().parents[3]
RECEIVED = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TOP_KEYS = [
    "schema", "dossier_id", "received_at", "source", "title", "intermediation", "violence_alleged",
    "handling_body", "debtor", "creditor", "bank_details_consent", "children", "monthly_total",
    "end_date", "attachments", "warnings",
]  # fmt: skip
SAMPLES = [f.greffe(), f.notaire(), f.avocat()]


def dossier(t: Transmission) -> dict[str, Any]:
    return build_dossier(t, received_at=RECEIVED, warnings=[Issue("late-transmission", "Decision/Date", "x")])


@pytest.mark.parametrize("t", SAMPLES)
def test_top_level_keys_are_the_contracts(t: Transmission) -> None:
    assert list(dossier(t)) == TOP_KEYS


@pytest.mark.parametrize("t", SAMPLES)
def test_dossier_is_valid_against_its_json_schema(t: Transmission) -> None:
    jsonschema.Draft202012Validator(json_schema()).validate(dossier(t))


@pytest.mark.parametrize("t", SAMPLES)
def test_xml_is_valid_against_xsd_and_round_trips(t: Transmission) -> None:
    d = dossier(t)
    data = canonical_xml.to_xml(d)
    schema = etree.XMLSchema(etree.fromstring(xsd_text().encode()))
    root = etree.fromstring(data)
    schema.assertValid(root)
    assert canonical_xml.from_element(root) == d


def test_amounts_are_decimal_strings_and_times_utc() -> None:
    d = dossier(f.greffe())
    assert d["monthly_total"] == "270.50"
    assert [c["monthly_amount"] for c in d["children"]] == ["150.00", "120.50"]
    assert d["received_at"] == "2026-11-23T09:30:00Z"


def test_absent_information_is_null() -> None:
    d = dossier(f.greffe())
    assert d["end_date"] is None
    assert d["debtor"]["bank_account"] is None
    assert d["debtor"]["agricultural_scheme"] is None
    assert d["bank_details_consent"] is None


def test_msa_handles_agricultural_scheme() -> None:
    assert dossier(f.greffe())["handling_body"] == "CAF"
    t = f.greffe(creditor=f.creditor(agricultural_scheme=True))
    assert dossier(t)["handling_body"] == "MSA"


def test_attachments_carry_digest_not_bytes() -> None:
    (att,) = dossier(f.greffe())["attachments"]
    assert att == {
        "kind": "EXTRAIT_EXECUTOIRE",
        "media_type": "application/pdf",
        "sha256": hashlib.sha256(f.PDF).hexdigest(),
        "size": len(f.PDF),
    }


def test_reinstatement_is_carried() -> None:
    d = dossier(f.with_title(f.greffe(), reinstatement=True))
    assert (d["intermediation"], d["title"]["reinstatement"]) == ("reinstated", True)


def test_same_title_same_id_other_reference_same_minute() -> None:
    a = f.greffe()
    b = replace(a, reference="GR-OTHER")
    assert dedupe_key(a) == dedupe_key(b)
    assert dossier(a)["dossier_id"] == dossier(b)["dossier_id"]
    c = f.with_title(a, minute_number="26/09999")
    assert dossier(c)["dossier_id"] != dossier(a)["dossier_id"]


def test_notaire_dedupe_uses_reference() -> None:
    a = f.notaire()
    assert dedupe_key(a) != dedupe_key(replace(a, reference="NOT-OTHER"))
    assert dossier_id_for(dedupe_key(a)).startswith("DOS-")


def test_committed_schemas_are_up_to_date() -> None:
    assert (ROOT / "schemas/dossier-1.schema.json").read_text(encoding="utf-8") == json_schema_text(), (
        "run `gateway dossier-schemas` to regenerate"
    )
    assert (ROOT / "schemas/dossier-1.xsd").read_text(encoding="utf-8") == xsd_text()
