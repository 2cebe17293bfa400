"""The fuzz suite's mutator and oracle (issue 12), shared by tests/fuzz (hypothesis, a short budget
in `make test`) and bench/fuzz.py (the long runs by hand, in process and over mutual TLS).

An input is a seed (the three examples, and the inputs that once broke the gateway) changed by a
few mutations: byte-level (flip, cut, repeat, splice, insert a hostile token) or aware of the
format (an XML text, attribute or element; a JSON value or key). The oracle: validating it either
gives a dossier the gateway can render (JSON and canonical XML) or raises a GatewayError whose
problem document encodes, and never the last-resort `unprocessable-payload`.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gateway.canonical.xml import to_xml
from gateway.errors import Code, GatewayError
from gateway.problem import problem
from gateway.services.validation import validate
from tests.support import hostile

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

TOKENS: tuple[bytes, ...] = (
    b"<", b">", b"&", b"&amp;", b"&#0;", b"&#xD800;", b"&#x10FFFF;", b"]]>", b"<![CDATA[x]]>",
    b"<!--c-->", b"<?pi x?>", b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf",
    "\uffff".encode(), "\ufeff".encode(), "\u2028".encode(), b'"', b"'", b"\\", b"\\u0000", b"\\udc80",
    b"\\ud800\\udc00", b"{", b"}", b"[", b"]", b",", b":", b"null", b"1e999", b"-0", b"0" * 4400,
    b"9" * 40, b' xsi:type="xs:string"', b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
    b' xmlns="urn:other"', b' xml:lang="fr"', b"<!DOCTYPE x>", b"<!ENTITY e 'x'>", b"<x/>", b"</x>",
    b"\r\n", b"\t", b"a" * 300, b"\xc3\xa9" * 200,
)  # fmt: skip
VALUES: tuple[str, ...] = (
    "", " ", "0", "-1", "+5", "99", "100", "0" * 4301, "9" * 4400, "1e5", "1.5", "150.005", "-150.00",
    "2026-02-30", "2026-13-01", "0001-01-01", "9999-12-31", "26/01842", "NaN", "Infinity", "true",
    "\uffff", "\ufeff", "\u0085", "\u00a0", "a\u0301", "é" * 120, "a" * 10_001, "<", "&", "x" * 256,
    "FR7630006000011234567890189", "FR7630006000011234567890180", "DE89370400440532013000", "ZZZZ",
    "2A004", "185034410912379", "1 85 03 44 109 123 79", "x@y", "A" * 36, "COPIE_EXECUTOIRE", "ALMY",
)  # fmt: skip
JSON_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 10**30, 99, 100, [], {}, [[[[[]]]]], {"x": 1}, "", "\udc80", "\ufdd0",
    *VALUES,
)  # fmt: skip
XML_NAMES = ("x", "a\ufeffb", "xsi:type", "xmlns:p", "p:x", "é", "_" * 300, "type", "mode", "mediaType")


@functools.cache
def seeds() -> list[tuple[str, str, bytes]]:
    """(source, name, bytes): the three examples, then every input that once broke the gateway."""
    found = [
        ("greffe", "example", hostile.GREFFE.encode()),
        ("notaire", "example", hostile.NOTAIRE.encode()),
        ("avocat", "example", hostile.AVOCAT.encode()),
    ]
    return found + hostile.all_hostile()


def _flip(data: bytes, rnd: random.Random) -> bytes:
    if not data:
        return data
    at = rnd.randrange(len(data))
    return data[:at] + bytes([data[at] ^ (1 << rnd.randrange(8))]) + data[at + 1 :]


def _cut(data: bytes, rnd: random.Random) -> bytes:
    if not data:
        return data
    at = rnd.randrange(len(data))
    return data[:at] + data[at + rnd.randint(1, min(200, len(data) - at)) :]


def _repeat(data: bytes, rnd: random.Random) -> bytes:
    if not data:
        return data
    at = rnd.randrange(len(data))
    part = data[at : at + rnd.randint(1, 400)]
    return data[:at] + part * rnd.randint(2, 50) + data[at:]


def _token(data: bytes, rnd: random.Random) -> bytes:
    at = rnd.randrange(len(data) + 1)
    return data[:at] + rnd.choice(TOKENS) + data[at:]


_TEXT = re.compile(rb">([^<>]*)<")
_ATTR = re.compile(rb'(\s[\w:.-]+)="([^"]*)"')
_ELEMENT = re.compile(rb"<([A-Za-z][\w.-]*)[^>]*>[^<]*</\1>")


def _xml_text(data: bytes, rnd: random.Random) -> bytes:
    found = list(_TEXT.finditer(data))
    if not found:
        return _token(data, rnd)
    m = rnd.choice(found)
    value = rnd.choice(VALUES).encode("utf-8", "surrogatepass")
    return data[: m.start(1)] + value + data[m.end(1) :]


def _xml_attribute(data: bytes, rnd: random.Random) -> bytes:
    found = list(_ATTR.finditer(data))
    if found and rnd.random() < 0.5:
        m = rnd.choice(found)
        return data[: m.start(2)] + rnd.choice(VALUES).encode() + data[m.end(2) :]
    tags = [m.end() - 1 for m in re.finditer(rb"<[A-Za-z][\w.-]*", data)]
    if not tags:
        return _token(data, rnd)
    at = rnd.choice(tags) + 1
    attribute = f' {rnd.choice(XML_NAMES)}="{rnd.choice(VALUES)}"'.encode()
    return data[:at] + attribute + data[at:]


def _xml_element(data: bytes, rnd: random.Random) -> bytes:
    found = list(_ELEMENT.finditer(data))
    if not found:
        return _token(data, rnd)
    m = rnd.choice(found)
    choice = rnd.randrange(3)
    if choice == 0:  # gone
        return data[: m.start()] + data[m.end() :]
    if choice == 1:  # twice (or many times)
        return data[: m.end()] + m.group(0) * rnd.randint(1, 30) + data[m.end() :]
    other = rnd.choice(found).group(0)  # another element in its place
    return data[: m.start()] + other + data[m.end() :]


def _json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _json_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _json_paths(item, (*path, i))
    return found


def _json_value(data: bytes, rnd: random.Random) -> bytes:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):  # not JSON any more, or nested past Python's stack
        return _token(data, rnd)
    paths = [p for p in _json_paths(doc) if p]
    if not paths:
        return _token(data, rnd)
    path = rnd.choice(paths)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    choice = rnd.randrange(4)
    if choice == 0:
        parent[path[-1]] = rnd.choice(JSON_VALUES)
    elif choice == 1 and isinstance(parent, dict):
        del parent[path[-1]]
    elif choice == 2 and isinstance(parent, dict):
        parent[rnd.choice(["\udc80", "x", "é" * 70, "", "nom_naissance", "__proto__"])] = rnd.choice(
            JSON_VALUES
        )
    else:
        nested: Any = rnd.choice(JSON_VALUES)
        for _ in range(rnd.randint(1, 60)):
            nested = [nested]
        parent[path[-1]] = nested
    try:
        return json.dumps(doc, ensure_ascii=rnd.random() < 0.5).encode("utf-8", "surrogatepass")
    except RecursionError:
        return _token(data, rnd)


def _splice(data: bytes, rnd: random.Random) -> bytes:
    other = rnd.choice(seeds())[2]
    if len(other) > 100_000:
        other = other[:100_000]
    at, start = rnd.randrange(len(data) + 1), rnd.randrange(len(other) + 1)
    return data[:at] + other[start : start + rnd.randint(1, 2000)] + data[at:]


BYTE_MUTATIONS: tuple[Callable[[bytes, random.Random], bytes], ...] = (_flip, _cut, _repeat, _token, _splice)
XML_MUTATIONS = (_xml_text, _xml_text, _xml_attribute, _xml_element)
JSON_MUTATIONS = (_json_value, _json_value, _json_value)


AWARE_UP_TO = 1_000_000  # the format-aware regexes (a back-reference) are quadratic past this


def mutate(source: str, data: bytes, rnd: random.Random, *, rounds: int | None = None) -> bytes:
    """`data` after 1 to 4 mutations, mostly aware of the source's format."""
    aware = JSON_MUTATIONS if source == "avocat" else XML_MUTATIONS
    for _ in range(rounds if rounds is not None else rnd.randint(1, 4)):
        small = len(data) <= AWARE_UP_TO
        operation = rnd.choice(aware) if small and rnd.random() < 0.7 else rnd.choice(BYTE_MUTATIONS)
        data = operation(data, rnd)
    return data


