"""Property: a generated valid title survives source format -> canonical dossier -> XML -> back."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.canonical import xml as canonical_xml
from gateway.canonical.schemas import json_schema, xsd_text
from gateway.domain.transmission import SourceKind, Transmission
from gateway.services.validation import validate
from tests.support.sources import render, transmissions

RECEIVED_AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
any_transmission = st.one_of(*(transmissions(s) for s in SourceKind))


@cache
def _xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(xsd_text().encode()))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_transmission)
def test_source_to_canonical_to_xml_and_back(t: Transmission) -> None:
    result = validate(t.source, render(t), received_at=RECEIVED_AT)
    assert result.transmission == t
    dossier = result.dossier
    _validator().validate(dossier)
    root = etree.fromstring(canonical_xml.to_xml(dossier))
    _xsd().assertValid(root)
    assert canonical_xml.from_element(root) == dossier
    assert dossier["source"]["kind"] == t.source.value
    assert len(dossier["children"]) == len(t.children)
