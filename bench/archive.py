"""Archive benchmarks (the log in the database): append throughput, verify of N entries, proofs.

    .venv/bin/python bench/archive.py [--append 20000] [--batch 384] [--verify 1000000]
        [--proofs 2000] [--database URL]

- append: `Archive.append_many` of `--batch` entries per transaction (what one intake batch of 128
  titles appends: payload, dossier, receipt), each a distinct ~700-byte blob and a 1.5 KB
  signature, on SQLite (default, a temp file) or `--database`; entries/s, ms per transaction.
- verify: a log of `--verify` entries, one distinct ~100-byte blob each and a checkpoint every
  1,000 entries, written straight into the tables (not timed), then `verify_archive` in a fresh
  read transaction: every leaf re-hashed and parsed, every blob re-hashed, the tree rebuilt,
  every checkpoint's CMS and note signatures checked.
- proof: `Archive.inclusion_proof(seq)` for `--proofs` random entries of that log.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.archive import Archive, ArchiveEntry, NewEntry, verify_archive
from gateway.archive import log as rows
from gateway.archive.checkpoint import make_checkpoint
from gateway.archive.merkle import MerkleTree
from gateway.devtools.pki import DevPki, init_dev_pki
from gateway.signing.cms import Signer, load_trust_anchors


def bench_append(archive: Archive, count: int, batch: int) -> dict[str, Any]:
    signature = os.urandom(1500)
    times = []
    started = time.perf_counter()
    for at in range(0, count, batch):
        items = [
            NewEntry(
                "receipt", os.urandom(350).hex().encode(), signature + n.to_bytes(8, "big"), {"n": str(n)}
            )
            for n in range(at, min(at + batch, count))
        ]
        t0 = time.perf_counter()
        archive.append_many(items)
        times.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return {
        "entries": count,
        "batch": batch,
        "entries_per_second": round(count / elapsed),
        "ms_per_transaction_p50": round(statistics.median(times) * 1000, 2),
        "ms_per_transaction_max": round(max(times) * 1000, 2),
    }


def build_log(archive: Archive, signer: Signer, count: int) -> None:
    moment = signer.cert.not_valid_before_utc + timedelta(hours=1)
    tree = MerkleTree()
    with archive.store.transaction() as uow:
        conn = uow.connection
        for at in range(0, count, 20_000):
            blobs: dict[str, bytes] = {}
            batch = []
            for seq in range(at, min(at + 20_000, count)):
                blob = f"<Transmission n='{seq}'>{'é' * 40}</Transmission>".encode()
                digest = hashlib.sha256(blob).hexdigest()
                blobs[digest] = blob
                entry = ArchiveEntry(seq, moment, "inbound-payload", digest, len(blob), None, {"n": str(seq)})
                data = entry.leaf_data()
                batch.append((seq, data, entry.leaf_hash))
                tree.append_leaf_hash(entry.leaf_hash)
                if (seq + 1) % 1000 == 0:
                    cp = make_checkpoint(
                        signer, origin=archive.origin, size=seq + 1, root=tree.root(), time=moment
                    )
                    rows.insert_checkpoint(conn, cp)
            rows.put_blobs(conn, blobs)
            rows.insert_entries(conn, batch)
        rows.claim_sequence(conn, count)


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--append", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=384)
    parser.add_argument("--verify", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=2_000)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    result: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "load": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        init_dev_pki(root / "pki")
        pki = DevPki(root / "pki")
        signer = Signer.from_files(pki.signer.cert, pki.signer.key)
        url = args.database or f"sqlite:///{root / 'append.sqlite3'}"
        with Archive.open(url, root / "blobs", signer=signer, checkpoint_every=100) as archive:
            result["append"] = bench_append(archive, args.append, args.batch)
        if args.verify:
            with Archive.open(
                f"sqlite:///{root / 'verify.sqlite3'}", root / "vblobs", signer=signer
            ) as archive:
                build_log(archive, signer, args.verify)
                anchors = load_trust_anchors(pki.ca.cert)
                t0, c0 = time.perf_counter(), time.process_time()
                k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                with archive.store.read() as uow:
                    report = verify_archive(uow.connection, archive.blobs, trust_anchors=anchors)
                result["verify"] = {
                    "entries": report.entries,
                    "ok": report.ok,
                    "checkpoints": report.checkpoints,
                    "seconds": round(time.perf_counter() - t0, 2),
                    "cpu_seconds": round(time.process_time() - c0, 2),
                    "workers_cpu_seconds": round(
                        _cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - _cpu(k0), 2
                    ),
                }
                archive.inclusion_proof(0)  # the first one catches the process's tree up
                picks = [random.randrange(args.verify) for _ in range(args.proofs)]
                times = []
                for seq in picks:
                    t0 = time.perf_counter()
                    archive.inclusion_proof(seq)
                    times.append(time.perf_counter() - t0)
                result["inclusion_proof_ms"] = {
                    "mean": round(statistics.mean(times) * 1000, 3),
                    "p99": round(sorted(times)[int(len(times) * 0.99)] * 1000, 3),
                }
    result["load_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
