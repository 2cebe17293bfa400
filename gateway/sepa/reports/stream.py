"""Hardened, schema-validating streaming reads of bank reports (libxml2 via lxml `iterparse`).

Bank reports are untrusted input: the same hardening as gateway.safeparse (no DTD, no entity
expansion, no network, no huge-tree mode, UTF-8 only, a DOCTYPE or ENTITY declaration is refused
before libxml2 sees it), but streamed so a camt.054 of a million entries is read in bounded memory:
each repeating element is handed over when complete, then cleared, and its already-read siblings are
dropped. The official XSD is enforced while parsing (`iterparse(schema=...)`); an invalid document
raises `SchemaViolation` (`sepa-report-xsd-invalid`) at the first offending element. Callers must
therefore apply what they read only once the stream ends normally (one transaction).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from gateway.errors import Code, ConfigurationError, MalformedPayload, SchemaViolation
from gateway.sepa.reports.model import SUPPORTED

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas" / "iso20022"
NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
_PROLOG_LIMIT = 1 << 16
_ROOT_START = re.compile(rb"<[A-Za-z_]")


def namespace(message: str) -> str:
    return NAMESPACE_PREFIX + message


@lru_cache(maxsize=8)
def load_schema(message: str) -> etree.XMLSchema:
    """The compiled official XSD of `message` (compiled once per process)."""
    if message not in SUPPORTED:
        raise ConfigurationError(f"no schema for {message!r}", code=Code.SEPA_REPORT_UNSUPPORTED)
    path = SCHEMA_DIR / f"{message}.xsd"
    if not path.is_file():
        raise ConfigurationError(f"schema file missing: {path}", field="schema")
    return etree.XMLSchema(etree.parse(str(path)))


def check_prolog(path: Path) -> None:
    """Refuse non-UTF-8 input and any DTD or entity declaration before the root element."""
    with path.open("rb") as handle:
        head = handle.read(_PROLOG_LIMIT)
    if not head.strip():
        raise MalformedPayload(f"{path.name} is empty")
    if b"\x00" in head:
        raise MalformedPayload("the report must be encoded in UTF-8 (NUL bytes found)")
    match = _ROOT_START.search(head)
    if match is None:
        raise MalformedPayload("no root element in the first 64 KiB of the report")
    prolog = head[: match.start()]
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        raise MalformedPayload("a document type declaration (DTD) or entity is not allowed")
    declared = re.search(rb"encoding=[\"']([A-Za-z0-9._-]+)[\"']", prolog)
    if declared and declared.group(1).upper() not in (b"UTF-8", b"UTF8"):
        raise MalformedPayload(f"the report must be encoded in UTF-8, not {declared.group(1).decode()}")


def _hardened(source: BinaryIO, **kwargs: object) -> etree.iterparse:
    return etree.iterparse(
        source,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        **kwargs,
    )


def detect_message(path: Path) -> str:
    """The message (`camt.054.001.08`...) from the root element's namespace, reading only its tag."""
    check_prolog(path)
    found = ""
    try:
        with path.open("rb") as handle:
            for _event, element in _hardened(handle, events=("start",)):
                found = etree.QName(element).namespace or ""
                break
    except etree.XMLSyntaxError as exc:
        raise MalformedPayload(f"not well-formed XML: {exc.msg}") from None
    message = found[len(NAMESPACE_PREFIX) :] if found.startswith(NAMESPACE_PREFIX) else ""
    if message not in SUPPORTED:
        raise SchemaViolation(
            f"{path.name}: not a supported bank report (namespace {found or 'none'!r}; "
            f"supported: {', '.join(SUPPORTED)})",
            code=Code.SEPA_REPORT_UNSUPPORTED,
            field="Document",
        )
    return message


def stream(path: Path, message: str, tags: Sequence[str]) -> Iterator[etree._Element]:
    """Yield each complete element named in `tags` (local names), validated against the XSD so far.

    The caller reads what it needs from the element before asking for the next one; the element is
    then cleared and its earlier siblings of the same tag are removed, so memory stays flat."""
    check_prolog(path)
    ns = namespace(message)
    wanted = [f"{{{ns}}}{tag}" for tag in tags]
    schema = load_schema(message)
    try:
        with path.open("rb") as handle:
            for _event, element in _hardened(handle, events=("end",), tag=wanted, schema=schema):
                yield element
                element.clear(keep_tail=False)
                parent = element.getparent()
                if parent is not None:
                    previous = element.getprevious()
                    while previous is not None and previous.tag == element.tag:
                        parent.remove(previous)
                        previous = element.getprevious()
    except etree.XMLSyntaxError as exc:
        last = getattr(exc.error_log, "last_error", None)
        line = last.line if last is not None else (exc.lineno or 0)
        column = last.column if last is not None else 0
        raise SchemaViolation(
            f"{path.name} is not valid {message} (line {line}, column {column}): {exc.msg}",
            code=Code.SEPA_REPORT_XSD_INVALID,
            field=f"line {line}",
        ) from None


def text(element: etree._Element | None) -> str | None:
    """Stripped text of an element, None when absent or empty."""
    if element is None or element.text is None:
        return None
    value = element.text.strip()
    return value or None
