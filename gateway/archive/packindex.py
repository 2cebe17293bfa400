"""The persisted pack index: SHA-256 -> (pack, offset, length) without a dict of every blob.

`packs/index.log`: one 48-byte entry per pack record, in the order records were appended

    SHA-256 (32 bytes) | pack number (u32) | offset of the record's header (u64) | data length (u32)

written with one `pwrite` per group, after the group's pack records are synced (so an entry only
ever names synced bytes) and before its journal records. It is not synced itself: a crash can lose
its last entries, and opening then indexes the records past the last entry again from the pack
(re-hashing only that tail). Opening checks the log from its tail: a torn last entry, or entries
whose record header is not where they say (past a pack's end after a power cut), are cut.

`packs/index-SSSSSSSSSSSS-EEEEEEEEEEEE.run`: the log entries [S, E) sorted by SHA-256, then every
`STRIDE`-th entry's first 8 bytes (u64), then a Bloom filter of 16 bits per entry (three bits
taken from the SHA-256 itself): the only parts kept in memory. The runs are the complete,
aligned blocks of `SPAN << k` entries of the log, like the subtrees of a Merkle tree: when a block
of `SPAN` entries fills, it is sorted into a run and merged with its equal-sized neighbour, and so
on (a binary counter). The entries after the last block (fewer than `SPAN`) are in a dict. So a
lookup costs one dict probe plus, per run (at most log2(n / SPAN)), three filter bits and, if they
are set, a bisect over the samples and one `pread` of `STRIDE` entries; memory is the dict (at most
`SPAN` entries, ≈ 7 MB) plus ≈ 2.1 bytes per blob for the samples and filters (a dict of every blob
took ≈ 210); opening reads the log's last entry, the runs' samples and filters.

Merges run beside the writers, not under the archive lock (a merge into 8M entries takes seconds):
log entries never change once appended, so a background thread (`_Merge`, one at a time) writes
the new runs from the installed ones and the log (temp file, sync, rename), under
`packs/merge.lock`, a flock that lets one process merge at a time (the others then open what it
wrote, and a killed merger's lock goes with it). Meanwhile lookups use the older runs and the
recent entries, the dict growing past `SPAN`; the next `settle` (under the archive lock) installs
the result: the new runs, then a dict of the entries past them, swapped in as two assignments. A
writer `BEHIND` blocks behind waits for the merge (and merges itself if still behind), which
bounds the dict (≈ 28 MB). Runs only ever appear whole (renamed once synced); run files inside a
newer one, past the log's end, or a crashed merger's temp files are deleted by the next merger
(a process that still reads one keeps its descriptor). Opening installs the runs on disk that cover
the log from its start, whoever wrote them, and merges the rest; a clean close finishes the merges
due, so verify finds every run the log calls for (it checks every run file there, older ones too).

Nothing here is trusted: a run or log entry is derived data, and whatever it says is checked
against the record header at the offset (and the data against its SHA-256) before it is used
(packs.py). `verify` recomputes everything from the packs and reports an index that differs. The
filters only spare a writer's duplicate check its reads: `get` looks again without them before
answering "not here", so a wrong filter can cost a second copy of a blob, never hide one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import struct
import sys
import threading
import weakref
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from pathlib import Path

ENTRY = struct.Struct(">32sIQI")
ENTRY_SIZE = ENTRY.size  # 48
LOG_NAME = "index.log"
SPAN = 1 << 15
BEHIND = 4  # blocks of recent entries a writer lets wait for a background merge before it waits too
MERGE_LOCK = "merge.lock"
STRIDE = 64
RUN_MAGIC = b"GWPX"
RUN_VERSION = 1
RUN_HEADER = struct.Struct(">4sIQQ8x")  # magic, version, first entry, end entry: 32 bytes
RUN_NAME = re.compile(r"index-(\d{12})-(\d{12})\.run")
_CHUNK = 1 << 20

Where = tuple[int, int, int]  # (pack, header offset, data length)


def run_name(start: int, end: int) -> str:
    return f"index-{start:012d}-{end:012d}.run"


def canonical_runs(count: int) -> list[tuple[int, int]]:
    """The runs that cover the first `count` log entries: complete aligned blocks, biggest first."""
    blocks = count // SPAN
    runs: list[tuple[int, int]] = []
    start = 0
    for bit in reversed(range(blocks.bit_length())):
        if blocks >> bit & 1:
            size = SPAN << bit
            runs.append((start, start + size))
            start += size
    return runs


def filter_bits(count: int) -> int:
    """Bits of a run's filter: a power of two, at least 16 per entry (false positives ≈ 0.3 %)."""
    return max(64, 1 << (count * 16 - 1).bit_length())


