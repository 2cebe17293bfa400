"""A throwaway PostgreSQL server for benchmarks: durable settings (fsync on), unlike the tests' one.

    with throwaway_postgres() as server:
        env["GATEWAY_DATABASE_URL"] = server.url
        ... server.pid  # the postmaster, to count its CPU

Uses the machine's server binaries (`pg_config --bindir`), run as the postgres user when root.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.pg import _as_postgres, find_pg_bindir, free_port


@dataclass(frozen=True)
class Postgres:
    url: str
    pid: int  # the postmaster


@contextmanager
def throwaway_postgres() -> Iterator[Postgres]:
    bindir = find_pg_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    root = Path(tempfile.mkdtemp(prefix="gateway-bench-pg-"))
    shutil.chown(root, user="postgres", group="postgres")
    data, log = root / "data", root / "server.log"
    port = free_port()
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
    subprocess.run(_as_postgres([*initdb, "--no-instructions"]), check=True, capture_output=True)
    # the defaults that matter stay as in production: fsync, synchronous_commit, full_page_writes on
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=100"
    ctl = str(bindir / "pg_ctl")
    subprocess.run(
        _as_postgres([ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield Postgres(f"postgresql://postgres@127.0.0.1:{port}/postgres", pid)
    finally:
        subprocess.run(
            _as_postgres([ctl, "-D", str(data), "-m", "fast", "-w", "stop"]), check=False, capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)
