"""Hardened parsing of untrusted bytes: XML without DTD, entities or network; JSON without floats.

Every inbound document (source payloads, bank reports) goes through here. The limits answer the
usual attacks: a size cap before any parsing, no DTD (hence no external entity, no billion laughs),
no network access, no huge-tree mode, and JSON numbers as `Decimal` so money never becomes a float.

A title is small: a few hundred values, none longer than a few hundred characters, but one
attachment. `ShapeLimits` (depth, element or value count, characters per text, attribute or
string) are checked right after parsing, in one pass over the tree, before any schema check:
a 5,000,000-character commune is refused in milliseconds instead of costing seconds in a schema
pattern (docs/robustness.md). JSON strings must also be I-JSON (RFC 7493 §2.1: no lone surrogate,
no noncharacter) and XML characters, since every value may end in the canonical XML dossier.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree

from gateway.errors import Code, MalformedPayload, PayloadTooLarge
from gateway.sanitize import first_bad_char, unquoted

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ShapeLimits:
    """How big a document's parts may be; `long_text` names what may be as long as the payload.

    `long_text`: element local names (XML) or object keys (JSON) whose text is an attachment.
    """

    max_depth: int = 32
    max_nodes: int = 20_000  # elements (XML) or values (JSON)
    max_text: int = 10_000  # characters of one text node, attribute value or string
    max_name: int = 256  # characters of an element or attribute name, or of a key
    long_text: frozenset[str] = frozenset()


# Titles (greffe, notaire, avocat): the longest value a schema allows is 254 characters (an e-mail
# address); a real transmission holds a few hundred values and is at most 6 levels deep.
TITLE_LIMITS = ShapeLimits(long_text=frozenset({"Piece", "contenu"}))


def _too_big(what: str, field: str) -> MalformedPayload:
    return MalformedPayload(what, code=Code.LIMIT_EXCEEDED, field=field)


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


def parse_xml(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: ShapeLimits | None = None,
    path_of: Callable[[etree._Element], str] | None = None,
) -> etree._ElementTree:
    """Parse untrusted XML bytes; refuse oversize documents, DTDs, entities and bad encodings.

    With `limits`, a document of the wrong shape is refused (`limit-exceeded`, at the path
    `path_of` gives) before anything else looks at it.
    """
    check_size(data, max_bytes)
    if limits is not None and data.count(b"<") > 4 * limits.max_nodes:  # before building a tree
        raise _too_big(f"the document holds more than {limits.max_nodes} elements", "")
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
    except etree.XMLSyntaxError as exc:  # libxml2 may quote the text it choked on
        raise MalformedPayload(f"not well-formed XML: {unquoted(exc.msg)}") from None
    except ValueError as exc:  # e.g. unicode strings with an encoding declaration
        raise MalformedPayload(f"not well-formed XML: {unquoted(str(exc))}") from None
    docinfo = tree.docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise MalformedPayload("a document type declaration (DTD) is not allowed")
    if (docinfo.encoding or "UTF-8").upper() not in {"UTF-8", "UTF8"}:
        raise MalformedPayload(f"the XML must be encoded in UTF-8, not {docinfo.encoding}")
    if limits is not None:
        _check_xml_shape(tree, limits, path_of or _plain_path, len(data))
    return tree


def _plain_path(element: etree._Element) -> str:
    names: list[str] = []
    node: etree._Element | None = element
    while node is not None and node.getparent() is not None:
        names.append(_local(node.tag))
        node = node.getparent()
    return "/".join(reversed(names))


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _check_xml_shape(
    tree: etree._ElementTree, limits: ShapeLimits, path_of: Callable[[etree._Element], str], size: int
) -> None:
    """One pass over the tree: depth, element count, name and text lengths (comments included).

    `size` is the document's length in bytes: no text, attribute value or comment can be longer
    in characters than the bytes it came from (the DTD, hence any entity that could expand, is
    refused before parsing), so a document of at most `max_text` bytes needs no text measured;
    likewise a name no longer than `max_name` with its namespace needs no local part taken.
    """
    max_depth, max_nodes, max_name = limits.max_depth, limits.max_nodes, limits.max_name
    texts = size > limits.max_text
    depth = count = 0
    for event, node in etree.iterwalk(tree.getroot(), events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        count += 1
        if depth > max_depth:
            raise _too_big(f"the document is nested more than {max_depth} levels deep", "")
        if count > max_nodes:
            raise _too_big(f"the document holds more than {max_nodes} elements", "")
        tag = node.tag
        if len(tag) > max_name and len(_local(tag)) > max_name:
            raise _too_big(f"an element name is longer than {max_name} characters", "")
        if texts:
            _check_texts(node, limits, path_of)
        else:
            for key in node.attrib:  # attribute names (iterating the node gives its children)
                if len(key) > max_name:
                    raise _too_big(f"an attribute name is longer than {max_name} characters", path_of(node))


def _check_texts(node: etree._Element, limits: ShapeLimits, path_of: Callable[[etree._Element], str]) -> None:
    """One element's text, tail, attributes and comments against the limits."""
    longest = limits.max_text if _local(node.tag) not in limits.long_text else None
    if longest is not None and node.text is not None and len(node.text) > longest:
        raise _too_big(f"the text is longer than {longest} characters", path_of(node))
    if node.tail is not None and len(node.tail) > limits.max_text:
        raise _too_big(
            f"the text after this element is longer than {limits.max_text} characters", path_of(node)
        )
    for key, value in node.items():
        if len(key) > limits.max_name:
            raise _too_big(f"an attribute name is longer than {limits.max_name} characters", path_of(node))
        if len(value) > limits.max_text:
            raise _too_big(
                f"the attribute {_local(key)} is longer than {limits.max_text} characters", path_of(node)
            )
    for child in node:  # comments and processing instructions: iterwalk yields elements only
        if (
            not isinstance(child.tag, str)
            and max(len(child.text or ""), len(child.tail or "")) > limits.max_text
        ):
            raise _too_big(f"a comment is longer than {limits.max_text} characters", path_of(node))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise MalformedPayload(f"the JSON object has the key {key!r} twice", field=key)
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise MalformedPayload(f"{name} is not a JSON number")


