"""Intake benchmarks: `gateway ingest` in batches, and HTTP intake over mutual TLS; prints JSON lines.

    .venv/bin/python bench/intake.py ingest --titles 20000 [--batch 500]
    .venv/bin/python bench/intake.py http --clients 32 --seconds 20 [--workers 2] [--client httpx]
    .venv/bin/python bench/intake.py all
    .venv/bin/python bench/intake.py sign-archive --megabytes 400     # SEPA emission's last step

Every title is distinct (the greffe example with its minute number and reference changed), so each
one is a new dossier: validated, stored, signed three times and archived three times (payload,
canonical dossier, receipt), as in production. Each run uses a fresh dev PKI, SQLite database and
archive in a temp folder (same file system as /tmp), with fsync on.

ingest: `gateway ingest --source greffe FOLDER` in a subprocess; `titles_per_second` counts from the
first answer line to the last (the command's start-up, imports and migrations, is `startup_seconds`).
http: `gateway serve` in a subprocess; N asyncio clients, each with its own keep-alive mTLS
connection, post distinct titles for a bounded time; latency from send to full answer. The load
generator shares the cores with the server: `--client raw` (default) is the lean HTTP/1.1 client of
http_service.py, `--client httpx` the httpx one (several times its CPU per request); the JSON says
which, and the CPU both sides took (`client_cpu_ms_per_request`, `server_cpu_ms_per_request`).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_service import CLIENT_KINDS, ClientKind, drive, free_port, open_load, tls_context, wait_ready
from postgres import Postgres, throwaway_postgres

from gateway.devtools.pki import init_dev_pki

EXAMPLE = Path(__file__).resolve().parents[1] / "schemas" / "examples" / "greffe-1.xml"
ENTRY = "from gateway.cli import main; main()"


@functools.cache
def _example() -> bytes:
    return EXAMPLE.read_bytes()


def title(number: int, run: str = "A") -> bytes:
    """The greffe example as a distinct title: another minute number and reference."""
    return (
        _example()
        .replace(b"26/01842", f"26/{run}{number:08d}".encode())
        .replace(b"TJNANTES-2026-004217", f"TJN-{run}-{number:08d}".encode())
    )


def environment(root: Path) -> dict[str, str]:
    pki = root / "certs"
    init_dev_pki(pki)
    return {**os.environ, "GATEWAY_CERTS_DIR": str(pki), "GATEWAY_DATA_DIR": str(root / "var")}


def bench_ingest(titles: int, batch: int, jobs: int | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        env = environment(root)
        folder = root / "titles"
        folder.mkdir()
        base = EXAMPLE.read_bytes()
        for i in range(titles):
            text = base.replace(b"26/01842", f"26/I{i:08d}".encode())
            (folder / f"{i:08d}.xml").write_bytes(text.replace(b"TJNANTES-2026-004217", b"TJN-I-%08d" % i))
        started = time.perf_counter()
        options = ["--batch", str(batch)] + ([] if jobs is None else ["--jobs", str(jobs)])
        # stderr to a file: the command logs a line per title there (GATEWAY_LOG_LEVEL), and a
        # pipe nobody reads until the end fills up and blocks it for good
        errors = stack.enter_context((root / "stderr.log").open("w+b"))
        proc = subprocess.Popen(
            [sys.executable, "-c", ENTRY, "ingest", "--source", "greffe", *options, str(folder)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert proc.stdout is not None
        first: float | None = None
        outcomes: dict[str, int] = {}
        for line in proc.stdout:
            first = first or time.perf_counter()
            outcome = json.loads(line).get("outcome", "rejected")
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        last = time.perf_counter()
        proc.wait()
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
        if proc.returncode != 0 or first is None:
            raise SystemExit(f"ingest failed ({proc.returncode}): {stderr[-2000:]}")
        first_batch = min(batch, titles)
        # the first answers arrive with the first batch: count the rate over the other batches
        rate = (titles - first_batch) / (last - first) if titles > first_batch else 0.0
        return {
            "bench": "ingest",
            "titles": titles,
            "batch": batch,
            "jobs": jobs if jobs is not None else os.cpu_count(),
            "seconds": round(last - started, 2),
            "startup_seconds": round(first - started, 2),
            "titles_per_second": round(rate, 1),
            "overall_titles_per_second": round(titles / (last - started), 1),
            "outcomes": outcomes,
            "archive_entries": _archive_entries(f"sqlite:///{root / 'var' / 'gateway.sqlite3'}"),
        }


def _archive_entries(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT size FROM archive_head")).scalar() or 0)
    finally:
        engine.dispose()


async def post_titles(
    url: str, pki: Path, *, clients: int, seconds: float, client: ClientKind = "raw"
) -> dict[str, Any]:
    counter = iter(range(10**9))
    context = tls_context(pki, "greffe")
    async with open_load(
        client,
        url,
        context,
        clients=clients,
        method="POST",
        path="/v1/greffe/transmissions",
        content_type="application/xml",
        timeout=60,
    ) as load:
        run = await drive(load, seconds=seconds, body=lambda: title(next(counter), run="H"))
    ordered = sorted(run.latencies)
    accepted = run.statuses.get(201, 0)
    return {
        "bench": "http",
        "client": client,
        "clients": clients,
        "seconds": round(run.elapsed, 2),
        "requests": len(ordered),
        "titles_per_second": round(accepted / run.elapsed, 1),
        "p50_ms": round(run.percentile_ms(0.50), 1),
        "p90_ms": round(run.percentile_ms(0.90), 1),
        "p99_ms": round(run.percentile_ms(0.99), 1),
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else 0.0,
        "statuses": run.statuses,
        "transport_errors": run.transport_errors,
    }


def bench_http(
    clients: int, seconds: float, workers: int, client: ClientKind = "raw", *, postgres: bool = False
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        env = environment(root)
        database: Postgres | None = None
        if postgres:
            database = stack.enter_context(throwaway_postgres())
            env["GATEWAY_DATABASE_URL"] = database.url
        port = free_port()
        command = [sys.executable, "-c", ENTRY, "serve", "--port", str(port)]
        if workers > 1:
            command += ["--workers", str(workers)]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"https://localhost:{port}"
            wait_ready(url, root / "certs")
            client_before = _cpu(resource.RUSAGE_SELF)
            server_before = _tree_cpu(server.pid)
            own_before = _own_cpu(server.pid)
            database_before = _tree_cpu(database.pid) if database else 0.0
            result = asyncio.run(
                post_titles(url, root / "certs", clients=clients, seconds=seconds, client=client)
            )
            # the load generator shares the machine's cores with the server: say how much it took
            # (both include the warm-up: handshakes and one GET /healthz per connection)
            client_cpu = _cpu(resource.RUSAGE_SELF) - client_before
            server_cpu = _tree_cpu(server.pid) - server_before
            own_cpu = _own_cpu(server.pid) - own_before
            requests = max(result["requests"], 1)
            result["client_cpu_seconds"] = round(client_cpu, 1)
            result["server_cpu_seconds"] = round(server_cpu, 1)
            result["client_cpu_ms_per_request"] = round(client_cpu * 1000 / requests, 2)
            result["server_cpu_ms_per_request"] = round(server_cpu * 1000 / requests, 2)
            # the server process alone (event loop, intake threads: one GIL) and its validation
            # processes: each is bounded by one core, so each figure bounds the titles/s
            result["server_process_cpu_ms_per_request"] = round(own_cpu * 1000 / requests, 2)
            result["validation_cpu_ms_per_request"] = round((server_cpu - own_cpu) * 1000 / requests, 2)
            result["titles_per_batch"] = _titles_per_batch(url, root / "certs")
            if database is not None:  # PostgreSQL shares the cores too
                database_cpu = _tree_cpu(database.pid) - database_before
                result["postgres_cpu_ms_per_request"] = round(database_cpu * 1000 / requests, 2)
        finally:
            server.terminate()
            server.wait(timeout=30)
        result["workers"] = workers
        result["database"] = "postgresql" if postgres else "sqlite"
        result["archive_entries"] = _archive_entries(
            env.get("GATEWAY_DATABASE_URL") or f"sqlite:///{root / 'var' / 'gateway.sqlite3'}"
        )
        return result


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _own_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _titles_per_batch(url: str, pki: Path) -> float | None:
    """Mean titles per intake transaction, from the server's gateway_intake_batch_size histogram."""
    import httpx

    with httpx.Client(base_url=url, verify=tls_context(pki, "backoffice")) as client:
        text = client.get("/metrics").text
    found = dict(
        line.split(" ", 1)
        for line in text.splitlines()
        if line.startswith(("gateway_intake_batch_size_sum ", "gateway_intake_batch_size_count "))
    )
    count = float(found.get("gateway_intake_batch_size_count", 0))
    return round(float(found["gateway_intake_batch_size_sum"]) / count, 1) if count else None


