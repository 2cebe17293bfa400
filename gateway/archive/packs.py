"""Append-only pack files for small blobs: a group's blobs cost one write and one sync, no new file.

`packs/00000000.pack`, `00000001.pack`, ...: a sequence of records, each

    header (56 bytes) = b"GWPK" | pack number (u32) | offset of this header (u64) | length (u64)
                        | SHA-256 of the data (32 bytes)          (all big-endian)
    data   (length bytes)

A record states its own pack and offset, so a record moved, removed or reordered shows as a header
that is not where it says it is; the SHA-256 catches changed data. Records are only ever appended,
under the archive lock, and synced before any journal record names them. A new pack starts once
the current one reaches `PACK_LIMIT`.

The index (SHA-256 -> pack, offset, length) is persisted beside the packs (packindex.py: an
append-only log of entries written after each group's pack sync, and sorted runs), so opening reads
only the log's tail and memory holds no entry per blob. Nothing read through it is trusted: the
record header at the offset must say that pack, offset, length and SHA-256, and the data must hash
to it (`get`; a blob is only deduplicated against a copy checked so). Records past the log's last
entry (a crash lost their entries) are re-hashed and indexed when a writer finds them; a torn
append can only be past them, in the last pack (never acknowledged), and is cut then, even when the
torn bytes hold headers of other places. An archive without an index is indexed once from a scan.
"""

from __future__ import annotations

import hashlib
import mmap
import operator
import os
import re
import struct
from array import array
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.archive.blobs import fsync_dir
from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.packindex import (
    ENTRY,
    ENTRY_SIZE,
    LOG_NAME,
    RUN_NAME,
    STRIDE,
    PackIndex,
    Run,
    canonical_runs,
    iter_file_chunks,
    run_name,
)

MAGIC = b"GWPK"
HEADER = struct.Struct(">4sIQQ32s")
PACK_MAX_BLOB = 64 * 1024  # bigger blobs keep a file each (blobs.py): copying them costs more
PACK_LIMIT = 1 << 30
_NAME = re.compile(r"(\d{8})\.pack")


def pack_name(number: int) -> str:
    return f"{number:08d}.pack"


def pack_numbers(root: Path) -> list[int]:
    """The pack files in `root`, in order."""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(int(m.group(1)) for name in names if (m := _NAME.fullmatch(name)))


@dataclass(slots=True)
class PackScan:
    """What one scan of a pack found: good records, damaged ones, and where it stopped."""

    # digest -> (pack, data offset, length); the caller's index, filled in place (1M records: 200 MB)
    good: dict[bytes, tuple[int, int, int]] = field(default_factory=dict)
    bad: dict[bytes, str] = field(default_factory=dict)  # digest -> what is wrong with its record
    damage: list[str] = field(default_factory=list)
    end: int = 0  # the end of the last complete record
    torn: int | None = None  # offset of an incomplete last record (a crash, or truncation)


Emit = Callable[[bytes, int, int, bool], None]  # (SHA-256, header offset, length, data matches)


