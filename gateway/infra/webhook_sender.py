"""HTTP POST of one webhook attempt, bounded in total time (not only per network operation).

httpx timeouts apply to each connect, read and write; a receiver trickling bytes could keep an
attempt alive for much longer. The lease of a claimed delivery (gateway.store.deliveries) is only
safe if an attempt ends before it, so the whole request runs under one deadline. The async client
gives that deadline (`asyncio.timeout`); it runs on a private event loop, so that callers stay plain
synchronous code. One HttpSender belongs to one thread.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from gateway.services.ports import SendResult

MAX_RETRY_AFTER = timedelta(days=1)  # a receiver cannot park a delivery for longer than this


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> timedelta | None:
    """`Retry-After` (RFC 9110 §10.2.3) as a delay: delta-seconds or an HTTP-date; None if absent
    or unreadable, capped at MAX_RETRY_AFTER."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        delay = max(when - (now or datetime.now(UTC)), timedelta(0))
    return min(delay, MAX_RETRY_AFTER)


_KINDS: tuple[tuple[type[httpx.HTTPError], str], ...] = (
    (httpx.ConnectError, "connect error"),
    (httpx.ReadError, "read error"),
    (httpx.WriteError, "write error"),
    (httpx.RemoteProtocolError, "protocol error"),
    (httpx.ProxyError, "proxy error"),
    (httpx.UnsupportedProtocol, "unsupported protocol"),
    (httpx.TooManyRedirects, "too many redirects"),
)


def _cause(exc: BaseException) -> str:
    """What the operating system or TLS said, in words that carry no URL (hence no token)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"certificate verify failed ({seen.verify_message})"
        if isinstance(seen, ssl.SSLError):
            return f"TLS error ({seen.reason or 'handshake failed'})"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, ConnectionResetError):
            return "connection reset"
        if isinstance(seen, socket.gaierror):
            return "host name not resolved"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror.lower()
        seen = seen.__cause__ or seen.__context__
    return ""


def transport_failure(exc: httpx.HTTPError, url: str) -> str:
    """`connect error: connection refused to 127.0.0.1:9` for a delivery's `last_error`: what failed
    and where (host and port only: a URL's path, query or user part may hold a secret).

    >>> transport_failure(httpx.ConnectError("x"), "https://user:pw@bo.example/hooks/t0k3n?k=1")
    'connect error to bo.example:443'
    """
    kind = next((name for cls, name in _KINDS if isinstance(exc, cls)), type(exc).__name__)
    cause = _cause(exc)
    try:
        parts = urlsplit(url)
        where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    except ValueError:
        where = "the subscription's host"
    return f"{kind}: {cause} to {where}" if cause else f"{kind} to {where}"


class HttpSender:
    """Posts with httpx under a total deadline of `timeout` seconds."""

    def __init__(
        self,
        timeout: float,
        *,
        verify: ssl.SSLContext | bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self._verify = verify
        self._transport = transport
        self._runner = asyncio.Runner()
        self._client: httpx.AsyncClient | None = None

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        return self._runner.run(self._send(url, body, dict(headers)))

    async def _send(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        if self._client is None:
            # Created on the runner's loop: the connection pool belongs to that loop.
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                verify=self._verify,
                transport=self._transport,
                follow_redirects=False,  # HTTPS_PROXY / NO_PROXY from the environment apply
            )
        try:
            async with asyncio.timeout(self.timeout):
                # Streaming without reading the body: only the status matters.
                async with self._client.stream("POST", url, content=body, headers=headers) as answer:
                    return SendResult(answer.status_code, retry_after=retry_after(answer.headers))
        except (TimeoutError, httpx.TimeoutException):
            return SendResult(None, "timeout")
        except httpx.HTTPError as exc:
            return SendResult(None, transport_failure(exc, url))

    def close(self) -> None:
        if self._client is not None:
            self._runner.run(self._client.aclose())
            self._client = None
        self._runner.close()

    def __enter__(self) -> HttpSender:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
