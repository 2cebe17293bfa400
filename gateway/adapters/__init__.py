"""Source adapters: the bytes a greffe, notaire or avocat sends -> a source-neutral Transmission.

Each adapter parses with the hardened parsers (`gateway.safeparse`), validates against the source's
schema (`schemas/`), and maps to `gateway.domain.transmission.Transmission`; no I/O and no rules
here. `field_path` turns the canonical paths the rules report into the source's own paths.

    adapter_for("greffe").parse(data)            -> Transmission
    MalformedPayload / PayloadTooLarge           the bytes are not a document we can read
    SchemaViolation                              every schema error, with the source's paths
    RuleViolation (invalid-date)                 an impossible calendar date, with its path
"""

from __future__ import annotations

from importlib import import_module
from typing import Protocol

from gateway.domain.transmission import SourceKind, Transmission
from gateway.safeparse import DEFAULT_MAX_BYTES

__all__ = ["DEFAULT_MAX_BYTES", "Adapter", "adapter_for"]


class Adapter(Protocol):
    """Reads one source's wire format."""

    source: SourceKind
    media_types: tuple[str, ...]  # ("application/xml", "text/xml") or ("application/json",)

    def parse(self, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Transmission: ...

    def field_path(self, canonical: str) -> str: ...


def adapter_for(source: SourceKind | str) -> Adapter:
    """The adapter of a source (`greffe`, `notaire`, `avocat`); ValueError for anything else."""
    kind = SourceKind(source)
    adapter: Adapter = import_module(f"gateway.adapters.{kind.value}").ADAPTER
    return adapter
