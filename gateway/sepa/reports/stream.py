"""Hardened, schema-validating streaming reads of bank reports (libxml2 via lxml `iterparse`).

Bank reports are untrusted input: the same hardening as gateway.safeparse (no DTD, no entity
expansion, no network, no huge-tree mode, UTF-8 only, a DOCTYPE or ENTITY declaration is refused
before libxml2 sees it), but streamed so a camt.054 of a million entries is read in bounded memory:
each repeating element is handed over when complete, then cleared, and its already-read siblings are
dropped. The official XSD is enforced while parsing: inline (`iterparse(schema=...)`) for small
files, by a second process reading the same file for large ones (the validation then costs no wall
time on a 2-core machine: it is the costlier half of the work). Either way an invalid document
raises `SchemaViolation` (`sepa-report-xsd-invalid`): inline at the first offending element, in
parallel when the stream ends. Callers therefore apply what they read only once the stream ends
normally (one transaction).
"""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from gateway.errors import Code, ConfigurationError, GatewayError, MalformedPayload, SchemaViolation
from gateway.resources import ISO20022_DIR
from gateway.sanitize import unquoted
from gateway.sepa.reports.model import SUPPORTED

SCHEMA_DIR = ISO20022_DIR
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
        raise MalformedPayload(f"not well-formed XML: {unquoted(exc.msg)}") from None
    message = found[len(NAMESPACE_PREFIX) :] if found.startswith(NAMESPACE_PREFIX) else ""
    if message not in SUPPORTED:
        raise SchemaViolation(
            f"{path.name}: not a supported bank report (namespace {found or 'none'!r}; "
            f"supported: {', '.join(SUPPORTED)})",
            code=Code.SEPA_REPORT_UNSUPPORTED,
            field="Document",
        )
    return message


#: From this size on, the XSD is checked by a second process while this one reads (2 cores: the
#: validation costs no wall-clock time); below it, inline validation is cheaper than a process start.
PARALLEL_MIN_BYTES = 8 * 1024 * 1024


def _drain(elements: etree.iterparse) -> Iterator[etree._Element]:
    for _event, element in elements:
        yield element
        element.clear(keep_tail=False)
        parent = element.getparent()
        if parent is not None:
            previous = element.getprevious()
            while previous is not None and previous.tag == element.tag:
                parent.remove(previous)
                previous = element.getprevious()


def _invalid(path: Path, message: str, exc: etree.XMLSyntaxError) -> SchemaViolation:
    last = getattr(exc.error_log, "last_error", None)
    line = last.line if last is not None else (exc.lineno or 0)
    column = last.column if last is not None else 0
    return SchemaViolation(
        f"{path.name} is not valid {message} (line {line}, column {column}): {unquoted(exc.msg)}",
        code=Code.SEPA_REPORT_XSD_INVALID,
        field=f"line {line}",
    )


def validate(path: Path, message: str) -> None:
    """Validate the whole of `path` against its XSD, streaming (raises SchemaViolation)."""
    check_prolog(path)
    ns = namespace(message)
    repeating = [f"{{{ns}}}Ntry", f"{{{ns}}}TxInfAndSts"]
    schema = load_schema(message)
    try:
        with path.open("rb") as handle:
            for _element in _drain(_hardened(handle, events=("end",), tag=repeating, schema=schema)):
                pass
    except etree.XMLSyntaxError as exc:
        raise _invalid(path, message, exc) from None


def _validate_in_child(path: str, message: str, result: Connection) -> None:
    try:
        validate(Path(path), message)
    except GatewayError as exc:
        result.send(exc.message)
    else:
        result.send(None)
    result.close()


def stream(
    path: Path, message: str, tags: Sequence[str], *, parallel: bool | None = None
) -> Iterator[etree._Element]:
    """Yield each complete element named in `tags` (local names), the document checked against its XSD.

    The caller reads what it needs from the element before asking for the next one; the element is
    then cleared and its earlier siblings of the same tag are removed, so memory stays flat.
    Small files are validated inline (the error stops the stream where it is); large ones
    (`parallel`, default from PARALLEL_MIN_BYTES) by a child process whose verdict is raised when
    the stream ends: in both cases what was read must only be applied once the stream is exhausted."""
    check_prolog(path)
    ns = namespace(message)
    wanted = [f"{{{ns}}}{tag}" for tag in tags]
    schema = load_schema(message)
    if parallel is None:
        parallel = path.stat().st_size >= PARALLEL_MIN_BYTES
    child: multiprocessing.process.BaseProcess | None = None
    verdict: Connection | None = None
    if parallel:
        context = multiprocessing.get_context("spawn")  # no copy of this process's memory
        verdict, child_end = context.Pipe(duplex=False)
        child = context.Process(target=_validate_in_child, args=(str(path), message, child_end), daemon=True)
        child.start()
        child_end.close()
    try:
        with path.open("rb") as handle:
            options: dict[str, object] = {} if parallel else {"schema": schema}
            yield from _drain(_hardened(handle, events=("end",), tag=wanted, **options))
    except etree.XMLSyntaxError as exc:
        _stop(child)
        raise _invalid(path, message, exc) from None
    except BaseException:  # the reader stopped early (error, or the generator was closed)
        _stop(child)
        raise
    if child is not None and verdict is not None:
        try:
            error = verdict.recv()
        except EOFError:  # the child ended without a verdict (killed, out of memory...)
            error = f"{path.name}: the validating process died"
        child.join()
        verdict.close()
        if error is not None:
            raise SchemaViolation(error, code=Code.SEPA_REPORT_XSD_INVALID, field="file")


def _stop(child: multiprocessing.process.BaseProcess | None) -> None:
    if child is not None and child.is_alive():
        child.terminate()
        child.join(timeout=5)


def text(element: etree._Element | None) -> str | None:
    """Stripped text of an element, None when absent or empty."""
    if element is None or element.text is None:
        return None
    value = element.text.strip()
    return value or None
