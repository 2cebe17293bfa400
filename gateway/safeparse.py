"""Hardened parsing of untrusted bytes: XML without DTD, entities or network; JSON without floats.

Every inbound document (source payloads, bank reports) goes through here. The limits answer the
usual attacks: a size cap before any parsing, no DTD (hence no external entity, no billion laughs),
no network access, no huge-tree mode, and JSON numbers as `Decimal` so money never becomes a float.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from lxml import etree

from gateway.errors import Code, MalformedPayload, PayloadTooLarge

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"the payload is {len(data)} bytes, more than the limit of {max_bytes} bytes",
            code=Code.PAYLOAD_TOO_LARGE,
        )


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse untrusted XML bytes; refuse oversize documents, DTDs, entities and bad encodings."""
    check_size(data, max_bytes)
    if not data.strip():
        raise MalformedPayload("the payload is empty")
    # UTF-8 only (docs/contract.md "Conventions"): this also keeps UTF-16/32 documents from slipping
    # past the scan below.
    if b"\x00" in data:
        raise MalformedPayload("the XML must be encoded in UTF-8 (NUL bytes found)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"the XML is not valid UTF-8 (byte {exc.start})") from None
    # Refused before libxml2 sees it: even with load_dtd off, libxml2 reads an external subset.
    # A literal "<!DOCTYPE" or "<!ENTITY" cannot occur in our documents outside a CDATA section.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise MalformedPayload("a document type declaration (DTD) or entity is not allowed")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        raise MalformedPayload(f"not well-formed XML: {exc.msg}") from None
    except ValueError as exc:  # e.g. unicode strings with an encoding declaration
        raise MalformedPayload(f"not well-formed XML: {exc}") from None
    docinfo = tree.docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise MalformedPayload("a document type declaration (DTD) is not allowed")
    if (docinfo.encoding or "UTF-8").upper() not in {"UTF-8", "UTF8"}:
        raise MalformedPayload(f"the XML must be encoded in UTF-8, not {docinfo.encoding}")
    return tree


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise MalformedPayload(f"the JSON object has the key {key!r} twice", field=key)
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise MalformedPayload(f"{name} is not a JSON number")


def parse_json(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Parse untrusted JSON bytes (UTF-8); numbers with a fraction become Decimal, never float."""
    check_size(data, max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"the JSON is not valid UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise MalformedPayload(
            f"not well-formed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise MalformedPayload("the JSON is nested too deeply") from None
    except ValueError:  # Python's guard against integers of more than 4,300 digits
        raise MalformedPayload("the JSON holds a number too long to read") from None
