"""Validation of produced pain files against the official ISO 20022 XSDs with libxml2.

Streaming, constant memory, two engines with the same verdict:
- the system libxml2 through ctypes (`gateway.sepa.libxml2`): SAX validation without a tree,
  the engine of `xmllint --stream --schema`, used when `libxml2.so.2` is installed;
- lxml otherwise: `etree.iterparse(..., schema=...)` validates while parsing, and each
  transaction element is cleared as soon as it is complete.
Both are libxml2, ~45x faster than xmlschema (docs/payment-cycle.md). `ValidatingSink` validates the
bytes of a file while they are written, in a thread (libxml2 runs without the GIL). The schemas
and their origin: `schemas/iso20022/README.md`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from lxml import etree

from gateway.digest import BackgroundSha256
from gateway.errors import Code, ConfigurationError, Issue, SchemaViolation
from gateway.private import FILE_MODE
from gateway.resources import ISO20022_DIR
from gateway.sanitize import unquoted
from gateway.sepa import libxml2

SCHEMA_DIR = ISO20022_DIR
NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
SUPPORTED = ("pain.008.001.08", "pain.008.001.02", "pain.001.001.09", "pain.001.001.03")
_WRITE_BUFFER = 1 << 16
_HASH_QUEUE = 16  # chunks of the writer (hundreds of KB each) waiting for the SHA-256 thread
# The repeating element of each message: cleared once validated to keep memory constant.
_REPEATING = {"pain.008": "DrctDbtTxInf", "pain.001": "CdtTrfTxInf"}


def schema_path(version: str, schema_dir: Path = SCHEMA_DIR) -> Path:
    """Path of the official XSD of `version` (e.g. `pain.008.001.08`)."""
    if version not in SUPPORTED:
        raise ConfigurationError(f"no schema for {version!r}", field="version")
    path = schema_dir / f"{version}.xsd"
    if not path.is_file():
        raise ConfigurationError(f"schema file missing: {path}", field="schema")
    return path


@lru_cache(maxsize=8)
def load_schema(version: str, schema_dir: Path = SCHEMA_DIR) -> etree.XMLSchema:
    """The compiled libxml2 schema (compiled once per process)."""
    return etree.XMLSchema(etree.parse(str(schema_path(version, schema_dir))))


def detect_version(path: Path) -> str:
    """Message version from the root element's namespace, reading only the first tag."""
    try:
        with path.open("rb") as handle:
            for _event, element in etree.iterparse(handle, events=("start",)):
                namespace = etree.QName(element).namespace or ""
                if not namespace.startswith(NAMESPACE_PREFIX):
                    break
                return namespace[len(NAMESPACE_PREFIX) :]
    except etree.XMLSyntaxError as exc:
        raise SchemaViolation(
            f"not well-formed XML: {unquoted(str(exc))}", code=Code.MALFORMED_PAYLOAD
        ) from exc
    raise SchemaViolation("root element is not in an ISO 20022 namespace", code=Code.SEPA_XSD_INVALID)


def _validate_stream(source: BinaryIO | str, version: str, name: str) -> None:
    schema = load_schema(version)
    tag = f"{{{NAMESPACE_PREFIX}{version}}}{_REPEATING[version[:8]]}"
    try:
        for _event, element in etree.iterparse(
            source, events=("end",), tag=tag, schema=schema, huge_tree=True
        ):
            element.clear()
            # drop the already-validated siblings so the tree never grows
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        last = getattr(exc.error_log, "last_error", None)
        line = last.line if last is not None else (exc.lineno or 0)
        column = last.column if last is not None else 0
        raise SchemaViolation(
            f"{name} is not valid {version} (line {line}, column {column}): {unquoted(exc.msg)}",
            code=Code.SEPA_XSD_INVALID,
            field=f"line {line}",
        ) from exc


def _native_errors(version: str, document: str, name: str) -> None:
    errors = libxml2.validate(schema_path(version), document)
    if errors:
        raise SchemaViolation.from_issues(
            Issue(
                Code.SEPA_XSD_INVALID,
                f"line {e.line}",
                f"{name} is not valid {version} (line {e.line}, column {e.column}): {unquoted(e.message)}",
            )
            for e in errors
        )


def validate_file(path: Path, version: str | None = None, *, native: bool | None = None) -> str:
    """Validate `path` against its official XSD, streaming; returns the version.

    `native` forces (True) or avoids (False) the system libxml2 engine; default: use it when
    available. Raises SchemaViolation (`sepa-xsd-invalid`) with line, column and message."""
    version = version or detect_version(path)
    schema_path(version)  # unknown version -> ConfigurationError
    if libxml2.available() if native is None else native:
        _native_errors(version, str(path), path.name)
    else:
        _validate_stream(str(path), version, path.name)
    return version


