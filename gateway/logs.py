"""Logging set-up with a redacting filter: personal data never reaches log output in plain text.

The gateway logs identifiers (dossier, receipt, payload digest), codes and field paths, never
values from a title. The filter is a second line of defence for what a library might print: it
masks anything shaped like an IBAN, a NIR, an e-mail address or a phone number.
"""

from __future__ import annotations

import logging
import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # not after a hyphen: our own identifiers (DOS-…, RCT-…) may look like an IBAN
    (re.compile(r"(?<!-)\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b"), "[IBAN]"),
    (re.compile(r"\b[12]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[AB])\s?\d{3}\s?\d{3}\s?\d{2}\b"), "[NIR]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[EMAIL]"),
    (re.compile(r"(?:\+33\s?|\b0)[1-9](?:[\s.-]?\d{2}){4}\b"), "[PHONE]"),
)


def redact(text: str) -> str:
    for pattern, mask in _PATTERNS:
        # the e-mail pattern scans every word for an "@" and costs 25 µs a line where there is
        # none (half the cost of a log line, one per title served): skipped when it cannot match
        if mask == "[EMAIL]" and "@" not in text:
            continue
        text = pattern.sub(mask, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with personal-data-shaped values masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# Libraries that log what they process: signxml the whole document it signs (a dossier: names,
# IBAN, e-mail, the violence flag), xmlschema the values it checks, httpx/httpcore the bodies and
# headers they send, sqlalchemy the statements with their parameters, multipart the form parts.
# Held at WARNING whatever GATEWAY_LOG_LEVEL says.
QUIET_LIBRARIES = (
    "signxml", "xmlschema", "httpx", "httpcore", "sqlalchemy", "multipart", "python_multipart",
    "alembic", "asyncio", "hpack", "h11", "charset_normalizer", "urllib3", "fastapi",
)  # fmt: skip
# Below WARNING, only our own loggers and uvicorn's (which log no payloads) reach the output:
# a library not listed above is kept quiet all the same.
VERBOSE_OK = ("gateway", "uvicorn")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class OwnDebugOnly(logging.Filter):
    """Drops records under WARNING from loggers other than ours (and uvicorn's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return record.name.split(".", 1)[0] in VERBOSE_OK


def level_from_env(default: str = "INFO") -> str:
    """GATEWAY_LOG_LEVEL (DEBUG, INFO, WARNING, ERROR, CRITICAL; any case); `default` otherwise."""
    import os

    value = os.environ.get("GATEWAY_LOG_LEVEL", default).strip().upper()
    return value if value in LEVELS else default


def configure(level: str = "INFO") -> None:
    """Install a stderr handler with the redacting filter on the root logger (idempotent), at
    `level`, with the payload-printing libraries held at WARNING."""
    level = level.upper()
    root = logging.getLogger()
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for handler in root.handlers:
        if any(isinstance(f, RedactingFilter) for f in handler.filters):
            return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(OwnDebugOnly())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