def draw(rnd: random.Random, source: str | None = None) -> tuple[str, bytes]:
    """One fuzzed input: a seed (of `source`, if given) and its mutations."""
    pool = [s for s in seeds() if source is None or s[0] == source]
    kind, _name, data = rnd.choice(pool)
    if len(data) > 1_000_000 and rnd.random() < 0.9:  # the 5 MB seeds: seldom, they are slow to mutate
        kind, _name, data = pool[0]
    return kind, mutate(kind, data, rnd)


class OracleFailure(AssertionError):
    """An input made the gateway do what it must never do."""


def check(source: str, data: bytes) -> str:
    """Validate `data` as the gateway would; the outcome (`accepted` or the first error code).

    Raises OracleFailure for anything else than a dossier that renders or a gateway error whose
    problem encodes, and for the last-resort code (an input no check foresaw).
    """
    try:
        validated = validate(source, data, received_at=NOW)
    except GatewayError as exc:
        codes = [i.code for i in exc.issues]
        if Code.UNPROCESSABLE_PAYLOAD in codes:
            raise OracleFailure(f"{source}: the last-resort code fired: {exc.issues}") from exc
        try:
            json.dumps(problem(exc), ensure_ascii=False).encode("utf-8")
        except Exception as broken:
            raise OracleFailure(f"{source}: the problem cannot be encoded: {broken!s:.200}") from exc
        return exc.code
    except Exception as exc:  # the very thing the suite looks for
        raise OracleFailure(f"{source}: {type(exc).__name__}: {exc!s:.300}") from exc
    try:
        json.dumps(validated.dossier, ensure_ascii=False).encode("utf-8")
        to_xml(validated.dossier)
    except Exception as exc:
        raise OracleFailure(f"{source}: accepted but cannot be rendered: {type(exc).__name__}") from exc
    return "accepted"