class ValidatingSink:
    """A binary sink that writes to `path` and, at the same time, has every byte validated
    against the official XSD by a thread reading a pipe.

    With the native engine the validation runs without the GIL, on the second core, so a file
    is validated in the time it takes to write it. `close()` waits for the verdict and raises
    SchemaViolation on an invalid file. Memory stays flat on both sides."""

    def __init__(
        self,
        path: Path,
        version: str,
        *,
        buffer_size: int = 1 << 20,
        native: bool | None = None,
        digest: bool = False,
    ) -> None:
        schema_path(version)  # fail fast on an unknown version
        # opened first (an unwritable path fails before any thread starts), and 0600 from
        # creation: a pain file holds names and IBANs (gateway.private)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        os.fchmod(fd, FILE_MODE)
        # small buffers on purpose: lxml's small header writes are gathered, and the writers' large
        # chunks (hundreds of KB of transactions) go straight to the file and the pipe, not copied
        # into a buffer first (BufferedWriter passes through what exceeds its buffer)
        self._file = os.fdopen(fd, "wb", buffering=_WRITE_BUFFER)
        self._size = 0
        self.path = path
        self.version = version
        # digest=True: the SHA-256 of the bytes (for the detached signature) is computed while
        # they are written, by a third thread, instead of reading the whole file again
        # afterwards: 0.3-0.7 s at 1,000,000 debits. The rendering is far slower than the hash:
        # a deep queue, so that the writer does not wait for a hasher the other core runs late
        self._hasher = BackgroundSha256(depth=_HASH_QUEUE) if digest else None
        read_fd, write_fd = os.pipe()
        with contextlib.suppress(OSError):  # Linux: a 1 MiB pipe instead of 64 KiB
            fcntl.fcntl(write_fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), buffer_size)
        self._read_fd = read_fd
        self._error: SchemaViolation | None = None
        use_native = libxml2.available() if native is None else native
        self._thread = threading.Thread(
            target=self._validate, args=(use_native,), name="xsd-validation", daemon=True
        )
        self._thread.start()
        self._pipe = os.fdopen(write_fd, "wb", buffering=_WRITE_BUFFER)
        self._closed = False
        self._pipe_broken = False

    def _validate(self, native: bool) -> None:
        try:
            if native:
                try:
                    _native_errors(self.version, f"/dev/fd/{self._read_fd}", self.path.name)
                finally:
                    os.close(self._read_fd)
            else:
                with os.fdopen(self._read_fd, "rb", buffering=1 << 20) as source:
                    try:
                        _validate_stream(source, self.version, self.path.name)
                    finally:
                        source.read()  # drain, so the writer never blocks on a full pipe
        except SchemaViolation as exc:
            self._error = exc

    def _stop_hashing(self) -> None:
        if self._hasher is not None:
            self._hasher.close()

    @property
    def sha256(self) -> bytes:
        """The SHA-256 of every byte written (`digest=True`), once the sink is closed."""
        if self._hasher is None or not self._closed:
            raise ValueError("the digest is known once a sink opened with digest=True is closed")
        return self._hasher.digest()

    @property
    def size(self) -> int:
        """How many bytes were written."""
        return self._size

    def write(self, data: bytes) -> int:
        if self._hasher is not None:
            self._hasher.update(bytes(data))  # a copy only if the caller's buffer could change
        written = self._file.write(data)
        self._size += written
        if not self._pipe_broken:
            try:
                self._pipe.write(data)
            except BrokenPipeError:  # the validator stopped reading: close() reports why
                self._pipe_broken = True
        return written

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        """Finish the file and wait for the verdict."""
        if self._closed:
            return
        self._closed = True
        self._file.close()
        with contextlib.suppress(BrokenPipeError):
            self._pipe.close()
        self._thread.join()
        self._stop_hashing()
        if self._error is not None:
            raise self._error
        if self._pipe_broken:
            raise SchemaViolation(
                f"{self.path.name}: the validator stopped early",
                code=Code.SEPA_XSD_INVALID,
                field="file",
            )

    def abort(self) -> None:
        """Stop without a verdict (the writer failed): close everything, keep no thread."""
        self._closed = True
        self._file.close()
        with contextlib.suppress(BrokenPipeError):
            self._pipe.close()
        self._thread.join()
        self._stop_hashing()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
