"""RFC 9457 problem details for every GatewayError: the one place where error classes meet statuses.

Used by the HTTP edge (as `application/problem+json`) and by the command line (printed on stdout),
so that a sender sees the same document whichever way it sent.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import (
    AuthenticationError,
    ConfigurationError,
    ForbiddenRole,
    GatewayError,
    IdempotencyKeyReused,
    Issue,
    MalformedPayload,
    NotFound,
    PayloadTooLarge,
    RecordViolation,
    RuleViolation,
    SchemaViolation,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:fr:ifpa:problem:"

# error class -> (HTTP status, title); the first matching class in this order wins
_STATUS: tuple[tuple[type[GatewayError], int, str], ...] = (
    (PayloadTooLarge, 413, "Payload too large"),
    (MalformedPayload, 400, "Malformed payload"),
    (SchemaViolation, 400, "Schema violation"),
    (RecordViolation, 422, "The record breaks a rule"),
    (RuleViolation, 422, "The title breaks a rule"),
    (IdempotencyKeyReused, 422, "Idempotency-Key already used for another payload"),
    (AuthenticationError, 401, "Client certificate missing or unknown"),
    (ForbiddenRole, 403, "Role not allowed here"),
    (NotFound, 404, "Not found"),
    (ConfigurationError, 500, "Gateway misconfigured"),
)
UNSUPPORTED_MEDIA_TYPE = 415


def status_for(error: GatewayError) -> int:
    for cls, status, _ in _STATUS:
        if isinstance(error, cls):
            return status
    return 400


def title_for(error: GatewayError) -> str:
    for cls, _, title in _STATUS:
        if isinstance(error, cls):
            return title
    return "Bad request"


def problem(
    error: GatewayError,
    *,
    status: int | None = None,
    instance: str | None = None,
    warnings: list[Issue] | None = None,
) -> dict[str, Any]:
    """The problem+json document of an error, listing every issue it carries."""
    code = error.code
    errors = [i.as_dict() for i in error.issues if i.severity == "error"]
    count = len(errors)
    detail = error.message if count <= 1 else f"{count} errors; the first: {error.message}"
    doc: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title_for(error),
        "status": status or status_for(error),
        "detail": detail,
        "errors": errors,
    }
    if instance:
        doc["instance"] = instance
    if warnings:
        doc["warnings"] = [w.as_dict() for w in warnings]
    return doc