def scan_pack(
    path: Path,
    number: int,
    start: int = 0,
    *,
    into: dict[bytes, tuple[int, int, int]] | None = None,
    emit: Emit | None = None,
    relaxed_from: int | None = None,
) -> PackScan:
    """Parse and re-hash the records of one pack from `start` (a record boundary) to its end.

    `emit` is called for every record that is where its header says (its data good or not);
    without it the good ones fill `into`/`scan.good`. From `relaxed_from` on (a tail no index
    entry ever named: only a torn append can be there), bytes that are not records are a torn
    append even if they hold headers of other places (a blob's bytes can), unless a record in its
    place follows them.
    """
    scan = PackScan(end=start) if into is None else PackScan(good=into, end=start)
    if emit is None:
        good = scan.good

        def emit(digest: bytes, offset: int, length: int, ok: bool) -> None:
            if ok:
                good.setdefault(digest, (number, offset + HEADER.size, length))  # a later copy: rewritten

    with path.open("rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        if total <= start:
            return scan
        with mmap.mmap(handle.fileno(), total, access=mmap.ACCESS_READ) as view:
            _scan(view, number, start, total, scan, emit=emit, relaxed_from=relaxed_from)
    return scan


def _scan(
    view: mmap.mmap,
    number: int,
    pos: int,
    total: int,
    scan: PackScan,
    *,
    emit: Emit,
    relaxed_from: int | None,
) -> None:
    name = pack_name(number)
    sha256 = hashlib.sha256
    unpack = HEADER.unpack_from
    header_size = HEADER.size
    while pos < total:
        if total - pos >= header_size:
            magic, pack, offset, length, digest = unpack(view, pos)
        else:
            magic, pack, offset, length, digest = b"", -1, -1, 0, b""
        data = pos + header_size
        if magic == MAGIC and pack == number and offset == pos and data + length <= total:
            if sha256(view[data : data + length]).digest() == digest:
                emit(digest, pos, length, True)
                pos = scan.end = data + length
                continue
            emit(digest, pos, length, False)
            scan.bad.setdefault(digest, f"was changed ({name}, record at byte {pos})")
            # its length may be what changed: go on at the next header that is where it says
            following, _displaced = _next_record(view, number, pos + 1, total, scan)
            pos = scan.end = data + length if following is None else following
            continue
        # not a record where one should start: find the next header that says it is where it is
        following, displaced = _next_record(view, number, pos, total, scan)
        torn_only = relaxed_from is not None and pos >= relaxed_from
        if following is None and (not displaced or torn_only):
            # to the end, only the start of what one write() appends: a torn last append
            scan.torn = pos
            return
        stop = total if following is None else following
        scan.damage.append(f"{name}: bytes {pos} to {stop} are not valid records (changed, moved or cut)")
        pos = scan.end = stop


def _next_record(
    view: mmap.mmap, number: int, pos: int, total: int, scan: PackScan
) -> tuple[int | None, bool]:
    """(the next record that is where its header says, or None; whether headers were out of place)."""
    displaced = False
    while (found := view.find(MAGIC, pos, total)) >= 0:
        if total - found >= HEADER.size:
            _magic, pack, offset, length, digest = HEADER.unpack_from(view, found)
            if pack == number and offset == found:
                if found + HEADER.size + length <= total:
                    return found, displaced
            else:
                # a record out of place: moved (reordered) or shifted by bytes removed before it;
                # never a torn append, which only ever leaves the start of records in place
                displaced = True
                where = (
                    f"{pack_name(number)}: its record at byte {found} says {pack_name(pack)} byte {offset}"
                )
                scan.bad.setdefault(digest, f"was moved ({where})")
        pos = found + 1
    return None, displaced


def scan_packs(
    root: Path,
) -> tuple[dict[bytes, tuple[int, int, int]], dict[bytes, str], list[str], list[str]]:
    """Read-only scan of every pack (export): (good, bad, problems, notes).

    good: digest -> (pack, data offset, length). A torn end of the last pack is a note (an
    interrupted append, cut by the next writer); anywhere else it is damage.
    """
    good: dict[bytes, tuple[int, int, int]] = {}
    bad, problems, notes = _walk(root, lambda number: None, into=good)
    return good, bad, problems, notes


def _walk(
    root: Path,
    emitter: Callable[[int], Emit | None],
    *,
    into: dict[bytes, tuple[int, int, int]] | None = None,
    relaxed_from: int | None = None,
) -> tuple[dict[bytes, str], list[str], list[str]]:
    """Scan every pack: (bad, problems, notes); `relaxed_from` applies to the last pack."""
    numbers = pack_numbers(root)
    bad: dict[bytes, str] = {}
    problems: list[str] = []
    notes: list[str] = []
    for number in numbers:
        relaxed = relaxed_from if number == numbers[-1] else None
        path = root / pack_name(number)
        scan = scan_pack(path, number, into=into, emit=emitter(number), relaxed_from=relaxed)
        for digest, message in scan.bad.items():
            bad.setdefault(digest, message)
        problems += scan.damage
        if scan.torn is not None:
            where = f"{pack_name(number)}: incomplete record at byte {scan.torn}"
            if number == numbers[-1]:
                notes.append(f"{where}: an interrupted append, never acknowledged (cut on the next write)")
            else:
                problems.append(f"{where} (not the last pack: damaged)")
    return bad, problems, notes


class PackedDigests:
    """The good records of the packs for `verify`: 128 bits of each SHA-256, sorted, and its length.

    20 bytes a blob in three flat arrays (a dict of digests took ≈ 210), shared by forked workers.
    """

    def __init__(self, values: list[int]) -> None:
        """`values`: SHA-256 prefix (16 bytes) << 32 | length, for each good record; sorted here."""
        values.sort()
        self.high = array("Q", (value >> 96 for value in values))
        self.low = array("Q", (value >> 32 & 0xFFFFFFFFFFFFFFFF for value in values))
        self.lengths = array("L", (value & 0xFFFFFFFF for value in values))

    def __len__(self) -> int:
        return len(self.high)

    def length(self, digest: bytes) -> int | None:
        """The data length of a good record with this SHA-256, or None if no pack holds one."""
        high, low = int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:16], "big")
        at = bisect_left(self.high, high)
        while at < len(self.high) and self.high[at] == high:
            if self.low[at] == low:
                return self.lengths[at]
            at += 1
        return None


