"""Append-only pack files for small blobs: a group's blobs cost one write and one sync, no new file.

`packs/00000000.pack`, `00000001.pack`, ...: a sequence of records, each

    header (56 bytes) = b"GWPK" | pack number (u32) | offset of this header (u64) | length (u64)
                        | SHA-256 of the data (32 bytes)          (all big-endian)
    data   (length bytes)

A record states its own pack and offset, so a record moved, removed or reordered shows as a header
that is not where it says it is; the SHA-256 catches changed data. Records are only ever appended,
under the archive lock, and synced before any journal record names them. The index (SHA-256 ->
pack, offset, length) lives in memory and is rebuilt by scanning the packs, re-hashing every record,
so nothing is trusted that was not hashed. A record torn by a crash can only be the last one of the
last pack (never acknowledged): it is cut when a writer finds it. A new pack starts once the current
one reaches `PACK_LIMIT`.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from gateway.archive.blobs import fsync_dir
from gateway.archive.errors import ArchiveCorrupt

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


def scan_pack(
    path: Path, number: int, start: int = 0, *, into: dict[bytes, tuple[int, int, int]] | None = None
) -> PackScan:
    """Parse and re-hash the records of one pack from `start` (a record boundary) to its end."""
    scan = PackScan(end=start) if into is None else PackScan(good=into, end=start)
    with path.open("rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        if total <= start:
            return scan
        with mmap.mmap(handle.fileno(), total, access=mmap.ACCESS_READ) as view:
            _scan(view, number, start, total, scan)
    return scan


def _scan(view: mmap.mmap, number: int, pos: int, total: int, scan: PackScan) -> None:
    name = pack_name(number)
    sha256 = hashlib.sha256
    unpack = HEADER.unpack_from
    header_size = HEADER.size
    good = scan.good
    while pos < total:
        if total - pos >= header_size:
            magic, pack, offset, length, digest = unpack(view, pos)
        else:
            magic, pack, offset, length, digest = b"", -1, -1, 0, b""
        data = pos + header_size
        if magic == MAGIC and pack == number and offset == pos and data + length <= total:
            if sha256(view[data : data + length]).digest() == digest:
                good.setdefault(digest, (number, data, length))  # a later copy: rewritten after damage
                pos = scan.end = data + length
                continue
            scan.bad.setdefault(digest, f"was changed ({name}, record at byte {pos})")
            # its length may be what changed: go on at the next header that is where it says
            following, _displaced = _next_record(view, number, pos + 1, total, scan)
            pos = scan.end = data + length if following is None else following
            continue
        # not a record where one should start: find the next header that says it is where it is
        following, displaced = _next_record(view, number, pos, total, scan)
        if following is None and not displaced:
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
    """Read-only scan of every pack (verify, export): (good, bad, problems, notes).

    good: digest -> (pack, data offset, length). A torn end of the last pack is a note (an
    interrupted append, cut by the next writer); anywhere else it is damage.
    """
    numbers = pack_numbers(root)
    good: dict[bytes, tuple[int, int, int]] = {}
    bad: dict[bytes, str] = {}
    problems: list[str] = []
    notes: list[str] = []
    for number in numbers:
        scan = scan_pack(root / pack_name(number), number, into=good)
        for digest, message in scan.bad.items():
            bad.setdefault(digest, message)
        problems += scan.damage
        if scan.torn is not None:
            where = f"{pack_name(number)}: incomplete record at byte {scan.torn}"
            if number == numbers[-1]:
                notes.append(f"{where}: an interrupted append, never acknowledged (cut on the next write)")
            else:
                problems.append(f"{where} (not the last pack: damaged)")
    return good, bad, problems, notes


class PackStore:
    """The packs of one archive and their in-memory index; writes run with the archive lock held."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync
        root.mkdir(parents=True, exist_ok=True)
        self.index: dict[bytes, tuple[int, int, int]] = {}  # digest -> (pack, data offset, length)
        self._fds: dict[int, int] = {}
        self.current = -1
        self.end = 0
        # packs holding records this process did not sync itself (a crashed writer may not have)
        self._unsynced: set[int] = set()

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def _fd(self, number: int) -> int:
        fd = self._fds.get(number)
        if fd is None:
            fd = os.open(self.root / pack_name(number), os.O_RDWR | os.O_CLOEXEC)
            fd = self._fds.setdefault(number, fd)
        return fd

    def recover(self) -> None:
        """Index every pack (lock held); cut a torn last record of the last pack."""
        numbers = pack_numbers(self.root)
        for number in numbers:
            self._index(number, 0, last=number == numbers[-1])

    def catch_up(self) -> None:
        """Index records appended by other processes since the last look (lock held)."""
        if self.current >= 0:
            size = os.fstat(self._fd(self.current)).st_size
            if size < self.end:
                raise ArchiveCorrupt(
                    f"{pack_name(self.current)} shrank to {size} bytes below {self.end}", field="packs"
                )
            if size > self.end:
                self._index(self.current, self.end, last=True)
        while (self.root / pack_name(self.current + 1)).exists():
            self._index(self.current + 1, 0, last=True)

    def _index(self, number: int, start: int, *, last: bool) -> None:
        fd = self._fd(number)
        scan = scan_pack(self.root / pack_name(number), number, start, into=self.index)
        if scan.torn is not None and last:
            # an append a crash interrupted: nothing acknowledged it (we hold the lock)
            os.ftruncate(fd, scan.torn)
        self._unsynced.add(number)
        self.current = number
        self.end = scan.torn if scan.torn is not None and last else os.fstat(fd).st_size

    def store(self, blobs: list[tuple[bytes, bytes]]) -> None:
        """Append the (digest, data) not stored yet in one write, and sync (lock held)."""
        index = self.index
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
        added: list[tuple[bytes, tuple[int, int, int]]] = []
        for digest, data in blobs:
            if digest in index or digest in seen:
                continue  # content-addressed: stored once
            seen.add(digest)
            parts.append(HEADER.pack(MAGIC, number, offset, len(data), digest))
            parts.append(data)
            added.append((digest, (number, offset + HEADER.size, len(data))))
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
            index.update(added)
        if self.fsync:
            for other in sorted(self._unsynced):
                os.fdatasync(self._fd(other))
            if created:
                fsync_dir(self.root)
                fsync_dir(self.root.parent)
        self._unsynced.clear()

    def get(self, digest: bytes) -> bytes | None:
        """The blob's bytes checked against their SHA-256, or None if no pack holds it."""
        where = self.index.get(digest)
        if where is None:
            return None
        number, offset, length = where
        data = os.pread(self._fd(number), length, offset)
        if hashlib.sha256(data).digest() != digest:
            raise ArchiveCorrupt(f"blob {digest.hex()} does not match its SHA-256", field="blob")
        return data
