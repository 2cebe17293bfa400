"""RFC 9457 problem details, and the one table where errors meet HTTP statuses.

Only the entry points use this module: the HTTP edge answers with these documents as
`application/problem+json`, the command line prints the same ones, so a sender sees the same
document whichever way it sent. Services raise errors and return results; they never choose a
status. How a caller reads these documents: docs/http-api.md "Errors".
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.errors import Code, GatewayError, Issue

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:fr:ifpa:problem:"
INTERNAL_ERROR = 500

#: An error's kind (the `default_code` of its class, or of the nearest parent class listed) ->
#: HTTP status and title. The only place a status is chosen for an error; a kind that is not
#: here (a new error class nobody mapped, an archive or signature failure) is a 500: the caller
#: did nothing wrong that a 4xx could tell it to fix.
STATUSES: Mapping[str, tuple[int, str]] = {
    Code.MALFORMED_PAYLOAD: (400, "Malformed payload"),
    Code.UNSUPPORTED_MEDIA_TYPE: (415, "Unsupported media type"),
    Code.SCHEMA_VIOLATION: (400, "Schema violation"),
    Code.PAYLOAD_TOO_LARGE: (413, "Payload too large"),
    Code.RULE_VIOLATION: (422, "The title breaks a rule"),
    Code.RECORD_VIOLATION: (422, "The record breaks a rule"),
    Code.IDEMPOTENCY_KEY_REUSED: (422, "Idempotency-Key already used for another payload"),
    Code.UNKNOWN_ROLE: (401, "Client certificate missing or unknown"),
    Code.FORBIDDEN_ROLE: (403, "Role not allowed here"),
    Code.NOT_FOUND: (404, "Not found"),
    Code.CONFIGURATION: (500, "Gateway misconfigured"),
    Code.ARCHIVE_CORRUPT: (500, "Archive damaged"),
    Code.BANK_CHANNEL_FAILED: (502, "The bank channel did not take the file"),
    Code.INVALID_PERIOD: (400, "Invalid period"),
    Code.INDEX_FILE_INVALID: (400, "Not an INSEE series export"),
    Code.INDEX_MISSING: (409, "Held: an index value the revaluation needs is missing"),
    Code.CSRF_INVALID: (403, "Missing or invalid CSRF token"),
    Code.INVALID_INPUT: (400, "Invalid input"),
}
_UNMAPPED = (INTERNAL_ERROR, "Internal error")


def _entry(error: GatewayError) -> tuple[int, str]:
    for cls in type(error).__mro__:
        kind = vars(cls).get("default_code")
        if kind is not None and kind in STATUSES:
            return STATUSES[kind]
    return _UNMAPPED


def status_for(error: GatewayError) -> int:
    """The HTTP status answering `error` (500 when its kind is not in STATUSES)."""
    return _entry(error)[0]


def title_for(error: GatewayError) -> str:
    return _entry(error)[1]


def problem(
    error: GatewayError, *, instance: str | None = None, warnings: Sequence[Issue] | None = None
) -> dict[str, Any]:
    """The problem+json document of an error: every error issue, and the warnings (by default the
    error's own warning issues)."""
    code = error.code
    errors = [i.as_dict() for i in error.issues if i.severity == "error"]
    found = [i for i in error.issues if i.severity == "warning"] if warnings is None else warnings
    listed = [w.as_dict() for w in found]
    count = len(errors)
    detail = error.message if count <= 1 else f"{count} errors; the first: {error.message}"
    doc: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title_for(error),
        "status": status_for(error),
        "detail": detail,
        "errors": errors,
    }
    if instance:
        doc["instance"] = instance
    if listed:
        doc["warnings"] = listed
    return doc


def rejection_problem(
    error: GatewayError, receipt: Mapping[str, Any], signature: bytes, *, instance: str | None = None
) -> dict[str, Any]:
    """The answer to a refused transmission: the problem, its warnings and the signed rejection receipt.

    The warnings are the receipt's, so that a replayed rejection answers exactly as the first time.
    """
    doc = problem(error, instance=instance)
    doc.pop("warnings", None)
    if receipt.get("warnings"):
        doc["warnings"] = list(receipt["warnings"])
    doc["receipt"] = dict(receipt)
    doc["signature"] = base64.b64encode(signature).decode("ascii")
    return doc


def internal_error(instance: str | None = None) -> dict[str, Any]:
    """The problem answering an unexpected failure: nothing of its message (it may quote a payload)."""
    doc: dict[str, Any] = {
        "type": TYPE_BASE + "internal-error",
        "title": _UNMAPPED[1],
        "status": INTERNAL_ERROR,
        "detail": "the gateway failed to process the request",
        "errors": [],
    }
    if instance is not None:
        doc["instance"] = instance
    return doc