def survey_packs(root: Path) -> tuple[PackedDigests, dict[bytes, str], list[str], list[str]]:
    """Read-only scan of every pack for `verify`: (good records, bad, problems, notes).

    Also checks the persisted index against what the scan found (every good record has its log
    entry, in order, and each run holds the sorted entries of its stretch of the log). An index
    that differs is a problem when the packs themselves are intact, a note when they are not
    (damaged packs explain it); either way it is rebuilt from the packs when deleted.
    """
    values: list[int] = []
    check = _IndexCheck(root)
    pending: list[tuple[int, bytearray, list[int]]] = []  # the pack being scanned: its records

    def emitter(number: int) -> Emit:
        if pending:
            check.see_pack(*pending.pop())
        found, bad_at = bytearray(), list[int]()
        pending.append((number, found, bad_at))
        append, entry = values.append, ENTRY.pack

        def emit(digest: bytes, offset: int, length: int, ok: bool) -> None:
            if ok:
                append(int.from_bytes(digest[:16], "big") << 32 | length)
            else:
                bad_at.append(len(found) // ENTRY_SIZE)
            found.extend(entry(digest, number, offset, length))

        return emit

    try:
        bad, problems, notes = _walk(root, emitter, relaxed_from=check.relaxed_from())
        if pending:
            check.see_pack(*pending.pop())
        numbers = pack_numbers(root)
        index_problems, index_notes = check.finish(numbers[-1] if numbers else None)
    finally:
        check.close()
    packed = PackedDigests(values)
    values.clear()
    if problems or bad:
        notes += [f"{problem} (the packs are damaged too)" for problem in index_problems]
    else:
        problems += index_problems
    return packed, bad, problems, notes + index_notes


def _run_holds(run: Run, total: int) -> bool:
    """Whether a run's entries are sorted, sum to `total` (its log stretch's), and its samples are
    theirs (a changed sample would steer lookups away). Its filter is not checked: a wrong one can
    only make a writer store a blob a second time (`get` does not use it), never hide one."""
    previous, found, at = b"", 0, 0
    samples = array("Q")
    for chunk in run.chunks():
        if not (previous < chunk[0] and all(map(operator.lt, chunk, chunk[1:]))):
            return False
        found += sum(map(int.from_bytes, chunk))
        samples.extend(int.from_bytes(entry[:8], "big") for entry in chunk[-at % STRIDE :: STRIDE])
        previous, at = chunk[-1], at + len(chunk)
    return found == total and samples == run.samples


class _IndexCheck:
    """Compares `index.log` with the records a scan finds, and each run with its log stretch."""

    def __init__(self, root: Path) -> None:
        self.root = root
        path = root / LOG_NAME
        self.fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC) if path.exists() else -1
        size = os.fstat(self.fd).st_size if self.fd >= 0 else 0
        self.count, self.torn = divmod(size, ENTRY_SIZE)
        self.present = self.count > 0  # an empty log: an index never built, as if absent
        self.position = 0
        self.problem: str | None = None
        self.unindexed = 0  # good records past the log's end
        self.unindexed_packs: set[int] = set()
        self.runs = canonical_runs(self.count)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)

    def relaxed_from(self) -> int | None:
        """Where in the last pack the log's last entry says records end (a torn tail is past it)."""
        if not self.count:
            return None
        _digest, pack, offset, length = ENTRY.unpack(
            os.pread(self.fd, ENTRY_SIZE, (self.count - 1) * ENTRY_SIZE)
        )
        numbers = pack_numbers(self.root)
        if not numbers or pack > numbers[-1]:
            return None
        return offset + HEADER.size + length if pack == numbers[-1] else 0

    def see_pack(self, number: int, found: bytearray, bad_at: list[int]) -> None:
        """The records of one pack in place, as index entries; `bad_at`: those whose data is bad."""
        if self.problem is not None or not self.present:
            return
        records = len(found) // ENTRY_SIZE
        take = min(records, self.count - self.position)
        if (
            not bad_at
            and os.pread(self.fd, take * ENTRY_SIZE, self.position * ENTRY_SIZE) == found[: take * ENTRY_SIZE]
        ):
            self.position += take  # the usual case: one comparison for the whole pack
            self._unindexed(number, records - take)
            return
        bad = set(bad_at)
        for record in range(records):
            entry = bytes(found[record * ENTRY_SIZE : (record + 1) * ENTRY_SIZE])
            if self.position >= self.count:
                self._unindexed(number, len(set(range(record, records)) - bad))
                return
            expected = os.pread(self.fd, ENTRY_SIZE, self.position * ENTRY_SIZE)
            if entry == expected:
                self.position += 1
            elif record not in bad:  # a bad record may have no entry (never indexed); a good one must
                _digest, pack, at, _length = ENTRY.unpack(expected)
                _digest, _pack, offset, _length = ENTRY.unpack(entry)
                self.problem = (
                    f"packs/{LOG_NAME}: entry {self.position} names {pack_name(pack)} byte {at}, where the "
                    f"packs hold the next record at {pack_name(number)} byte {offset}"
                )
                return

    def _unindexed(self, number: int, records: int) -> None:
        if records:
            self.unindexed += records
            self.unindexed_packs.add(number)

    def _sum(self, start: int, end: int) -> int:
        return sum(
            sum(map(int.from_bytes, chunk))
            for chunk in iter_file_chunks(self.fd, start * ENTRY_SIZE, end * ENTRY_SIZE)
        )

    def finish(self, last_pack: int | None) -> tuple[list[str], list[str]]:
        notes: list[str] = []
        if not self.present:
            if last_pack is not None:
                notes.append(f"no pack index yet (packs/{LOG_NAME}): built from the packs on the next open")
            return [], notes
        if self.torn:
            notes.append(f"packs/{LOG_NAME}: an incomplete last entry (interrupted; cut on the next open)")
        if self.problem is None and self.position < self.count:
            missing = f"entries {self.position} to {self.count - 1} name records the packs do not have"
            self.problem = f"packs/{LOG_NAME}: {missing}"
        if self.problem is None and self.unindexed:
            if last_pack is not None and self.unindexed_packs == {last_pack}:
                notes.append(
                    f"{self.unindexed} records at the end of {pack_name(last_pack)} are not in the pack "
                    "index yet (an interrupted append: indexed on the next open or write)"
                )
            else:
                self.problem = f"packs/{LOG_NAME}: {self.unindexed} good records have no entry"
        if self.problem is not None:
            rebuild = (
                "the index is derived: delete packs/index.* and the next open rebuilds it from the packs"
            )
            return [f"{self.problem} ({rebuild})"], notes
        problems: list[str] = []
        # every run on disk (a merge may have left older runs beside a newer one), and every one due
        found = set[tuple[int, int]]()
        for name in os.listdir(self.root):
            match = RUN_NAME.fullmatch(name)
            if match is not None:
                found.add((int(match.group(1)), int(match.group(2))))
        for start, end in sorted(found | set(self.runs)):
            name = run_name(start, end)
            if end > self.count:
                notes.append(f"packs/{name}: covers entries past the log's end (deleted by the next merge)")
                continue
            run = Run.open(self.root / name, start, end)
            if run is None:
                if (self.root / name).exists():
                    problems.append(f"packs/{name}: malformed (delete it: the next open rebuilds it)")
                elif (start, end) in self.runs:
                    notes.append(f"packs/{name}: missing (merged by the next writer)")
                continue
            try:
                if _run_holds(run, self._sum(start, end)):
                    continue
            finally:
                run.close()
            problems.append(
                f"packs/{name}: not the sorted log entries {start} to {end - 1} (changed or damaged; "
                "delete it: the next open rebuilds it)"
            )
        return problems, notes


