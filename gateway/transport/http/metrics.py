"""Prometheus metrics of one app (own registry): requests, latency, and intake outcomes."""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from gateway.transport.http.tls import ASGIApp

# Intake is expected in tens of milliseconds; the buckets resolve the 100 ms p99 target.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    """The app's metrics. The intake route calls `accepted`, `duplicate` and `rejected`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._requests = Counter(
            "gateway_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "path", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "gateway_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "path"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._intake = Counter(
            "gateway_intake",
            "Transmissions received, by source, outcome (accepted, duplicate, rejected) and code.",
            ["source", "outcome", "code"],
            registry=self.registry,
        )
        self._batches = Histogram(
            "gateway_intake_batch_size",
            "Titles stored in one transaction and archived with one sync (gateway.infra.intake_queue).",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )

    def observe_request(self, method: str, path: str, status: int, seconds: float) -> None:
        self._requests.labels(method, path, str(status)).inc()
        self._latency.labels(method, path).observe(seconds)

    def accepted(self, source: str) -> None:
        self._intake.labels(source, "accepted", "").inc()

    def duplicate(self, source: str) -> None:
        self._intake.labels(source, "duplicate", "").inc()

    def rejected(self, source: str, code: str) -> None:
        """One rejected transmission, labelled with its first error code (a stable, small set)."""
        self._intake.labels(source, "rejected", code).inc()

    def intake_batch(self, size: int) -> None:
        self._batches.observe(size)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request, labelled by route template (bounded cardinality)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "<unmatched>"
            self.metrics.observe_request(scope["method"], path, status, time.perf_counter() - started)
