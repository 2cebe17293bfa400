"""A throwaway PostgreSQL server for benchmarks: durable settings (fsync on), unlike the tests' one.

    with throwaway_postgres() as server:
        env["GATEWAY_DATABASE_URL"] = server.url
        ... server.pid  # the postmaster, to count its CPU

Uses the machine's server binaries (`pg_config --bindir`), run as the postgres user when root.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.pg import find_pg_bindir, running_cluster


@dataclass(frozen=True)
class Postgres:
    url: str
    pid: int  # the postmaster


# Sized as a fund's server would be (docs/operations.md, "Settings"), not PostgreSQL's defaults
# (128 MB of shared buffers, a checkpoint every 1 GB of WAL), which are sized for a laptop: the
# monthly run writes a million rows and their indexes in one transaction.
SIZING = {
    "shared_buffers": "2GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "work_mem": "64MB",
    "wal_buffers": "64MB",
    # keep a run's WAL files for the next one (about 1 GB a month at 1,000,000 debits): a file
    # created anew is zero-filled and synced first, seconds of a run that vary with the disk
    "min_wal_size": "2GB",
}


@contextmanager
def throwaway_postgres() -> Iterator[Postgres]:
    bindir = find_pg_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    # the defaults that matter stay as in production: fsync, synchronous_commit, full_page_writes on
    with running_cluster(bindir, durable=True, settings=SIZING) as (port, data):
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield Postgres(f"postgresql://postgres@127.0.0.1:{port}/postgres", pid)