def _entries_of(number: int) -> tuple[bytearray, Emit]:
    """An `emit` collecting index entries for the good records of pack `number`."""
    found = bytearray()

    def emit(digest: bytes, offset: int, length: int, ok: bool) -> None:
        if ok:
            found.extend(ENTRY.pack(digest, number, offset, length))

    return found, emit


class PackStore:
    """The packs of one archive and their persisted index; writes run with the archive lock held."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync
        root.mkdir(parents=True, exist_ok=True)
        self.index = PackIndex(root, fsync=fsync)
        self._fds: dict[int, int] = {}
        self.current = -1
        self.end = 0
        # packs holding records this process did not sync itself (a crashed writer may not have)
        self._unsynced: set[int] = set()

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        self.index.close()

    def _fd(self, number: int) -> int:
        fd = self._fds.get(number)
        if fd is None:
            fd = os.open(self.root / pack_name(number), os.O_RDWR | os.O_CLOEXEC)
            fd = self._fds.setdefault(number, fd)
        return fd

    def recover(self) -> None:
        """Check the index from its tail, index what follows it, cut a torn last append (lock held).

        An archive from before the persisted index is indexed once from a full scan.
        """
        index = self.index
        count = index.on_disk()
        if not count:
            # an archive older than the index (or one whose index was deleted): no tail is new
            self._index_tails(None, strict=True)
        else:
            claimed = None
            if count:
                _digest, pack, offset, length = index.entry(count - 1)
                claimed = (pack, offset + HEADER.size + length)
            # entries past a pack's end (a power cut), or naming no record, are cut
            while count and not self._names_a_record(index.entry(count - 1)):
                count -= 1
            index.truncate(count)
            index.count = count
            self._index_tails(claimed, strict=False)
        index.settle()

    def catch_up(self) -> None:
        """Index records appended by other processes since the last look (lock held)."""
        index = self.index
        count = index.on_disk()
        if count < index.count:
            raise ArchiveCorrupt(f"packs/{LOG_NAME} shrank below {index.count} entries", field="packs")
        index.count = count
        # from where this process last looked (a damaged stretch it kept is not looked at again)
        seen = (self.current, self.end) if self.current >= 0 else None
        logged = self._logged_end()
        start = max(seen, logged) if seen is not None and logged is not None else seen or logged
        self._index_tails(start, strict=False, origin=start)
        index.settle()

    def _logged_end(self) -> tuple[int, int] | None:
        last = self.index.last()
        if last is None:
            return None
        _digest, pack, offset, length = last
        return pack, offset + HEADER.size + length

    def _names_a_record(self, entry: tuple[bytes, int, int, int]) -> bool:
        digest, pack, offset, length = entry
        try:
            fd = self._fd(pack)
        except FileNotFoundError:
            return False
        head = os.pread(fd, HEADER.size, offset)
        return (
            len(head) == HEADER.size
            and HEADER.unpack(head) == (MAGIC, pack, offset, length, digest)
            and offset + HEADER.size + length <= os.fstat(fd).st_size
        )

    def _index_tails(
        self, claimed: tuple[int, int] | None, *, strict: bool, origin: tuple[int, int] | None = None
    ) -> None:
        """Index the records past the last entry (a crash lost their entries, or never wrote them).

        `claimed`: where the log's last entry, before any was cut, said records end; a tail
        past it was never named by an entry, so only a torn append can leave garbage there.
        `origin`: (pack, offset) to look from (default: the end of the last entry's record).
        """
        logged = self._logged_end() if origin is None else origin
        if logged is None:
            numbers = pack_numbers(self.root)
            number, start = (numbers[0] if numbers else 0), 0
        else:
            number, start = logged
        while True:
            try:
                fd = self._fd(number)
            except FileNotFoundError:
                return
            size = os.fstat(fd).st_size
            if size < start:
                message = f"{pack_name(number)} shrank to {size} bytes below {start}"
                raise ArchiveCorrupt(message, field="packs")
            # a writer only starts a new pack past PACK_LIMIT: below it, no need to look for one
            last = size < PACK_LIMIT or not os.path.exists(os.path.join(self.root, pack_name(number + 1)))
            end = size
            if size > start:
                relaxed: int | None = None
                if not strict:
                    if claimed is None or number > claimed[0]:
                        relaxed = 0
                    elif number == claimed[0]:
                        relaxed = claimed[1]
                found, emit = _entries_of(number)
                path = self.root / pack_name(number)
                scan = scan_pack(path, number, start, emit=emit, relaxed_from=relaxed)
                if scan.torn is not None and last:
                    # an append a crash interrupted: nothing acknowledged it (we hold the lock)
                    os.ftruncate(fd, scan.torn)
                    end = scan.torn
                self.index.append(bytes(found))
                self._unsynced.add(number)
            self.current, self.end = number, end
            if last:
                return
            number, start = number + 1, 0

    def store(self, blobs: list[tuple[bytes, bytes]]) -> None:
        """Append the (digest, data) not stored yet in one write, and sync (lock held)."""
        seen: set[bytes] = set()
        parts: list[bytes] = []
        created = False
        if blobs and (self.current < 0 or self.end >= PACK_LIMIT):
            number = self.current + 1
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
            self._fds[number] = os.open(self.root / pack_name(number), flags, 0o640)
            self.current, self.end, created = number, 0, True
        number, start = self.current, self.end
        offset = start
        entries: list[bytes] = []
        for digest, data in blobs:
            if digest in seen or self._stored(digest):
                continue  # content-addressed: stored once
            seen.add(digest)
            parts.append(HEADER.pack(MAGIC, number, offset, len(data), digest))
            parts.append(data)
            entries.append(ENTRY.pack(digest, number, offset, len(data)))
            offset += HEADER.size + len(data)
        if parts:
            fd = self._fds[number]
            payload = b"".join(parts)
            try:
                if os.pwrite(fd, payload, start) != len(payload):
                    raise OSError("short write to a pack (disk full?)")
                if self.fsync:
                    os.fdatasync(fd)
            except BaseException:
                os.ftruncate(fd, start)  # not acknowledged: take the records back
                raise
            self._unsynced.discard(number)
            self.end = offset
            # after the sync: an entry only names synced bytes (if this write fails, the next
            # writer indexes these records from the pack's tail)
            self.index.append(b"".join(entries))
        if self.fsync:
            for other in sorted(self._unsynced):
                os.fdatasync(self._fd(other))
            if created:
                fsync_dir(self.root)
                fsync_dir(self.root.parent)
        self._unsynced.clear()
        self.index.settle()

    def _stored(self, digest: bytes) -> bool:
        # a copy named by the index is only relied upon once its bytes are checked
        where = self.index.find(digest)
        return where is not None and self._read(digest, where, strict=False) is not None

    def _read(self, digest: bytes, where: tuple[int, int, int], *, strict: bool) -> bytes | None:
        number, offset, length = where
        try:
            record = os.pread(self._fd(number), HEADER.size + length, offset)
        except FileNotFoundError:
            record = b""
        if len(record) != HEADER.size + length or HEADER.unpack_from(record) != (
            MAGIC,
            number,
            offset,
            length,
            digest,
        ):
            if not strict:
                return None
            raise ArchiveCorrupt(
                f"the pack index names {pack_name(number)} byte {offset} for blob {digest.hex()}, "
                f"where no such record is (run `gateway archive verify`; delete packs/{LOG_NAME} "
                "to rebuild the index)",
                field="blob",
            )
        data = record[HEADER.size :]
        if hashlib.sha256(data).digest() != digest:
            if not strict:
                return None
            raise ArchiveCorrupt(f"blob {digest.hex()} does not match its SHA-256", field="blob")
        return data

    def get(self, digest: bytes) -> bytes | None:
        """The blob's bytes checked against their record header and SHA-256, or None if unindexed."""
        # the filters only ever save a writer's lookups: a blob they miss is looked for without them
        where = self.index.find(digest) or self.index.find(digest, filtered=False)
        if where is None:
            return None
        return self._read(digest, where, strict=True)
