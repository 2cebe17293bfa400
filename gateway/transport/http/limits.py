"""Request limits at the edge: body size (413, chunked bodies included) and media types (415)."""

from __future__ import annotations

from collections.abc import Callable, Collection, MutableMapping
from typing import Any

from fastapi import Request

from gateway.errors import Code, PayloadTooLarge, UnsupportedMediaType
from gateway.problem import problem
from gateway.transport.http.error_handlers import send_problem
from gateway.transport.http.tls import ASGIApp


def check_media_type(content_type: str | None, accepted: Collection[str]) -> None:
    """Raise UnsupportedMediaType unless `content_type` (parameters ignored) is accepted."""
    essence = (content_type or "").split(";", 1)[0].strip().lower()
    if essence not in {a.lower() for a in accepted}:
        wanted = ", ".join(sorted(accepted))
        raise UnsupportedMediaType(
            f"media type {essence or '(none)'} not accepted here; send {wanted}",
            code=Code.MALFORMED_PAYLOAD,
            field="Content-Type",
        )


def require_media_type(*accepted: str) -> Callable[[Request], None]:
    """A dependency refusing other request media types with 415."""

    def dependency(request: Request) -> None:
        check_media_type(request.headers.get("content-type"), accepted)

    return dependency


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the body exceeds {limit} bytes", code=Code.PAYLOAD_TOO_LARGE, field="body")


class BodySizeLimit:
    """Refuses bodies over `limit` bytes: at once from Content-Length, else while they stream in.

    A chunked body has no length up front, so `receive` is wrapped: the chunk that crosses the
    limit raises PayloadTooLarge inside the app, and whatever the app answers then (or if it lets
    the error through) is replaced by a 413 problem.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit:
                    await _send_problem(send, scope, _too_large(self.limit))
                    return
        seen = 0
        exceeded = False
        started = False

        async def limited_receive() -> MutableMapping[str, Any]:
            nonlocal seen, exceeded
            message: MutableMapping[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise _too_large(self.limit)
            return message

        async def guarded_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if exceeded:
                # Whatever the app made of the failed read (FastAPI turns it into a 400 when it
                # parses a declared body), the answer is 413.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _send_problem(send, scope, _too_large(self.limit))
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except PayloadTooLarge as exc:
            if started:
                raise
            await _send_problem(send, scope, exc)


async def _send_problem(send: Any, scope: MutableMapping[str, Any], error: PayloadTooLarge) -> None:
    await send_problem(send, problem(error, instance=scope.get("path")), close=True)
