"""The fuzz suite's long budget (issue 12), run by hand (`make fuzz`): mutated titles in process,
and posted over mutual TLS to a throwaway `gateway serve`.

    .venv/bin/python bench/fuzz.py inprocess --count 100000 [--source greffe] [--seed 1] [--jobs 2]
    .venv/bin/python bench/fuzz.py http --count 3000 [--clients 8]

In process, every input must get a dossier that renders or a gateway error (tests.support.fuzzing
.check); over HTTP, every answer must be 2xx or 4xx, never 5xx, and the server must stay up. Failing
inputs are written to --out (default var/fuzz-failures/) for a regression seed. Figures go to
docs/robustness.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from gateway.devtools.pki import init_dev_pki  # noqa: E402
from tests.e2e.harness import free_port, tls_context, wait_until_ready  # noqa: E402
from tests.support.fuzzing import OracleFailure, check, draw  # noqa: E402

SOURCES = ("greffe", "notaire", "avocat")
MEDIA = {"greffe": "application/xml", "notaire": "application/xml", "avocat": "application/json"}


def _chunk(args: tuple[str, int, int, str]) -> tuple[collections.Counter[str], list[str]]:
    """Fuzz `count` inputs of `source` from `seed`; outcomes by code, failures saved under `out`."""
    source, seed, count, out = args
    rnd = random.Random(seed)
    outcomes: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    for n in range(count):
        kind, data = draw(rnd, source)
        try:
            outcomes[check(kind, data)] += 1
        except OracleFailure as exc:
            outcomes["FAILURE"] += 1
            path = Path(out) / f"{kind}-{seed}-{n}.bin"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            failures.append(f"{path}: {exc}")
    return outcomes, failures


def in_process(count: int, sources: list[str], seed: int, jobs: int, out: Path) -> int:
    step = 2000
    bad = 0
    with ProcessPoolExecutor(jobs) as pool:
        for source in sources:
            started = time.perf_counter()
            tasks = [
                (source, seed * 1_000_003 + i, min(step, count - i), str(out)) for i in range(0, count, step)
            ]
            total: collections.Counter[str] = collections.Counter()
            for outcomes, failures in pool.map(_chunk, tasks):
                total += outcomes
                for failure in failures[:5]:
                    print("  FAILURE", failure)
                done = sum(total.values())
                print(f"  {source}: {done} so far, failures {total['FAILURE']}", flush=True)
            elapsed = time.perf_counter() - started
            bad += total["FAILURE"]
            print(
                f"{source}: {sum(total.values())} inputs in {elapsed:.0f} s "
                f"({sum(total.values()) / elapsed:.0f}/s), failures {total['FAILURE']}; "
                + ", ".join(f"{k} {v}" for k, v in total.most_common())
            )
    return bad


def over_http(count: int, clients: int, seed: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        pki = Path(tmp) / "pki"
        init_dev_pki(pki)
        port = free_port()
        env = {**os.environ, "GATEWAY_CERTS_DIR": str(pki), "GATEWAY_DATA_DIR": str(Path(tmp) / "var")}
        log = (Path(tmp) / "serve.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-c", "from gateway.cli import main; main()", "serve", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        statuses: collections.Counter[int] = collections.Counter()
        try:
            base = f"https://localhost:{port}"
            with httpx.Client(base_url=base, verify=tls_context(pki, "greffe")) as probe:
                wait_until_ready(probe, proc)
            rnd = random.Random(seed)
            inputs = [draw(rnd) for _ in range(count)]
            http = {s: httpx.Client(base_url=base, verify=tls_context(pki, s), timeout=60) for s in SOURCES}

            def post(item: tuple[str, bytes]) -> int:
                source, data = item
                answer = http[source].post(
                    f"/v1/{source}/transmissions", content=data, headers={"content-type": MEDIA[source]}
                )
                return answer.status_code

            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                statuses.update(pool.map(post, inputs))
            elapsed = time.perf_counter() - started
            with httpx.Client(base_url=base, verify=tls_context(pki, "greffe")) as probe:
                alive = probe.get("/healthz").status_code == 200
            for client in http.values():
                client.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
            log.close()
        server_errors = sum(v for k, v in statuses.items() if k >= 500)
        print(
            f"http: {count} inputs in {elapsed:.0f} s by {clients} clients; statuses "
            + json.dumps(dict(sorted(statuses.items())))
            + f"; 5xx {server_errors}; server alive after: {alive}; log tracebacks: "
            + str((Path(tmp) / "serve.log").read_text(errors="replace").count("Traceback"))
        )
        return server_errors + (0 if alive else 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["inprocess", "http"])
    parser.add_argument("--count", type=int, default=100_000, help="inputs per source (in process) or in all")
    parser.add_argument("--source", choices=SOURCES, action="append")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "fuzz-failures")
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f}")
    if args.mode == "inprocess":
        bad = in_process(args.count, args.source or list(SOURCES), args.seed, args.jobs, args.out)
    else:
        bad = over_http(args.count, args.clients, args.seed)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