def parse_json(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, limits: ShapeLimits | None = None) -> Any:
    """Parse untrusted JSON bytes (UTF-8); numbers with a fraction become Decimal, never float.

    Every string and key must be I-JSON (RFC 7493 §2.1) and XML 1.0 characters; with `limits`, the
    document's shape is checked too (`limit-exceeded`) before anything else looks at it.
    """
    check_size(data, max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"the JSON is not valid UTF-8 (byte {exc.start})") from None
    try:
        document = json.loads(
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
    _check_json_shape(document, limits or _NO_LIMITS)
    return document


_NO_LIMITS = ShapeLimits(max_depth=10**6, max_nodes=10**12, max_text=10**12, max_name=10**12)


def _key_path(path: str, key: str) -> str:
    shown = key if len(key) <= 64 else key[:64] + "…"
    return f"{path}.{shown}" if path else shown


def _check_json_shape(document: Any, limits: ShapeLimits) -> None:
    """Every string and key XML-safe (no lone surrogate, no U+FFFF, no control), within the limits."""
    count = 0
    stack: list[tuple[Any, str, int, bool]] = [(document, "", 1, False)]
    while stack:
        value, path, depth, long_ok = stack.pop()
        count += 1
        if count > limits.max_nodes:
            raise _too_big(f"the document holds more than {limits.max_nodes} values", "")
        if depth > limits.max_depth:
            raise _too_big(f"the document is nested more than {limits.max_depth} levels deep", path)
        if isinstance(value, str):
            if not long_ok and len(value) > limits.max_text:
                raise _too_big(f"the text is longer than {limits.max_text} characters", path)
            if first_bad_char(value) is not None:
                raise MalformedPayload(_BAD_CHAR, field=path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if len(key) > limits.max_name:
                    raise _too_big(f"a key is longer than {limits.max_name} characters", path)
                if first_bad_char(key) is not None:
                    raise MalformedPayload(_BAD_CHAR.replace("text", "key"), field=path)
                stack.append((item, _key_path(path, key), depth + 1, key in limits.long_text))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1, False) for i, item in enumerate(value))


# RFC 7493 §2.1 (I-JSON) forbids lone surrogates and noncharacters; XML 1.0 §2.2 control characters
_BAD_CHAR = (
    "the text holds a character that is not allowed: a lone surrogate, a noncharacter such as "
    "U+FFFF or a control character (RFC 7493 §2.1, XML 1.0 §2.2)"
)
