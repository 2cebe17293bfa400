"""The FastAPI app factory: everything it needs is passed in; nothing is read at import."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI

from gateway.transport.http import (
    archive_routes,
    feed_routes,
    health,
    intake_routes,
    ledger_routes,
    mandate_routes,
    whoami,
)
from gateway.transport.http.deps import provide
from gateway.transport.http.health import ReadinessChecks
from gateway.transport.http.identity import Authenticator
from gateway.transport.http.limits import BodySizeLimit
from gateway.transport.http.metrics import Metrics, MetricsMiddleware
from gateway.transport.http.problems import ErrorShield, install_problem_handlers

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
        summary="Child-support titles in over mutual TLS; signed receipts out (CONTRACT.md §4).",
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
    )
    for router in (*routers, *extra_routers):
        app.include_router(router)
    # Outermost last: metrics see every answer, 413s from the size limit included.
    app.add_middleware(ErrorShield)
    app.add_middleware(BodySizeLimit, limit=max_payload_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.gateway.metrics)
    _declare_mutual_tls(app)
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
                    "notaire, back-office) decides which paths it may call."
                ),
            }
            schema["security"] = [{"mutualTLS": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["AppState", "create_app", "provide"]
