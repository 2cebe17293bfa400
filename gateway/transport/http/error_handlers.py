"""The HTTP edge's exception handlers: every error leaves as an RFC 9457 problem+json answer.

Statuses come from the one table in gateway.problem (shared with the command line); the handlers
only add the framework's own errors (404 of an unknown path, 405...). Anything else, a
GatewayError of a kind nobody mapped or any other exception, is a 500 problem, never a 4xx.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from gateway.errors import Code, GatewayError, Issue, MalformedPayload, NotFound
from gateway.problem import PROBLEM_MEDIA_TYPE, TYPE_BASE, internal_error, problem, status_for
from gateway.transport.http.tls import ASGIApp

log = logging.getLogger(__name__)


def problem_response(
    error: GatewayError, *, instance: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    status = status_for(error)
    return JSONResponse(
        problem(error, instance=instance),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


async def _gateway_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayError)
    return problem_response(exc, instance=request.url.path)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [
        Issue(
            Code.MALFORMED_PAYLOAD,
            ".".join(str(p) for p in err.get("loc", ())),
            str(err.get("msg", "invalid")),
        )
        for err in exc.errors()
    ] or [Issue(Code.MALFORMED_PAYLOAD, "", "invalid request")]
    return problem_response(MalformedPayload.from_issues(issues), instance=request.url.path)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return problem_response(NotFound("no such resource"), instance=request.url.path)
    # 405 and the like: not a gateway error code, but still problem+json.
    body: dict[str, Any] = {
        "type": TYPE_BASE + "http-" + str(exc.status_code),
        "title": str(exc.detail),
        "status": exc.status_code,
        "detail": str(exc.detail),
        "errors": [],
        "instance": request.url.path,
    }
    return JSONResponse(body, status_code=exc.status_code, media_type=PROBLEM_MEDIA_TYPE, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The message may quote personal data from the payload: log the class and where, not the text.
    log.error("unexpected %s on %s", type(exc).__name__, request.url.path, exc_info=False)
    body = internal_error(request.url.path)
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE)


class ErrorShield:
    """Answers an unexpected exception with a 500 problem and logs it without its message.

    Starlette's outermost middleware re-raises what reaches it, and the server then logs the
    exception's text, which may quote the payload (names, NIR, IBAN). Here the log gets the class
    and the stack's file/line/function only.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noting_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        except Exception as exc:
            where = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
            log.error("unexpected %s on %s\n%s", type(exc).__name__, scope.get("path"), where)
            if started:
                return  # the answer is under way: the client sees a cut connection
            await send_problem(send, internal_error(str(scope.get("path", ""))))


async def send_problem(send: Any, doc: Mapping[str, Any], *, close: bool = False) -> None:
    """Answer with a problem document at the ASGI level, where FastAPI's handlers do not reach.

    `close`: the rest of the request body is not read, so the connection cannot be reused.
    """
    body = json.dumps(doc).encode()
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": doc["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
