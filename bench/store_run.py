"""Benchmark: `gateway sepa debits` over N dossiers stored in SQLite or PostgreSQL, as a whole
process (imports, migrations check, rules, streaming write, XSD validation, CMS signature,
archive and bank channel included), measured with `/usr/bin/time -v`.

    python bench/store_run.py --dossiers 100000 --backend sqlite [--work /tmp/bench-store] [--months 2]
    python bench/store_run.py --dossiers 100000 --backend postgresql [--months 2]

The store is filled first by `bench/load_store.py` (not measured in the run's figures; its own
time is printed). With `--work DIR` on SQLite the loaded store is kept as
`DIR/pristine-N.sqlite3` and reused by the next run with the same N (copied, so each run collects
the same month from the same untouched store: a 1,000,000 load takes minutes). PostgreSQL is a
throwaway durable server (`bench/postgres.py`), loaded each time. `--months M` runs M
consecutive months from 2026-12, each as its own process on the store the previous one left:
the first computes every dossier (and stores its steady span), the next ones are "normal months"
whose debits come from the spans in SQL (docs/collection-run.md). On PostgreSQL the month in
between is modelled before each later month: VACUUM (ANALYZE) and a CHECKPOINT, what autovacuum
and the checkpointer do long before a run a month later (`between_months`, not measured).
Prints one JSON line per month:
backend, dossiers, period, load_seconds, run_seconds, cpu_s, peak_rss_mb, transactions,
exact_path, from_spans.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_store import load
from postgres import throwaway_postgres

from gateway.devtools.pki import init_dev_pki

GATEWAY = Path(sys.executable).with_name("gateway")
PERIODS = ("2026-12", "2027-01", "2027-02", "2027-03")


def _elapsed(text: str) -> float:
    found = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
    if found is None:
        raise SystemExit("no elapsed time in /usr/bin/time output")
    hours, minutes, seconds = found.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def _peak_mb(text: str) -> float:
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if found is None:
        raise SystemExit("no peak RSS in /usr/bin/time output")
    return int(found.group(1)) / 1024


def _cpu_s(text: str) -> float:
    """User + system CPU seconds of the run: comparable whatever the machine's load."""
    found = [re.search(rf"{kind} time \(seconds\): ([\d.]+)", text) for kind in ("User", "System")]
    return sum(float(m.group(1)) for m in found if m is not None)


def measure(
    work: Path, url: str, dossiers: int, backend: str, pristine: Path | None = None, *, months: int = 1
) -> list[dict[str, Any]]:
    """Load (or copy `pristine`, kept from an earlier load) then run and measure each month."""
    if not (work / "certs" / "ca.pem").exists():
        init_dev_pki(work / "certs")
    shutil.rmtree(work / "data", ignore_errors=True)
    (work / "data").mkdir(parents=True)
    if pristine is not None and pristine.exists():
        load_seconds = 0.0
        shutil.copyfile(pristine, work / "data" / "gateway.sqlite3")
    else:
        load_seconds = load(url, dossiers)
        if pristine is not None:
            shutil.copyfile(work / "data" / "gateway.sqlite3", pristine)
    env = dict(os.environ, GATEWAY_DATA_DIR=str(work / "data"), GATEWAY_CERTS_DIR=str(work / "certs"))
    env["GATEWAY_DATABASE_URL"] = url
    found = []
    for number, period in enumerate(PERIODS[:months]):
        if number and backend == "postgresql":
            between_months(url)
        done = subprocess.run(
            ["/usr/bin/time", "-v", str(GATEWAY), "sepa", "debits", "--period", period],
            capture_output=True, text=True, env=env, check=False, cwd=work,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"gateway sepa debits failed:\n{done.stderr[-2000:]}")
        report = json.loads(done.stdout)
        found.append({
            "backend": backend,
            "dossiers": dossiers,
            "period": period,
            "load_seconds": round(load_seconds, 1),
            "run_seconds": round(_elapsed(done.stderr), 2),
            "cpu_s": round(_cpu_s(done.stderr), 1),
            "peak_rss_mb": round(_peak_mb(done.stderr), 1),
            "transactions": report["transactions"],
            "exact_path": report.get("exact_path"),
            "from_spans": report.get("from_spans"),
            "refused": len(report["refused"]),
        })  # fmt: skip
    return found


def between_months(url: str) -> None:
    """PostgreSQL: what the month between two runs does to the store before the next one, done
    now: autovacuum (its naptime is a minute) has vacuumed and analyzed the tables the last run
    wrote (hint bits, visibility map, statistics) and a checkpoint (every 15 minutes) has written
    its pages. Without it the next run would pay for them, as no run a month later does
    (bench/README.md, "Latest figures"). Not part of the measured run; its time is printed."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
    print(json.dumps({"between_months_seconds": round(time.perf_counter() - started, 1)}), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, required=True)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--months", type=int, default=2, choices=range(1, len(PERIODS) + 1))
    parser.add_argument(
        "--work",
        type=Path,
        help="a folder to keep (SQLite: the loaded store is reused), default: a temporary one",
    )
    args = parser.parse_args()
    work = (args.work or Path(tempfile.mkdtemp(prefix="bench-store-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.backend == "sqlite":
            pristine = work / f"pristine-{args.dossiers}.sqlite3" if args.work else None
            url = f"sqlite:///{work / 'data' / 'gateway.sqlite3'}"
            result = measure(work, url, args.dossiers, "sqlite", pristine, months=args.months)
        else:
            with throwaway_postgres() as server:
                result = measure(work, server.url, args.dossiers, "postgresql", months=args.months)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    for month in result:
        print(json.dumps(month))


if __name__ == "__main__":
    main()
