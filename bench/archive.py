"""Archive benchmark: append N entries, verify M entries, inclusion proof time; prints JSON.

    .venv/bin/python bench/archive.py                      # 100k appends, 1M-entry verify
    .venv/bin/python bench/archive.py --append 10000 --verify 100000

The 1M-entry archive for `verify` is generated directly on disk (same record encoding, one pack
record per entry, or one blob file with `--layout files` as before packs; not fsync'ed) because a
million fsync'ed appends would measure the disk, not the code; appends are measured separately
through `Archive.append` with fsync on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.archive import Archive, ArchiveEntry, NewEntry
from gateway.archive.blobs import sha256_hex
from gateway.archive.journal import INDEX_RECORD, encode_record
from gateway.archive.packs import HEADER, MAGIC, pack_name
from gateway.pki import DevPki, init_dev_pki
from gateway.signing import Signer


def payload(i: int) -> bytes:
    # about the size of a small greffe transmission digest line; unique per entry
    return f"<TransmissionGreffe><ReferenceEnvoi>RG-{i:09d}</ReferenceEnvoi></TransmissionGreffe>".encode()


def rss_mb() -> float:
    """This process's resident memory now (ru_maxrss is the peak)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def bench_append(folder: Path, signer: Signer, count: int, *, fsync: bool) -> dict[str, Any]:
    start_clock = datetime.now(UTC)
    with Archive(folder, signer=signer, fsync=fsync) as archive:
        signature = signer.sign_detached(b"x")  # signing cost is not the archive's
        latencies = []
        rss_before = rss_mb()
        began = time.perf_counter()
        for i in range(count):
            t0 = time.perf_counter()
            archive.append("inbound-payload", payload(i), signature=signature, metadata={"i": str(i)})
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - began
        rss_growth = rss_mb() - rss_before
        t0 = time.perf_counter()
        archive.checkpoint()
        checkpoint_s = time.perf_counter() - t0
    latencies.sort()
    del start_clock
    return {
        "entries": count,
        "fsync": fsync,
        "seconds": round(elapsed, 2),
        "appends_per_s": round(count / elapsed),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 3),
        "max_ms": round(latencies[-1] * 1000, 3),
        "checkpoint_ms": round(checkpoint_s * 1000, 2),
        # the Merkle tree's 64 bytes a leaf, plus whatever the pack index keeps per blob
        "rss_growth_mb": round(rss_growth, 1),
    }


def bench_append_many(folder: Path, batches: int, size: int) -> dict[str, Any]:
    """`append_many` batches with fsync, as batch intake does: distinct payload and 1.5 KB signature."""
    with Archive(folder) as archive:
        timings = []
        rss_before = rss_mb()
        for b in range(batches):
            items = [
                NewEntry("inbound-payload", payload(b * size + i) * 8, os.urandom(1500), {"i": str(i)})
                for i in range(size)
            ]
            t0 = time.perf_counter()
            archive.append_many(items)
            timings.append(time.perf_counter() - t0)
        rss_growth = rss_mb() - rss_before
    entries = batches * size
    return {
        "batches": batches,
        "batch_size": size,
        "us_per_entry": round(sum(timings) / entries * 1e6, 1),
        "entries_per_s": round(entries / sum(timings)),
        "slowest_batch_ms": round(max(timings) * 1000, 1),
        "rss_growth_mb": round(rss_growth, 1),
    }


