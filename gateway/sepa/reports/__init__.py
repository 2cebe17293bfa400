"""Bank reports in: pain.002 statuses and camt.054 notifications, validated and streamed.

detect_message(path)  -> "pain.002.001.10" | "pain.002.001.03" | "camt.054.001.08" | "camt.054.001.02"
read_report(path)     -> iterator: ReportHeader first, then StatusRecord | EntryRecord
reason_for(code)      -> Reason (EPC meaning and follow-up action)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gateway.sepa.reports.camt054 import read_camt054
from gateway.sepa.reports.model import (
    CAMT054_VERSIONS,
    PAIN002_VERSIONS,
    SUPPORTED,
    EntryRecord,
    ReportHeader,
    ReportKind,
    StatusRecord,
    kind_of,
    parse_amount,
)
from gateway.sepa.reports.pain002 import read_pain002
from gateway.sepa.reports.reasons import REASONS, Reason, reason_for
from gateway.sepa.reports.stream import detect_message, load_schema

Record = StatusRecord | EntryRecord


def read_report(path: Path, message: str | None = None) -> Iterator[ReportHeader | Record]:
    """Detect (unless given), validate and stream `path`: the header, then its records."""
    message = message or detect_message(path)
    if kind_of(message) is ReportKind.STATUS:
        return read_pain002(path, message)
    return read_camt054(path, message)


__all__ = [
    "CAMT054_VERSIONS",
    "PAIN002_VERSIONS",
    "REASONS",
    "SUPPORTED",
    "EntryRecord",
    "Reason",
    "Record",
    "ReportHeader",
    "ReportKind",
    "StatusRecord",
    "detect_message",
    "kind_of",
    "load_schema",
    "parse_amount",
    "read_report",
    "reason_for",
]
