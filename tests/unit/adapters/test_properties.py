"""Property tests: hostile or broken bytes only ever raise our errors; valid data survives the wire."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.adapters import adapter_for
from gateway.domain import rules
from gateway.domain.transmission import SourceKind, Transmission
from gateway.errors import GatewayError
from tests.support.sources import render, transmissions
from tests.unit.adapters.helpers import example

SOURCES = st.sampled_from([s.value for s in SourceKind])
EXAMPLE_BYTES = {
    "greffe": example("greffe-1.xml").encode(),
    "notaire": example("notaire-1.xml").encode(),
    "avocat": example("avocat-1.json").encode(),
}
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_our_error(source: str, data: bytes) -> Transmission | None:
    """The adapter either reads the bytes or raises a GatewayError; anything else fails the test."""
    try:
        return adapter_for(source).parse(data)
    except GatewayError as error:
        failed = error
    assert failed.issues
    assert all(i.code for i in failed.issues)
    return None


@QUICK
@given(source=SOURCES, data=st.binary(max_size=2000))
def test_random_bytes(source: str, data: bytes) -> None:
    parse_or_our_error(source, data)


@QUICK
@given(source=SOURCES, cut=st.integers(min_value=0), data=st.data())
def test_truncated_examples(source: str, cut: int, data: st.DataObject) -> None:
    valid = EXAMPLE_BYTES[source]
    end = cut % len(valid)
    start = data.draw(st.integers(0, end))
    if end < len(valid.rstrip()):  # cutting only the final newline leaves a valid document
        assert parse_or_our_error(source, valid[:end]) is None
    parse_or_our_error(source, valid[start:end])


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _nodes(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _nodes(child, (*path, i))
    return found


@QUICK
@given(data=st.data(), value=JSON_VALUES)
def test_avocat_wrong_types_anywhere(data: st.DataObject, value: Any) -> None:
    doc = json.loads(EXAMPLE_BYTES["avocat"])
    path = data.draw(st.sampled_from(_nodes(doc)[1:]))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    parse_or_our_error("avocat", json.dumps(doc).encode())


@QUICK
@given(source=st.sampled_from(["greffe", "notaire"]), data=st.data(), text=st.text(max_size=30))
def test_xml_wrong_values_anywhere(source: str, data: st.DataObject, text: str) -> None:
    root = etree.fromstring(EXAMPLE_BYTES[source])
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    target = data.draw(st.sampled_from(elements))
    cleaned = "".join(c for c in text if c.isprintable() and c not in "\ud800\udfff")
    try:
        target.text = cleaned
    except ValueError:  # not XML-compatible text: lxml refuses it before we could send it
        return
    if data.draw(st.booleans()) and target.getparent() is not None:
        target.getparent().remove(target)  # type: ignore[union-attr]
    parse_or_our_error(source, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(SourceKind)).flatmap(transmissions))
def test_generated_transmission_survives_its_wire_format(transmission: Transmission) -> None:
    assert adapter_for(transmission.source).parse(render(transmission)) == transmission


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(SourceKind)).flatmap(transmissions))
def test_generated_transmissions_pass_the_rules(transmission: Transmission) -> None:
    # the strategies promise plausible data: no rule refuses it on the reference day
    found = rules.check(transmission, dt.date(2026, 11, 23))
    assert [i for i in found if i.severity == "error"] == []
