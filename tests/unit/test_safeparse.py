"""The hardened parsers refuse what could hurt, with our error types only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.errors import MalformedPayload, PayloadTooLarge
from gateway.safeparse import parse_json, parse_xml


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
