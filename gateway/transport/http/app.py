"""The FastAPI app factory: everything it needs is passed in; nothing is read at import."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI

from gateway.console import routes as console_routes
from gateway.transport.http import (
    archive_routes,
    feed_routes,
    health,
    intake_routes,
    ledger_routes,
    mandate_routes,
    schedule_routes,
    whoami,
)
from gateway.transport.http.deps import provide
from gateway.transport.http.error_handlers import ErrorShield, install_problem_handlers
from gateway.transport.http.health import ReadinessChecks
from gateway.transport.http.identity import Authenticator
from gateway.transport.http.limits import BodySizeLimit
from gateway.transport.http.metrics import Metrics, MetricsMiddleware

DEFAULT_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class AppState:
    """What the routes reach through `request.app.state.gateway`."""

    authenticator: Authenticator
    metrics: Metrics
    readiness: ReadinessChecks
    services: Mapping[type[Any], object] = field(default_factory=dict)


def create_app(
    *,
    authenticator: Authenticator,
    metrics: Metrics | None = None,
    readiness: ReadinessChecks | None = None,
    services: Mapping[type[Any], object] | None = None,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    extra_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The gateway's HTTP app.

    `services` maps a type to its instance (e.g. `{IntakeService: intake}`); a route gets one with
    `Annotated[IntakeService, Depends(provide(IntakeService))]`. The gateway's own routers are
    always mounted, so the OpenAPI document does not depend on what is injected;
    `extra_routers` is for tests and demos.
    """
    app = FastAPI(
        title="IFPA gateway",
        version="1",
        summary="Child-support titles in over mutual TLS; signed receipts out (docs/http-api.md).",
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry hooks look up the global providers on every request; the
        # gateway measures itself (/metrics, Prometheus), so they are off.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.gateway = AppState(
        authenticator=authenticator,
        metrics=metrics if metrics is not None else Metrics(),
        readiness=dict(readiness or {}),
        services=dict(services or {}),
    )
    install_problem_handlers(app)
    routers = (
        health.router,
        whoami.router,
        intake_routes.router,
        feed_routes.router,
        ledger_routes.router,
        archive_routes.router,
        mandate_routes.router,
        schedule_routes.router,
        console_routes.router,  # /console/: HTML for the operator role, not in the OpenAPI document
    )
    for router in (*routers, *extra_routers):
        app.include_router(router)
    # Outermost last: metrics see every answer, 413s from the size limit included.
    app.add_middleware(ErrorShield)
    app.add_middleware(BodySizeLimit, limit=max_payload_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.gateway.metrics)
    _declare_mutual_tls(app)
    _declare_problems(app)
    return app


def _declare_mutual_tls(app: FastAPI) -> None:
    """Say in the OpenAPI document (3.1 `mutualTLS` scheme) that every call needs a certificate."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = plain()
            schema.setdefault("components", {}).setdefault("securitySchemes", {})["mutualTLS"] = {
                "type": "mutualTLS",
                "description": (
                    "A client certificate from the gateway's CA; its role (greffe, avocat, "
                    "notaire, back-office, operator) decides which paths it may call."
                ),
            }
            schema["security"] = [{"mutualTLS": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_ISSUE_SCHEMA = {
    "type": "object",
    "required": ["code", "field", "message"],
    "properties": {
        "code": {"type": "string", "description": "stable code (docs/rules.md)"},
        "field": {"type": "string", "description": "path of the field in the sender's own format"},
        "message": {"type": "string", "description": "for people; never quotes the value sent"},
    },
}
_PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; a refused transmission adds its signed rejection receipt",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:fr:ifpa:problem:totals-mismatch"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Issue"}},
        "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Issue"}},
        "receipt": {"type": "object"},
        "signature": {"type": "string", "contentEncoding": "base64"},
    },
}


def _declare_problems(app: FastAPI) -> None:
    """Say in the OpenAPI document what errors really are: problem+json, and 400 for bad parameters.

    FastAPI declares a 422 "Validation Error" on every route with parameters, but the gateway
    answers a malformed parameter with a 400 `malformed-payload` problem (gateway.problem).
    """
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = plain()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                components.pop(name, None)
            components["Issue"] = _ISSUE_SCHEMA
            components["Problem"] = _PROBLEM_SCHEMA
            problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    answers = operation.get("responses", {})
                    if answers.get("422", {}).get("description") == "Validation Error":
                        del answers["422"]
                        answers.setdefault(
                            "400", {"description": "a malformed parameter (malformed-payload)"}
                        )
                    for status, answer in answers.items():
                        if status[0] in "45":  # a body a route declares itself stays (readiness)
                            answer.setdefault("content", problem)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["AppState", "create_app", "provide"]