def bench_boundary(source: Path, folder: Path, margin: int) -> dict[str, Any]:
    """Appends (fsync off, one new pack record each) to a copy of the verify archive across the next
    power-of-two count of pack-index entries, where every run merges into one: the longest stalls."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(source, folder)
    with Archive(folder, fsync=False) as archive:
        index = archive._packs.index
        start = index.count
        boundary = 1 << start.bit_length()
        latencies: list[float] = []
        crossed_at = installed_at = None
        i = 0
        began = time.perf_counter()
        while index.count < boundary + margin:
            t0 = time.perf_counter()
            archive.append("inbound-payload", f"boundary-{i}-".encode() + payload(i))
            latencies.append(time.perf_counter() - t0)
            if crossed_at is None and index.count >= boundary:
                crossed_at = i
            if crossed_at is not None and installed_at is None and index.covered >= boundary:
                installed_at = i
            i += 1
        elapsed = time.perf_counter() - began
    shutil.rmtree(folder)
    ordered = sorted(latencies)
    return {
        "entries_before": start,
        "boundary": boundary,
        "appends": len(latencies),
        "seconds": round(elapsed, 2),
        "max_ms": round(ordered[-1] * 1000, 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 3),
        "p999_ms": round(ordered[int(len(ordered) * 0.999)] * 1000, 3),
        "over_10ms": sum(t > 0.01 for t in latencies),
        "over_100ms": sum(t > 0.1 for t in latencies),
        # appends between the one that filled the block and the one that found the merge installed
        "appends_until_installed": None
        if installed_at is None or crossed_at is None
        else installed_at - crossed_at,
    }


def generate(folder: Path, signer: Signer, count: int, checkpoint_every: int, layout: str) -> float:
    """Write a `count`-entry archive straight to disk, with a checkpoint every N entries."""
    began = time.perf_counter()
    blobs = folder / "blobs"
    if layout == "files":
        for a in range(256):
            (blobs / f"{a:02x}").mkdir(parents=True, exist_ok=True)
    (folder / "packs").mkdir(exist_ok=True)
    moment = signer.cert.not_valid_before_utc + timedelta(hours=1)
    journal = bytearray()
    index = bytearray()
    packed = bytearray()
    pack_end = 0
    with (
        (folder / "journal.log").open("wb") as out,
        (folder / "index.bin").open("wb") as idx,
        (folder / "packs" / pack_name(0)).open("wb") as pack,
    ):
        offset = 0
        for i in range(count):
            data = payload(i)
            digest = sha256_hex(data)
            if layout == "files":
                with open(blobs / digest[:2] / digest, "wb") as blob:
                    blob.write(data)
            else:
                packed += HEADER.pack(MAGIC, 0, pack_end + len(packed), len(data), bytes.fromhex(digest))
                packed += data
            entry = ArchiveEntry(i, moment, "inbound-payload", digest, len(data), None, {"i": str(i)})
            line, leaf = encode_record(entry)
            journal += line
            index += offset.to_bytes(8, "big") + leaf
            offset += len(line)
            if len(journal) > 1 << 22:
                out.write(journal)
                idx.write(index)
                journal.clear()
                index.clear()
                pack.write(packed)
                pack_end += len(packed)
                packed.clear()
        out.write(journal)
        idx.write(index)
        pack.write(packed)
    assert (folder / "index.bin").stat().st_size == count * INDEX_RECORD
    # checkpoints through the real code path (it signs the roots of the generated journal)
    with Archive(folder, signer=signer, fsync=False, now=lambda: moment) as archive:
        tree = archive._tree
        from gateway.archive.checkpoint import make_checkpoint

        lines = bytearray()
        for size in range(checkpoint_every, count + 1, checkpoint_every):
            cp = make_checkpoint(signer, origin=archive.origin, size=size, root=tree.root(size), time=moment)
            lines += cp.to_line() + b"\n"
        (folder / "checkpoints.jsonl").write_bytes(bytes(lines))
    return time.perf_counter() - began


VERIFY_SCRIPT = """
import json, os, resource, sys, time
from pathlib import Path
from gateway.archive import verify_archive
from gateway.signing import load_trust_anchors

folder, ca, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
anchors = load_trust_anchors(ca)
began = time.perf_counter()
report = verify_archive(folder, trust_anchors=anchors, workers=workers)
elapsed = time.perf_counter() - began
own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "ok": report.ok, "entries": report.entries, "blobs": report.blobs,
    "checkpoints": report.checkpoints, "seconds": elapsed,
    "cpu_seconds": own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime,
    "peak_rss_mb": own.ru_maxrss / 1024, "peak_rss_worker_mb": kids.ru_maxrss / 1024,
}))
"""


OPEN_SCRIPT = """
import json, os, random, resource, sys, time
from pathlib import Path
from gateway.archive import Archive

folder, samples = Path(sys.argv[1]), int(sys.argv[2])
def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
before = rss_mb()
began = time.perf_counter()
archive = Archive(folder, fsync=False)
opened = time.perf_counter() - began
after = rss_mb()
rng = random.Random(11)
entries = [archive.entry(rng.randrange(archive.size)) for _ in range(samples)]
timings = []
for entry in entries:
    t0 = time.perf_counter()
    archive.blob(entry.blob_sha256)
    timings.append(time.perf_counter() - t0)
index = archive._packs.index  # before the persisted index: a dict
find = index.find if hasattr(index, "find") else index.get
missing = [os.urandom(32) for _ in range(samples)]
miss_timings = []
for digest in missing:
    t0 = time.perf_counter()
    find(digest)
    miss_timings.append(time.perf_counter() - t0)
