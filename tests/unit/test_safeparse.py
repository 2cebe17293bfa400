"""The hardened parsers refuse what could hurt, with our error types only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.errors import Code, MalformedPayload, PayloadTooLarge
from gateway.safeparse import ShapeLimits, parse_json, parse_xml


@pytest.mark.parametrize(
    "data",
    [
        b"1" * 5000,
        b'{"a": ' + b"9" * 5000 + b"}",
        b'{"a": NaN}',
        b'{"a": 1, "a": 2}',
        b"\xff\xfe{}",
        b"[" * 100000 + b"]" * 100000,
    ],
)
def test_json_refusals_are_malformed_payload(data: bytes) -> None:
    with pytest.raises(MalformedPayload):
        parse_json(data)


def test_json_fractions_are_decimal() -> None:
    assert parse_json(b'{"a": 150.10}') == {"a": Decimal("150.10")}


def test_size_cap_before_parsing() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_json(b"[]" * 100, max_bytes=10)
    with pytest.raises(PayloadTooLarge):
        parse_xml(b"<a/>" * 100, max_bytes=10)


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        b'<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>',
        '<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16"),
        b"",
        b"<a>",
    ],
)
def test_xml_refusals_are_malformed_payload(data: bytes) -> None:
    with pytest.raises(MalformedPayload):
        parse_xml(data)


# The shape check measures no text in a document of at most `max_text` bytes: no text node,
# attribute value or comment can hold more characters than the bytes it was read from (character
# references only shrink, and the entities that could expand come with a DTD, refused first).
SMALL = ShapeLimits(max_depth=3, max_nodes=10, max_text=40, max_name=8)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"<a>" + b"x" * 41 + b"</a>", ""),  # 48 bytes: measured, too long
        (b"<a><b/>" + b"&#x10000;" * 41 + b"</a>", "b"),  # the tail of b: 41 characters
        (b"<a><b c='" + b"y" * 41 + b"'/></a>", "b"),
        (b"<a><!--" + b"z" * 41 + b"--></a>", ""),
        (b"<a><b long_name='1'/></a>", "b"),  # an attribute name, in a small document too
        (b"<a><b><c><d/></c></b></a>", ""),  # depth 4
        (b"<a_very_long_name/>", ""),
    ],
)
def test_xml_shape_limits(data: bytes, field: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        parse_xml(data, limits=SMALL)
    assert caught.value.code == Code.LIMIT_EXCEEDED
    assert caught.value.issues[0].field == field


@pytest.mark.parametrize(
    "data",
    [
        b"<a>" + b"&#x10000;" * 4 + b"x" * 4 + b"</a>",  # 48 bytes, 8 characters
        b"<a><b c='" + b"y" * 20 + b"'/><!--" + b"z" * 20 + b"--></a>",
        b"<a>" + b"x" * 33 + b"</a>",  # 40 bytes: not measured, and within the limit anyway
    ],
)
def test_xml_within_shape_limits(data: bytes) -> None:
    assert parse_xml(data, limits=SMALL).getroot().tag == "a"