def _tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its children still running (from /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        pids += [int(child) for child in children]
    return total


def bench_sign_archive(megabytes: int) -> dict[str, Any]:
    """The last step of a SEPA emission on a file of national size: streamed signature + archive."""
    from gateway.archive import Archive
    from gateway.signing.cms import Signer

    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        root = Path(tmp)
        init_dev_pki(root / "certs")
        signer = Signer.from_files(root / "certs" / "signer.pem", root / "certs" / "signer-key.pem")
        path = root / "pain008.xml"
        block = b"".join(
            f"<DrctDbtTxInf><PmtId><EndToEndId>E2E-{n:012d}</EndToEndId></PmtId></DrctDbtTxInf>\n".encode()
            for n in range(10_000)
        )
        with path.open("wb") as out:
            while out.tell() < megabytes << 20:
                out.write(block)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        signature = signer.sign_detached_file(path)
        signed = time.perf_counter()
        with Archive.open(f"sqlite:///{root / 'gw.sqlite3'}", root / "archive", signer=signer) as archive:
            entry = archive.append_file("outbound-pain.008", path, signature=signature, metadata={})
        archived = time.perf_counter()
        return {
            "bench": "sign-archive",
            "file_mb": round(path.stat().st_size / (1 << 20)),
            "sign_seconds": round(signed - started, 2),
            "archive_seconds": round(archived - signed, 2),
            "entry": entry.seq,
            "peak_rss_mb_before": round(rss_before),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["ingest", "http", "sign-archive", "all"])
    parser.add_argument("--megabytes", type=int, default=400, help="sign-archive: file size")
    parser.add_argument("--titles", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=None, help="ingest: validation processes")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--client", choices=CLIENT_KINDS, default="raw", help="http: load generator")
    parser.add_argument(
        "--postgres", action="store_true", help="http: a throwaway PostgreSQL (fsync on) instead of SQLite"
    )
    args = parser.parse_args()
    if args.which in ("ingest", "all"):
        print(json.dumps(bench_ingest(args.titles, args.batch, args.jobs)), flush=True)
    if args.which in ("http", "all"):
        print(
            json.dumps(
                bench_http(args.clients, args.seconds, args.workers, args.client, postgres=args.postgres)
            ),
            flush=True,
        )
    if args.which == "sign-archive":
        print(json.dumps(bench_sign_archive(args.megabytes)), flush=True)


if __name__ == "__main__":
    main()
