"""Liveness, readiness (store and archive reachable, via injected checks) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from gateway.transport.http.metrics import Metrics

log = logging.getLogger(__name__)

#: name -> a callable that raises when the dependency is unreachable (e.g. store.ping)
ReadinessChecks = Mapping[str, Callable[[], object]]

# A hung database must not hang the probe: past this, the dependency counts as unavailable.
CHECK_TIMEOUT_SECONDS = 3.0

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the store and the archive are reachable",
    responses={503: {"description": "a dependency is unreachable", "content": {"application/json": {}}}},
)
async def readyz(request: Request) -> JSONResponse:
    checks: ReadinessChecks = request.app.state.gateway.readiness
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(run_in_threadpool(check), CHECK_TIMEOUT_SECONDS)
        except Exception as exc:
            # Only the class name: messages may carry a DSN or a path with credentials.
            log.warning("readiness check %s failed: %s", name, type(exc).__name__)
            results[name] = "unavailable"
        else:
            results[name] = "ok"
    ready = all(v == "ok" for v in results.values())
    body = {"status": "ok" if ready else "unavailable", "checks": results}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(request: Request) -> Response:
    found: Metrics = request.app.state.gateway.metrics
    return Response(found.render(), media_type=CONTENT_TYPE_LATEST)
