"""Rendering a console page: templates (Jinja2, autoescaped), language, CSRF cookie, headers."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from gateway.console import csrf
from gateway.console.i18n import negotiate, translator
from gateway.console.services import ConsoleServices
from gateway.errors import Issue
from gateway.transport.http.identity import Caller

ENV = Environment(
    loader=PackageLoader("gateway.console", "templates"),  # package data, also from a wheel
    autoescape=True,
    undefined=StrictUndefined,  # a missing value is a bug in the page, not a blank
    trim_blocks=True,
    lstrip_blocks=True,
)
# Personal data: never cached, never framed, nothing from elsewhere, no script at all.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",  # a form POST then carries its Origin (checked)
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_DONE = re.compile(r"[0-9]{1,18}")


def csrf_token(request: Request, services: ConsoleServices, caller: Caller) -> tuple[str, bool]:
    """This browser's token for this certificate, and whether it is new (a cookie to set)."""
    token = request.cookies.get(csrf.COOKIE)
    if token and csrf.valid_for(services.csrf_key, token, caller.fingerprint_sha256):
        return token, False
    return csrf.new_token(services.csrf_key, caller.fingerprint_sha256), True


def render(
    request: Request,
    services: ConsoleServices,
    caller: Caller,
    template: str,
    *,
    section: str,
    title: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = negotiate(request.headers.get("accept-language"))
    t = translator(lang)
    token, fresh = csrf_token(request, services, caller)
    done = request.query_params.get("done")
    html = ENV.get_template(template).render(
        t=t,
        lang=lang,
        caller=caller,
        section=section,
        page_title=t(title),
        csrf=token,
        done=done if done and _DONE.fullmatch(done) else None,
        **context,
    )
    headers = {**SECURITY_HEADERS, "Content-Language": lang, "Vary": "Accept-Language, Cookie"}
    response = HTMLResponse(html, status_code=status, headers=headers)
    if fresh:
        response.set_cookie(csrf.COOKIE, token, secure=True, httponly=True, samesite="strict", path="/")
    return response


def failed(
    request: Request,
    services: ConsoleServices,
    caller: Caller,
    issues: tuple[Issue, ...] | list[Issue],
    *,
    back: str,
    section: str,
    status: int,
) -> HTMLResponse:
    """An action or page refused: every issue with its code and field, and a way back."""
    return render(
        request,
        services,
        caller,
        "failed.html",
        section=section,
        title="failed",
        status=status,
        issues=[i.as_dict() for i in issues],
        back=back,
    )
