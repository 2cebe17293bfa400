"""Benchmark: what a SEPA file costs after it is written: its copy into the archive's blob store and
its hand-off to the outbound folder, each the way it was and the way it is (issue 17, lane sepa-io).

    python bench/handoff.py [--mb 538] [--repeat 3] [--work DIR]

A file of `--mb` MB (538 MB: the pain.008 of a 1,000,000-debit month) is written afresh before each
measurement and not fsync'ed, as the validating writer leaves it. Measured, each `--repeat` times:

- `handoff_before`: SHA-256 of the staged file, then a copy through Python (`shutil.copyfileobj`)
  to a temporary name, fsync, rename: two reads of the file (what `hand_off` did);
- `handoff_now`: `FolderChannel.send(..., sha256=...)`: one read, each block hashed as it is
  written, the digest compared before the rename;
- `handoff_kernel_then_hash`: `os.copy_file_range` to the temporary name, then that copy read back
  and hashed (the hash must be of what is written): the kernel-copy alternative, not taken;
- `blob_before`: `DirectoryBlobStore.put_stream` of the file's chunks (a copy through Python);
- `blob_now`: `DirectoryBlobStore.put_file` (`os.copy_file_range`);
- `blob_hard_link`: `os.link` + fsync, the alternative not taken (the archive's copy would be the
  staged file's inode: docs/sepa.md, "Emission").

Prints one JSON line: per case the wall and CPU (user + system of this process) seconds of each
run, and their minimum. CPU is the fair figure on a shared machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.archive.blobs import DirectoryBlobStore
from gateway.infra.bank_channel import FolderChannel

CHUNK = 1 << 20


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fresh(path: Path, mb: int) -> str:
    """Write `mb` MB to `path` (not fsync'ed, like a staged file); its SHA-256."""
    block = (b"<DrctDbtTxInf><PmtId><EndToEndId>DD202701-DOS-0123456789ABCDEF</EndToEndId>" * 64)[:4096]
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for n in range(mb * 256):
            data = block[: 4096 - 8] + n.to_bytes(8, "big")
            digest.update(data)
            out.write(data)
    assert path.stat().st_size == mb << 20
    return digest.hexdigest()


def handoff_before(staged: Path, work: Path, sha256: str) -> None:
    digest = hashlib.sha256()
    with staged.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    assert digest.hexdigest() == sha256
    tmp = work / "out" / ".f.part"
    with staged.open("rb") as source, tmp.open("wb") as out:
        shutil.copyfileobj(source, out, CHUNK)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, work / "out" / "f.xml")


def handoff_now(staged: Path, work: Path, sha256: str) -> None:
    FolderChannel(work / "out").send(staged, b"signature", name="f.xml", sha256=sha256)


def handoff_kernel_then_hash(staged: Path, work: Path, sha256: str) -> None:
    tmp = work / "out" / ".f.part"
    with staged.open("rb", buffering=0) as source, tmp.open("wb", buffering=0) as out:
        while os.copy_file_range(source.fileno(), out.fileno(), 1 << 30):
            pass
        digest = hashlib.sha256()
        with tmp.open("rb") as back:
            while chunk := back.read(CHUNK):
                digest.update(chunk)
        assert digest.hexdigest() == sha256
        os.fsync(out.fileno())
    os.replace(tmp, work / "out" / "f.xml")


def blob_before(staged: Path, work: Path, sha256: str) -> None:
    with staged.open("rb") as stream:
        DirectoryBlobStore(work / "blobs").put_stream(iter(lambda: stream.read(CHUNK), b""), sha256=sha256)


def blob_now(staged: Path, work: Path, sha256: str) -> None:
    DirectoryBlobStore(work / "blobs").put_file(staged, sha256=sha256)


def blob_hard_link(staged: Path, work: Path, sha256: str) -> None:
    target = work / "blobs" / sha256
    os.link(staged, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


CASES: dict[str, Callable[[Path, Path, str], None]] = {
    f.__name__: f
    for f in (handoff_before, handoff_now, handoff_kernel_then_hash, blob_before, blob_now, blob_hard_link)
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=538)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="a folder on the file system to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-handoff-", dir=args.work) as tmp:
        work = Path(tmp)
        staged = work / "staged.xml"
        walls: dict[str, list[float]] = {name: [] for name in CASES}
        cpus: dict[str, list[float]] = {name: [] for name in CASES}
        for _ in range(args.repeat):
            for name, case in CASES.items():  # interleaved: a burst of load hits every case alike
                for folder in ("out", "blobs"):
                    shutil.rmtree(work / folder, ignore_errors=True)
                    (work / folder).mkdir()
                sha256 = fresh(staged, args.mb)
                wall, used = time.perf_counter(), cpu()
                case(staged, work, sha256)
                walls[name].append(round(time.perf_counter() - wall, 3))
                cpus[name].append(round(cpu() - used, 3))
    results = {
        name: {
            "wall_s": walls[name],
            "cpu_s": cpus[name],
            "min_wall_s": min(walls[name]),
            "min_cpu_s": min(cpus[name]),
        }
        for name in CASES
    }
    print(json.dumps({"mb": args.mb, "load": os.getloadavg(), **results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
