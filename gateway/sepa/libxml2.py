"""Streaming XSD validation with the system libxml2 (ctypes): SAX, no tree, GIL released.

Why not only lxml: lxml's `iterparse(schema=...)` builds every element before we can clear it
(about 10 us per debit); libxml2's own `xmlSchemaValidateFile` validates on SAX events without
a tree, 2.3x faster, in constant memory -- the same engine `xmllint --stream --schema` uses.
ctypes releases the GIL during the call, so a thread can validate a pipe while the writer
fills it. Used when `libxml2.so.2` is present (it is wherever `xmllint` is); otherwise
`gateway.sepa.xsd` falls back to lxml.

API used (libxml2 `xmlschemas.h`, stable since 2.6): xmlSchemaNewParserCtxt, xmlSchemaParse,
xmlSchemaNewValidCtxt, xmlSchemaSetValidStructuredErrors, xmlSchemaValidateFile,
xmlSchemaFreeValidCtxt; `xmlError` layout from `xmlerror.h`.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MAX_ERRORS = 10


class _XmlError(ctypes.Structure):
    _fields_ = [
        ("domain", ctypes.c_int),
        ("code", ctypes.c_int),
        ("message", ctypes.c_char_p),
        ("level", ctypes.c_int),
        ("file", ctypes.c_char_p),
        ("line", ctypes.c_int),
        ("str1", ctypes.c_char_p),
        ("str2", ctypes.c_char_p),
        ("str3", ctypes.c_char_p),
        ("int1", ctypes.c_int),
        ("int2", ctypes.c_int),  # column
        ("ctxt", ctypes.c_void_p),
        ("node", ctypes.c_void_p),
    ]


_ErrorCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(_XmlError))


@dataclass(frozen=True, slots=True)
class XsdError:
    """One validation error as libxml2 reports it."""

    line: int
    column: int
    message: str


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    lib: ctypes.CDLL | None = None
    for attempt in range(2):
        # the usual soname first; find_library runs `ldconfig -p` in a subprocess
        if attempt == 0:
            name: str | None = "libxml2.so.2"
        else:  # imported here: ctypes.util costs a few ms at start-up, needed only then
            from ctypes.util import find_library

            name = find_library("xml2")
        if name is None:
            continue
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        return None
    void_p, char_p, c_int = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    signatures: dict[str, tuple[type | None, list[type]]] = {
        "xmlInitParser": (None, []),
        "xmlSchemaNewParserCtxt": (void_p, [char_p]),
        "xmlSchemaParse": (void_p, [void_p]),
        "xmlSchemaFreeParserCtxt": (None, [void_p]),
        "xmlSchemaNewValidCtxt": (void_p, [void_p]),
        "xmlSchemaFreeValidCtxt": (None, [void_p]),
        "xmlSchemaSetValidStructuredErrors": (None, [void_p, _ErrorCallback, void_p]),
        "xmlSchemaValidateFile": (c_int, [void_p, char_p, c_int]),
    }
    for function, (restype, argtypes) in signatures.items():
        handle = getattr(lib, function)
        handle.restype = restype
        handle.argtypes = argtypes
    lib.xmlInitParser()  # once, from one thread, before any concurrent use
    return lib


def available() -> bool:
    """True when the system libxml2 can be used."""
    return _library() is not None


_compile_lock = threading.Lock()


@lru_cache(maxsize=8)
def _schema(xsd: Path) -> int:
    lib = _library()
    assert lib is not None
    with _compile_lock:
        parser = lib.xmlSchemaNewParserCtxt(str(xsd).encode())
        schema = lib.xmlSchemaParse(parser)
        lib.xmlSchemaFreeParserCtxt(parser)
    if not schema:
        raise ValueError(f"libxml2 could not compile {xsd}")
    return int(schema)  # kept for the life of the process (a handful of schemas)


def validate(xsd: Path, document: str) -> list[XsdError]:
    """Validate the file (or `/dev/fd/N` pipe) `document` against `xsd`; [] when valid.

    Safe to call from several threads (one validation context per call)."""
    lib = _library()
    if lib is None:
        raise RuntimeError("system libxml2 not available")
    errors: list[XsdError] = []

    def on_error(_user: int | None, error: ctypes._Pointer[_XmlError]) -> None:
        if len(errors) < MAX_ERRORS:
            found = error.contents
            text = (found.message or b"").decode("utf-8", "replace").strip()
            errors.append(XsdError(found.line, found.int2, text))

    callback = _ErrorCallback(on_error)  # referenced until the call returns
    context = lib.xmlSchemaNewValidCtxt(_schema(xsd))
    try:
        lib.xmlSchemaSetValidStructuredErrors(context, callback, None)
        status = lib.xmlSchemaValidateFile(context, document.encode(), 0)
    finally:
        lib.xmlSchemaFreeValidCtxt(context)
    if status != 0 and not errors:
        errors.append(XsdError(0, 0, f"libxml2 validation failed (status {status})"))
    return errors
