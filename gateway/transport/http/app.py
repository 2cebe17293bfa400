"""The FastAPI app factory: everything it needs is passed in; nothing is read at import."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from fastapi import APIRouter, FastAPI, Request

from gateway.transport.http import health, whoami
from gateway.transport.http.health import ReadinessChecks
from gateway.transport.http.identity import Authenticator
from gateway.transport.http.limits import BodySizeLimit
from gateway.transport.http.metrics import Metrics, MetricsMiddleware
from gateway.transport.http.problems import install_problem_handlers

T = TypeVar("T")

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
    )
    app.state.gateway = AppState(
        authenticator=authenticator,
        metrics=metrics if metrics is not None else Metrics(),
        readiness=dict(readiness or {}),
        services=dict(services or {}),
    )
    install_problem_handlers(app)
    for router in (health.router, whoami.router, *extra_routers):
        app.include_router(router)
    # Outermost last: metrics see every answer, 413s from the size limit included.
    app.add_middleware(BodySizeLimit, limit=max_payload_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.gateway.metrics)
    return app


def provide(kind: type[T]) -> Callable[[Request], T]:
    """A dependency returning the service of type `kind` given to create_app."""

    def dependency(request: Request) -> T:
        state: AppState = request.app.state.gateway
        try:
            return cast(T, state.services[kind])
        except KeyError:
            raise LookupError(f"no {kind.__name__} given to create_app") from None

    dependency.__name__ = f"provide_{kind.__name__}"
    return dependency