def filter_probes(digest: bytes, mask: int) -> tuple[int, int, int]:
    # the SHA-256 is uniform already: three bit positions straight from its bytes 16 to 31
    bits = int.from_bytes(digest[16:32], "big")
    return bits & mask, bits >> 40 & mask, bits >> 80 & mask


def split_entries(data: bytes) -> list[bytes]:
    return [data[i : i + ENTRY_SIZE] for i in range(0, len(data) - ENTRY_SIZE + 1, ENTRY_SIZE)]


def iter_file_chunks(fd: int, start: int, end: int) -> Iterator[list[bytes]]:
    """The 48-byte entries of a file between two byte offsets, read and listed 1 MiB at a time."""
    step = _CHUNK // ENTRY_SIZE * ENTRY_SIZE
    position = start
    while position < end:
        data = os.pread(fd, min(step, end - position), position)
        if not data:
            return
        yield split_entries(data)
        position += len(data)


def iter_file_entries(fd: int, start: int, end: int) -> Iterator[bytes]:
    for chunk in iter_file_chunks(fd, start, end):
        yield from chunk


def merge_chunks(left: Iterator[list[bytes]], right: Iterator[list[bytes]]) -> Iterator[list[bytes]]:
    """Merge two sorted streams of sorted chunks, a chunk at a time at C speed (not entry by entry)."""
    a, b = next(left, []), next(right, [])
    while a and b:
        # everything up to the smaller of the two chunks' last entries can go out now
        if a[-1] <= b[-1]:
            cut = bisect_right(b, a[-1])
            merged, b = a + b[:cut], b[cut:]
            a = next(left, [])
        else:
            cut = bisect_right(a, b[-1])
            merged, a = b + a[:cut], a[cut:]
            b = next(right, [])
        merged.sort()  # two sorted stretches: timsort merges them in one linear pass
        yield merged
        if not a:
            a = next(left, [])
        if not b:
            b = next(right, [])
    for rest, more in ((a, left), (b, right)):
        if rest:
            yield rest
        yield from more


