"""HTTP benchmark: N concurrent mutual-TLS clients against `gateway serve` on loopback; prints JSON.

    .venv/bin/python bench/http_service.py                            # 16 clients, 10 s, GET /v1/whoami
    .venv/bin/python bench/http_service.py --clients 32 --seconds 20 --path /healthz
    .venv/bin/python bench/http_service.py --url https://localhost:8443 --pki certs/dev   # a running server
    .venv/bin/python bench/http_service.py --client httpx             # the httpx load generator

Without --url it creates a dev PKI and a data folder in a temp dir and starts `gateway serve` in a
subprocess (so that server and clients do not share one GIL). Each client is an asyncio task
with its own keep-alive connection; latency is measured per request, from send to full answer.
Only for loopback measurements; bench/intake.py posts titles with the same helpers.

Two load generators (`--client`):

raw (default): `RawConnection`, a minimal HTTP/1.1 client on `asyncio.open_connection` with TLS.
    Why: on loopback the generator shares the machine's cores with the server (2 on the bench
    machine). httpx costs about as much CPU per request as the server itself, so it takes half
    the CPU away from what is measured; this client writes each request as bytes encoded before
    the clock starts (`request_bytes`) and reads the answer with `readuntil` + `readexactly`, so its
    CPU per request is a fraction of the server's. It only understands what it needs: answers
    framed by Content-Length (the gateway's). A chunked answer, or one with no length, raises
    `UnsupportedResponse` (the run stops, rather than mis-measure); `Connection: close` makes it
    reconnect before the next request; a broken connection (OSError, EOF) counts as a transport
    error and the next request reconnects.
httpx: `httpx.AsyncClient` with one keep-alive connection per client (the former generator).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from gateway.devtools.pki import init_dev_pki

ClientKind = Literal["raw", "httpx"]
CLIENT_KINDS: tuple[ClientKind, ...] = ("raw", "httpx")

# a broken or refused connection, a timeout (TimeoutError is an OSError), EOF in an answer
RAW_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (OSError, asyncio.IncompleteReadError)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_server() -> Iterator[tuple[str, Path]]:
    """`gateway serve` on a free port with throwaway certificates and storage."""
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        root = Path(tmp)
        pki = root / "certs"
        init_dev_pki(pki)
        port = free_port()
        env = {**os.environ, "GATEWAY_CERTS_DIR": str(pki), "GATEWAY_DATA_DIR": str(root / "var")}
        entry = "from gateway.cli import main; main()"
        proc = subprocess.Popen(
            [sys.executable, "-c", entry, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"https://localhost:{port}"
            wait_ready(url, pki)
            yield url, pki
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def tls_context(pki: Path, identity: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    context.load_cert_chain(pki / f"{identity}.pem", pki / f"{identity}-key.pem")
    return context


def wait_ready(url: str, pki: Path) -> None:
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=url, verify=tls_context(pki, "backoffice")) as client:
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not become ready")
            time.sleep(0.1)


class UnsupportedResponse(Exception):
    """An answer `RawConnection` cannot frame (chunked, no length, interim): the run stops."""


def request_bytes(
    method: str, path: str, body: bytes = b"", *, host: str = "localhost", content_type: str | None = None
) -> bytes:
    """One HTTP/1.1 request, head and body, ready to write."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    if body or method not in ("GET", "HEAD"):
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode("ascii") + b"\r\n" + body


def parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status, body length and whether the server closes the connection, from a response head."""
    status_line, *lines = head.rstrip(b"\r\n").split(b"\r\n")
    version, _, rest = status_line.partition(b" ")
    if not version.startswith(b"HTTP/1."):
        raise UnsupportedResponse(f"not an HTTP/1.x status line: {status_line!r}")
    status = int(rest[:3])
    close = version == b"HTTP/1.0"
    length: int | None = None
    for line in lines:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            raise UnsupportedResponse(f"Transfer-Encoding {value.strip()!r} (status {status}): not measured")
        elif name == b"connection":
            tokens = value.lower()
            close = b"close" in tokens or (close and b"keep-alive" not in tokens)
    if status < 200:
        raise UnsupportedResponse(f"interim response {status}: not expected")
    if length is None:
        if status not in (204, 304):
            raise UnsupportedResponse(f"status {status} without Content-Length: not measured")
        length = 0
    return status, length, close


class RawConnection:
    """One keep-alive HTTP/1.1 connection over TLS, opened on first use and again after a close."""

    def __init__(self, url: str, context: ssl.SSLContext, *, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "localhost"
        self.port = parts.port or 443
        self.context = context
        self.timeout = timeout
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.close()
        self._stream = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, ssl=self.context, server_hostname=self.host),
            self.timeout,
        )
        return self._stream

    def close(self) -> None:
        if self._stream is not None:
            self._stream[1].close()
            self._stream = None

    async def request(self, data: bytes) -> tuple[int, bytes]:
        """Writes `data` (see `request_bytes`) and reads the whole answer: status and body."""
        stream = self._stream
        if stream is None or stream[0].at_eof():  # never used, closed by us, or by the server
            stream = await self.connect()
        reader, writer = stream
        try:
            async with asyncio.timeout(self.timeout):
                writer.write(data)
                await writer.drain()
                status, length, close = parse_head(await reader.readuntil(b"\r\n\r\n"))
                body = await reader.readexactly(length) if length else b""
        except BaseException:
            self.close()  # the connection's state is unknown: the next request reconnects
            raise
        if close:
            self.close()
        return status, body


Send = Callable[[bytes], Awaitable[int]]


@dataclass(frozen=True)
class Load:
    """One sender per client, and how to turn a body into what a sender takes."""

    sends: Sequence[Send]
    encode: Callable[[bytes], bytes]  # run before the clock starts: the request as the sender writes it
    transport_errors: tuple[type[BaseException], ...]


@asynccontextmanager
async def open_load(
    kind: ClientKind,
    url: str,
    context: ssl.SSLContext,
    *,
    clients: int,
    method: str,
    path: str,
    content_type: str | None = None,
    timeout: float = 30.0,
) -> AsyncIterator[Load]:
    """`clients` keep-alive connections, each warmed up (TLS handshake, GET /healthz)."""
    if kind == "httpx":
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        headers = {} if content_type is None else {"content-type": content_type}
        async with httpx.AsyncClient(base_url=url, verify=context, limits=limits, timeout=timeout) as http:
            await asyncio.gather(*(http.get("/healthz") for _ in range(clients)))  # handshakes first

            async def send_httpx(body: bytes) -> int:
                if method == "GET":
                    answer = await http.get(path)
                else:
                    answer = await http.request(method, path, content=body, headers=headers)
                return answer.status_code

            yield Load([send_httpx] * clients, lambda body: body, (httpx.TransportError,))
        return
    host = urlsplit(url).hostname or "localhost"
    connections = [RawConnection(url, context, timeout=timeout) for _ in range(clients)]
    healthz = request_bytes("GET", "/healthz", host=host)
    try:
        await asyncio.gather(*(connection.request(healthz) for connection in connections))

        def raw_sender(connection: RawConnection) -> Send:
            async def send_raw(data: bytes) -> int:
                return (await connection.request(data))[0]

            return send_raw

        def encode(body: bytes) -> bytes:
            return request_bytes(method, path, body, host=host, content_type=content_type)

        yield Load([raw_sender(c) for c in connections], encode, RAW_TRANSPORT_ERRORS)
    finally:
        for connection in connections:
            connection.close()


@dataclass
class Measurement:
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    elapsed: float = 0.0

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def drive(load: Load, *, seconds: float, body: Callable[[], bytes]) -> Measurement:
    """Every client sends requests back to back for `seconds`; latency from write to full answer."""
    result = Measurement()
    stop = time.perf_counter() + seconds

    async def client(send: Send) -> None:
        while time.perf_counter() < stop:
            data = load.encode(body())
            started = time.perf_counter()
            try:
                status = await send(data)
            except load.transport_errors:
                result.transport_errors += 1
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(client(send) for send in load.sends))
    result.elapsed = time.perf_counter() - began
    return result


async def run_clients(
    url: str,
    pki: Path,
    *,
    identity: str,
    path: str,
    clients: int,
    seconds: float,
    client: ClientKind = "raw",
) -> dict[str, Any]:
    context = tls_context(pki, identity)
    async with open_load(client, url, context, clients=clients, method="GET", path=path) as load:
        run = await drive(load, seconds=seconds, body=lambda: b"")
    latencies = run.latencies
    return {
        "path": path,
        "identity": identity,
        "client": client,
        "clients": clients,
        "seconds": round(run.elapsed, 2),
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / run.elapsed, 1),
        "p50_ms": round(run.percentile_ms(0.50), 2),
        "p99_ms": round(run.percentile_ms(0.99), 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
        "statuses": run.statuses,
        "transport_errors": run.transport_errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--path", default="/v1/whoami")
    parser.add_argument("--identity", default="greffe", help="client certificate stem in the PKI")
    parser.add_argument("--client", choices=CLIENT_KINDS, default="raw", help="load generator")
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--pki", type=Path, default=Path("certs/dev"), help="with --url")
    args = parser.parse_args()

    def measure(url: str, pki: Path) -> dict[str, Any]:
        return asyncio.run(
            run_clients(
                url,
                pki,
                identity=args.identity,
                path=args.path,
                clients=args.clients,
                seconds=args.seconds,
                client=args.client,
            )
        )

    if args.url:
        result = measure(args.url, args.pki)
    else:
        with local_server() as (url, pki):
            result = measure(url, pki)
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
