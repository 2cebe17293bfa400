"""HTTP benchmark: N concurrent mutual-TLS clients against `gateway serve` on loopback; prints JSON.

    .venv/bin/python bench/http_service.py                            # 16 clients, 10 s, GET /v1/whoami
    .venv/bin/python bench/http_service.py --clients 32 --seconds 20 --path /healthz
    .venv/bin/python bench/http_service.py --url https://localhost:8443 --pki certs/dev   # a running server

Without --url it creates a dev PKI and a data folder in a temp dir and starts `gateway serve` in a
subprocess (so that server and clients do not share one GIL). Each client is an asyncio task
with its own keep-alive connection; latency is measured per request, from send to full answer.
Only for loopback measurements: the real intake benchmark will post titles the same way.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from gateway.pki import init_dev_pki


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


async def run_clients(
    url: str, pki: Path, *, identity: str, path: str, clients: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    context = tls_context(pki, identity)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, verify=context, limits=limits, timeout=30) as http:
        # open every connection (TLS handshakes) before the clock starts
        await asyncio.gather(*(http.get("/healthz") for _ in range(clients)))
        stop = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                started = time.perf_counter()
                try:
                    answer = await http.get(path)
                except httpx.TransportError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    ordered = sorted(latencies)

    def percentile(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    return {
        "path": path,
        "identity": identity,
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(0.50), 2),
        "p99_ms": round(percentile(0.99), 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
        "statuses": statuses,
        "transport_errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--path", default="/v1/whoami")
    parser.add_argument("--identity", default="greffe", help="client certificate stem in the PKI")
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