class Run:
    """One sorted run, open for lookups; only its samples and its filter are in memory."""

    __slots__ = ("bloom", "count", "end", "fd", "mask", "samples", "start")

    def __init__(self, fd: int, start: int, end: int, samples: array[int], bloom: bytes) -> None:
        self.fd, self.start, self.end, self.samples, self.bloom = fd, start, end, samples, bloom
        self.count = end - start
        self.mask = len(bloom) * 8 - 1

    @classmethod
    def open(cls, path: Path, start: int, end: int) -> Run | None:
        """The run in `path` if its header and size are those of [start, end), else None."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        count = end - start
        samples_size = -(-count // STRIDE) * 8
        bloom_size = filter_bits(count) // 8
        body = RUN_HEADER.size + count * ENTRY_SIZE
        head = os.pread(fd, RUN_HEADER.size, 0)
        if (
            os.fstat(fd).st_size != body + samples_size + bloom_size
            or len(head) != RUN_HEADER.size
            or RUN_HEADER.unpack(head) != (RUN_MAGIC, RUN_VERSION, start, end)
        ):
            os.close(fd)
            return None
        samples = array("Q")
        samples.frombytes(os.pread(fd, samples_size, body))
        if sys.byteorder == "little":
            samples.byteswap()
        return cls(fd, start, end, samples, os.pread(fd, bloom_size, body + samples_size))

    def close(self) -> None:
        os.close(self.fd)

    def find(self, digest: bytes, *, filtered: bool = True) -> bytes | None:
        """The entry for `digest`, or None: the filter, then one bisect and one read of `STRIDE` entries."""
        if filtered:
            bloom = self.bloom
            for bit in filter_probes(digest, self.mask):
                if not bloom[bit >> 3] >> (bit & 7) & 1:
                    return None
        key = int.from_bytes(digest[:8], "big")
        samples = self.samples
        last = bisect_right(samples, key)  # windows whose first entry is <= key
        if last == 0:
            return None
        first = max(bisect_left(samples, key) - 1, 0)
        lo, hi = first * STRIDE, min(last * STRIDE, self.count)
        data = os.pread(self.fd, (hi - lo) * ENTRY_SIZE, RUN_HEADER.size + lo * ENTRY_SIZE)
        found = data.find(digest)
        while found >= 0:
            if found % ENTRY_SIZE == 0:
                return data[found : found + ENTRY_SIZE]
            found = data.find(digest, found + 1)
        return None

    def chunks(self) -> Iterator[list[bytes]]:
        return iter_file_chunks(self.fd, RUN_HEADER.size, RUN_HEADER.size + self.count * ENTRY_SIZE)

    def entries(self) -> Iterator[bytes]:
        for chunk in self.chunks():
            yield from chunk


def write_run(root: Path, start: int, end: int, chunks: Iterable[list[bytes]], *, fsync: bool) -> Run:
    """Write the sorted entries of [start, end), in chunks, as a run file (temp file, sync, rename)."""
    name = run_name(start, end)
    tmp = root / f".{name}.tmp-{os.getpid()}"
    samples = bytearray()
    bloom = bytearray(filter_bits(end - start) // 8)
    mask = len(bloom) * 8 - 1
    from_bytes = int.from_bytes
    written = 0
    with tmp.open("wb") as out:
        out.write(RUN_HEADER.pack(RUN_MAGIC, RUN_VERSION, start, end))
        for chunk in chunks:
            for entry in chunk[-written % STRIDE :: STRIDE]:
                samples += entry[:8]
            for entry in chunk:  # filter_probes, inlined: a merge passes every entry here
                bits = from_bytes(entry[16:32], "big")
                bit = bits & mask
                bloom[bit >> 3] |= 1 << (bit & 7)
                bit = bits >> 40 & mask
                bloom[bit >> 3] |= 1 << (bit & 7)
                bit = bits >> 80 & mask
                bloom[bit >> 3] |= 1 << (bit & 7)
            out.write(b"".join(chunk))
            written += len(chunk)
        if written != end - start:
            raise ValueError(f"run {name}: {written} entries for {end - start}")
        out.write(samples)
        out.write(bloom)
        out.flush()
        if fsync:
            os.fsync(out.fileno())
    os.replace(tmp, root / name)
    run = Run.open(root / name, start, end)
    if run is None:  # pragma: no cover - we just wrote it
        raise OSError(f"run {name} unreadable after writing")
    return run


class _Merge:
    """A merge in a background thread: the runs for [0, goal) and the recent entries after them."""

    def __init__(self, index: PackIndex) -> None:
        self.index = index
        self.result: tuple[list[Run], int, dict[bytes, Where], int] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._work, name="pack-index-merge", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        try:
            self.result = self.index.build()
        except BaseException as exc:  # handed to the next `settle`, which merges again
            self.error = exc
        finally:
            self.done.set()


class PackIndex:
    """`index.log` and its runs; `find` and `build` run without the archive lock, the rest with it."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync
        self.fd = os.open(root / LOG_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self.count = 0  # entries known
        self.covered = 0  # entries in the installed runs
        self.runs: list[Run] = []  # aligned blocks covering [0, covered), biggest first
        self.recent: dict[bytes, Where] = {}  # the entries [covered, count)
        self._recent_end = 0
        self._last: tuple[int, tuple[bytes, int, int, int]] | None = None  # (number, entry) read last
        self._retired: list[Run] = []  # replaced runs a lookup in another thread may still read
        self._merge: _Merge | None = None
        self._lock_fd: int | None = None  # packs/merge.lock while `build` holds it
        _OPEN.add(self)

    def _forked(self) -> None:
        # in a child forked while a merge ran: the merge's thread is not here, and its copy of the
        # merge lock's descriptor would hold the lock for as long as this process lives
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self._merge = None

    def close(self) -> None:
        """Finish the merges due (a clean close leaves every run of the log on disk), then close."""
        try:
            with contextlib.suppress(OSError):  # derived data: the next open merges what is missing
                if self._merge is not None:
                    self._merge.thread.join()
                    self._install(self._merge)
                if self.covered < self.count // SPAN * SPAN:
                    self._install_built(self.build())
        finally:
            for run in (*self.runs, *self._retired):
                run.close()
            self.runs, self._retired = [], []
            os.close(self.fd)

    def on_disk(self) -> int:
        """Complete entries in the log file; a torn last entry (a writer killed in pwrite) is cut."""
        size = os.fstat(self.fd).st_size
        if size % ENTRY_SIZE:
            os.ftruncate(self.fd, size - size % ENTRY_SIZE)
        return size // ENTRY_SIZE

    def read(self, start: int, end: int) -> bytes:
        return os.pread(self.fd, (end - start) * ENTRY_SIZE, start * ENTRY_SIZE) if end > start else b""

    def entry(self, number: int) -> tuple[bytes, int, int, int]:
        digest, pack, offset, length = ENTRY.unpack(self.read(number, number + 1))
        return digest, pack, offset, length

    def last(self) -> tuple[bytes, int, int, int] | None:
        """The last entry (remembered from `append`: no read per group)."""
        if not self.count:
            return None
        if self._last is None or self._last[0] != self.count - 1:
            self._last = (self.count - 1, self.entry(self.count - 1))
        return self._last[1]

    def truncate(self, count: int) -> None:
        os.ftruncate(self.fd, count * ENTRY_SIZE)
        self._last = None
        self.count = min(self.count, count)

    def append(self, entries: bytes) -> None:
        """Add entries at the end (not synced: see the module docstring); `settle` indexes them."""
        if entries:
            if os.pwrite(self.fd, entries, self.count * ENTRY_SIZE) != len(entries):
                raise OSError("short write to the pack index (disk full?)")
            before, self.count = self.count, self.count + len(entries) // ENTRY_SIZE
            digest, pack, offset, length = ENTRY.unpack_from(entries, len(entries) - ENTRY_SIZE)
            self._last = (self.count - 1, (digest, pack, offset, length))
            if self._recent_end == before:
                # into the dict straight away, not read back by `settle`
                recent = self.recent
                for at in range(0, len(entries), ENTRY_SIZE):
                    digest, pack, offset, length = ENTRY.unpack_from(entries, at)
                    recent.setdefault(digest, (pack, offset, length))
                self._recent_end = self.count

    def find(self, digest: bytes, *, filtered: bool = True) -> Where | None:
        """Where the log says `digest` is; `filtered=False` does not trust the runs' filters."""
        where = self.recent.get(digest)  # before the runs: `_install` sets the runs, then the dict
        if where is not None:
            return where
        for run in self.runs:
            entry = run.find(digest, filtered=filtered)
            if entry is not None:
                _digest, pack, offset, length = ENTRY.unpack(entry)
                return pack, offset, length
        return None

    def settle(self) -> None:
        """Bring the runs and the recent entries up to `count` (lock held): quick, merges are not.

        A merge that finished in the background is installed; a new one is started when a block
        of `SPAN` entries filled; meanwhile the recent entries wait in the dict, and only a writer
        `BEHIND` blocks behind (or opening an archive whose runs are missing) merges here.
        """
        merge = self._merge
        if merge is not None and merge.done.is_set():
            self._install(merge)
        goal = self.count // SPAN * SPAN
        if self.covered < goal:
            if not self.runs and self._merge is None:
                self._adopt(goal)  # opening: the runs already on disk, whoever merged them
            if self._merge is None and self.covered < goal:
                self._merge = _Merge(self)
            if self.count - self.covered > SPAN * BEHIND and self._merge is not None:
                self._merge.thread.join()  # far behind: wait rather than let the dict grow
                self._install(self._merge)
            if self.count - self.covered > SPAN * BEHIND:
                self._install_built(self.build())
        if self._recent_end < self.count:
            self.recent.update(self._entries_dict(self._recent_end, self.count))
            self._recent_end = self.count

    def build(self) -> tuple[list[Run], int, dict[bytes, Where], int]:
        """(runs covering [0, goal), goal, the entries [goal, end) as a dict, end), goal and end read now.

        Runs without the archive lock, beside the writers: log entries below `count` never change,
        and the installed runs stay open until the next `_install`. Under `packs/merge.lock`: one
        merger at a time across processes, the others then open what it wrote.
        """
        lock = self._lock_fd = os.open(self.root / MERGE_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            goal = self.count // SPAN * SPAN
            if self.fsync:
                os.fdatasync(self.fd)  # a run never covers log entries a crash could lose
            have = {(run.start, run.end): run for run in self.runs}
            made: list[Run] = []  # the runs opened or written here
            runs: list[Run] = []
            try:
                runs = [self._run(start, end, have, made) for start, end in canonical_runs(goal)]
            finally:
                for run in made:  # pieces merged into bigger runs: no lookup reads them
                    if not any(run is kept for kept in runs):
                        run.close()
            self._sweep(runs)
        finally:
            self._lock_fd = None
            os.close(lock)  # and with it the flock
        end = self.count
        return runs, goal, self._entries_dict(goal, end), end

    def _install(self, merge: _Merge) -> None:
        self._merge = None
        if merge.result is not None:
            self._install_built(merge.result)

    def _install_built(self, built: tuple[list[Run], int, dict[bytes, Where], int]) -> None:
        runs, covered, recent, end = built
        if covered < self.covered:  # pragma: no cover - a merge never goes back
            for run in runs:
                if not any(run is kept for kept in self.runs):
                    run.close()
            return
        if end < self.count:
            recent.update(self._entries_dict(end, self.count))
        retired, self._retired = self._retired, [r for r in self.runs if not any(r is n for n in runs)]
        # the runs first, then the dict: a lookup in another thread sees every entry either way
        self.runs = runs
        self.covered = covered
        self.recent = recent
        self._recent_end = self.count
        for run in retired:
            run.close()

    def _adopt(self, goal: int) -> None:
        """Install the run files on disk that cover the log from its start (opening the archive)."""
        spans: dict[int, list[int]] = {}
        for name in os.listdir(self.root):
            match = RUN_NAME.fullmatch(name)
            if match is not None:
                start, end = int(match.group(1)), int(match.group(2))
                if end <= goal and _aligned(start, end):
                    spans.setdefault(start, []).append(end)
        runs: list[Run] = []
        covered = 0
        while covered in spans:
            for end in sorted(spans[covered], reverse=True):
                run = Run.open(self.root / run_name(covered, end), covered, end)
                if run is not None:
                    runs.append(run)
                    covered = end
                    break
            else:
                break
        if runs:
            self.runs, self.covered = runs, covered
            self.recent, self._recent_end = {}, covered

    def _entries_dict(self, start: int, end: int) -> dict[bytes, Where]:
        data = self.read(start, end)
        found: dict[bytes, Where] = {}
        for offset in range(0, len(data), ENTRY_SIZE):
            digest, pack, at, length = ENTRY.unpack_from(data, offset)
            found.setdefault(digest, (pack, at, length))
        return found

    def _run(self, start: int, end: int, have: dict[tuple[int, int], Run], made: list[Run]) -> Run:
        run = have.get((start, end))
        if run is not None:
            return run
        run = Run.open(self.root / run_name(start, end), start, end)
        if run is None:
            if end - start <= SPAN:
                entries = split_entries(self.read(start, end))
                entries.sort()
                run = write_run(self.root, start, end, [entries], fsync=self.fsync)
            else:
                middle = (start + end) // 2
                left, right = self._run(start, middle, have, made), self._run(middle, end, have, made)
                chunks = merge_chunks(left.chunks(), right.chunks())
                run = write_run(self.root, start, end, chunks, fsync=self.fsync)
        made.append(run)
        return run

    def _sweep(self, runs: list[Run]) -> None:
        # (merge lock held) runs inside bigger ones, runs past the log (cut short), a crashed merger's
        # temp files; a process that still has one installed keeps reading it through its descriptor
        logged = os.fstat(self.fd).st_size // ENTRY_SIZE
        keep = {(run.start, run.end) for run in runs}
        for name in os.listdir(self.root):
            match = RUN_NAME.fullmatch(name)
            if match is not None:
                start, end = int(match.group(1)), int(match.group(2))
                inside = any(run.start <= start and end <= run.end for run in runs)
                stale = end > logged or ((start, end) not in keep and inside)
            else:
                stale = name.startswith(".index-") and ".run.tmp-" in name
            if stale:
                (self.root / name).unlink(missing_ok=True)


_OPEN: weakref.WeakSet[PackIndex] = weakref.WeakSet()


def _after_fork() -> None:
    for index in list(_OPEN):
        index._forked()


os.register_at_fork(after_in_child=_after_fork)


def _aligned(start: int, end: int) -> bool:
    size = end - start
    return size >= SPAN and size % SPAN == 0 and (size // SPAN).bit_count() == 1 and start % size == 0
