"""`make bench`: every benchmark of bench/, with short defaults, one after the other; prints each
one's JSON lines and the machine's load before and after (the numbers mean little on a loaded box).

    .venv/bin/python bench/run_all.py                 # short runs (about two minutes on 2 cores)
    .venv/bin/python bench/run_all.py --only sepa --only camt054
    .venv/bin/python bench/run_all.py --full          # each benchmark's own defaults (the recorded sizes)
    .venv/bin/python bench/run_all.py --list

The recorded results and how they were measured are in bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (script and arguments for a short run, arguments for the full run); {tmp} is a temp folder
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "archive": (
        ["archive.py", "--append", "2000", "--verify", "20000", "--proofs", "200"],
        ["archive.py"],
    ),
    "camt054": (["camt054.py", "--entries", "20000"], ["camt054.py"]),
    "sepa": (
        ["sepa.py", "--transactions", "20000", "--out", "{tmp}"],
        ["sepa.py", "--transactions", "1000000", "--out", "{tmp}"],
    ),
    "http_service": (["http_service.py", "--clients", "4", "--seconds", "3"], ["http_service.py"]),
    "intake": (
        ["intake.py", "all", "--titles", "500", "--clients", "4", "--seconds", "3"],
        ["intake.py", "all"],
    ),
    "console": (["console.py", "--dossiers", "2000", "--runs", "3"], ["console.py"]),
    "fuzz": (["fuzz.py", "inprocess", "--count", "2000"], ["fuzz.py", "inprocess", "--count", "100000"]),
    "handoff": (["handoff.py", "--mb", "64", "--work", "{tmp}"], ["handoff.py", "--work", "{tmp}"]),
    "store_run": (
        ["store_run.py", "--dossiers", "2000"],
        ["store_run.py", "--dossiers", "100000"],
    ),
}
HELPERS = {"postgres.py", "run_all.py", "load_store.py"}  # modules of bench/ that are not benchmarks


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only these")
    parser.add_argument("--full", action="store_true", help="each benchmark's own (long) defaults")
    parser.add_argument("--list", action="store_true", help="name the benchmarks and exit")
    args = parser.parse_args()
    if args.list:
        for name, (short, _full) in BENCHMARKS.items():
            print(f"{name}: bench/{short[0]}")
        return 0
    failed = []
    for name in args.only or list(BENCHMARKS):
        short, full = BENCHMARKS[name]
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
            command = [sys.executable, str(HERE / (full if args.full else short)[0])]
            command += [a.format(tmp=tmp) for a in (full if args.full else short)[1:]]
            print(f"== {name}: {' '.join(command[1:])}  ({load()})", flush=True)
            started = time.monotonic()
            done = subprocess.run(command, check=False)
            print(
                f"== {name}: exit {done.returncode} in {time.monotonic() - started:.1f} s ({load()})",
                flush=True,
            )
            if done.returncode != 0:
                failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