archive.close()
timings.sort()
miss_timings.sort()
print(json.dumps({
    "entries": archive.size, "open_s": opened, "rss_before_open_mb": before, "rss_after_open_mb": after,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "blob_get_mean_us": sum(timings) / len(timings) * 1e6,
    "blob_get_p99_us": timings[int(len(timings) * 0.99)] * 1e6,
    "index_miss_mean_us": sum(miss_timings) / len(miss_timings) * 1e6,
}))
"""


def bench_open(folder: Path, samples: int) -> dict[str, Any]:
    """Open the archive in a fresh process: seconds, resident memory, `blob()` and index-miss times."""
    done = subprocess.run(
        [sys.executable, "-c", OPEN_SCRIPT, str(folder), str(samples)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return {key: round(value, 3) if isinstance(value, float) else value for key, value in result.items()}


def bench_verify(folder: Path, ca: Path, workers: int) -> dict[str, Any]:
    # a fresh process, as `gateway archive verify` runs: forking this fat benchmark process
    # into the workers would be measured too
    done = subprocess.run(
        [sys.executable, "-c", VERIFY_SCRIPT, str(folder), str(ca), str(workers)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["ok"], done.stdout
    return {
        "entries": result["entries"],
        "blobs": result["blobs"],
        "checkpoints": result["checkpoints"],
        "workers": workers,
        "seconds": round(result["seconds"], 2),
        # CPU seconds of all processes: the figure that does not depend on other load
        "cpu_seconds": round(result["cpu_seconds"], 2),
        "entries_per_s": round(result["entries"] / result["seconds"]),
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
        "peak_rss_worker_mb": round(result["peak_rss_worker_mb"], 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def bench_proofs(folder: Path, signer: Signer, samples: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    with Archive(folder, signer=signer, fsync=False) as archive:
        open_s = time.perf_counter() - t0
        rng = random.Random(7)
        seqs = [rng.randrange(archive.size) for _ in range(samples)]
        checkpoint = archive.latest_checkpoint()
        timings = []
        for seq in seqs:
            t1 = time.perf_counter()
            archive.inclusion_proof(seq, checkpoint=checkpoint)
            timings.append(time.perf_counter() - t1)
        size = archive.size
        # the Merkle part alone (no journal read, no JSON): what grows with the archive
        tree = archive._tree
        path_timings = []
        for seq in seqs:
            t1 = time.perf_counter()
            tree.inclusion_proof(seq, size)
            path_timings.append(time.perf_counter() - t1)
    return {
        "tree_size": size,
        "open_s": round(open_s, 2),
        "samples": samples,
        "mean_ms": round(statistics.fmean(timings) * 1000, 4),
        "p50_ms": round(sorted(timings)[samples // 2] * 1000, 4),
        "p99_ms": round(sorted(timings)[int(samples * 0.99)] * 1000, 4),
        "merkle_path_only_mean_ms": round(statistics.fmean(path_timings) * 1000, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--append", type=int, default=100_000)
    parser.add_argument("--append-fsync", type=int, default=10_000)
    parser.add_argument(
        "--append-many", type=int, default=0, metavar="BATCHES", help="append_many batches of 500, fsync on"
    )
    parser.add_argument("--verify", type=int, default=1_000_000)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument(
        "--drop-index",
        action="store_true",
        help="delete the verify archive's pack index first: the first --open builds it from the packs",
    )
    parser.add_argument(
        "--open",
        type=int,
        default=0,
        metavar="N",
        help="open the verify archive N times in fresh processes (the first one builds the pack index "
        "of a generated archive): open time, RSS, blob() latency",
    )
    parser.add_argument(
        "--boundary",
        type=int,
        default=0,
        metavar="MARGIN",
        help="append to a copy of the verify archive across its next power-of-two index size, and "
        "MARGIN entries past it: the longest append stalls while the runs merge",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--layout", choices=["packs", "files"], default="packs", help="how the verify archive stores blobs"
    )
    parser.add_argument("--dir", type=Path, default=None, help="parent of the temp work folder")
    parser.add_argument(
        "--work", type=Path, default=None, help="reuse (or keep) this work folder, e.g. the 1M archive"
    )
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-archive-", dir=args.dir))
    work.mkdir(parents=True, exist_ok=True)
    try:
        init_dev_pki(work / "pki")  # idempotent: a reused folder keeps its keys
        pki = DevPki(work / "pki")
        signer = Signer.from_files(pki.signer.cert, pki.signer.key)
        results: dict[str, Any] = {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            }
        }
        for stale in ("a1", "a2"):
            shutil.rmtree(work / stale, ignore_errors=True)
        if args.append_fsync:
            results["append_fsync"] = bench_append(work / "a1", signer, args.append_fsync, fsync=True)
            shutil.rmtree(work / "a1")
        if args.append:
            results["append_no_fsync"] = bench_append(work / "a2", signer, args.append, fsync=False)
            shutil.rmtree(work / "a2")
        if args.append_many:
            shutil.rmtree(work / "a3", ignore_errors=True)
            results["append_many_fsync"] = bench_append_many(work / "a3", args.append_many, 500)
            shutil.rmtree(work / "a3")
        if args.verify:
            folder = work / "v"
            if not (folder / "journal.log").exists():
                folder.mkdir()
                generated = generate(folder, signer, args.verify, args.checkpoint_every, args.layout)
                results["generate_s"] = round(generated, 1)
            if args.drop_index:
                for index_file in (folder / "packs").glob("index*"):
                    index_file.unlink()
            if args.open:
                results["open"] = [bench_open(folder, 2000) for _ in range(args.open)]
            if args.boundary:
                results["boundary"] = bench_boundary(folder, work / "b", args.boundary)
            results["verify"] = {"layout": args.layout, **bench_verify(folder, pki.ca.cert, args.workers)}
            results["inclusion_proof"] = bench_proofs(folder, signer, 2000)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        results["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
        results["peak_rss_children_mb"] = round(children.ru_maxrss / 1024, 1)
        print(json.dumps(results, indent=2))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
