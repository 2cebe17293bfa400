"""`gateway archive migrate`: load an archive folder (the pack layout used until 2026-12, or an
export bundle) into the database log, keeping every entry's bytes, so the old checkpoints' roots
stay valid, then verify the result.

The folder: `journal.log` (`<leaf hash hex> SP <entry JSON> LF` per entry), `checkpoints.jsonl`
(`{"cms", "note"}` per line), blobs as files `blobs/ab/<sha256>` and, since 2026-11, small ones as
records of `packs/NNNNNNNN.pack`: a 56-byte header (b"GWPK", pack number u32, header offset u64,
data length u64, SHA-256 of the data; big-endian) then the data. An incomplete last journal line
is an append that was never acknowledged: it is left out, as the old engine did.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

from gateway.archive import log
from gateway.archive.blobs import CHUNK, sha256_hex
from gateway.archive.checkpoint import Checkpoint
from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.journal import check_leaf
from gateway.archive.merkle import leaf_hash
from gateway.archive.store import Archive
from gateway.errors import Code, ConfigurationError

_HEADER = struct.Struct(">4sIQQ32s")
_BATCH = 5_000


def _pack_index(folder: Path) -> dict[str, tuple[Path, int, int]]:
    """SHA-256 hex -> (pack file, data offset, length) of every intact pack record."""
    found: dict[str, tuple[Path, int, int]] = {}
    for pack in sorted((folder / "packs").glob("*.pack")):
        with pack.open("rb") as stream:
            offset = 0
            while len(header := stream.read(_HEADER.size)) == _HEADER.size:
                magic, _number, at, length, digest = _HEADER.unpack(header)
                data = stream.read(length)
                if magic != b"GWPK" or at != offset or len(data) != length:
                    break  # a torn or damaged tail: what is named and missing is reported
                if sha256_hex(data) == digest.hex():
                    found[digest.hex()] = (pack, offset + _HEADER.size, length)
                offset += _HEADER.size + length
    return found


def _journal(folder: Path) -> Iterator[tuple[int, bytes, bytes]]:
    with (folder / "journal.log").open("rb") as stream:
        for seq, line in enumerate(stream):
            if not line.endswith(b"\n"):
                return  # never acknowledged
            leaf = line[65:-1]
            digest = leaf_hash(leaf)
            if line[:64] != digest.hex().encode() or line[64:65] != b" ":
                where = f"journal entry {seq}"
                raise ArchiveCorrupt(f"{where}: record checksum mismatch (changed bytes)", field=where)
            yield seq, leaf, digest


def migrate_folder(folder: Path, archive: Archive) -> int:
    """Copy the folder's entries, blobs and checkpoints into `archive` (empty); the entry count."""
    if not (folder / "journal.log").is_file():
        raise ArchiveCorrupt(f"{folder}: no journal.log (not an archive folder)", field="from")
    packs = _pack_index(folder)
    with archive.store.transaction() as uow:
        if log.claim_sequence(uow.connection, 0) or log.read_checkpoints(uow.connection):
            raise ConfigurationError(
                "the database already holds an archive: migrate into an empty one",
                field="database",
                code=Code.ARCHIVE_NOT_EMPTY,
            )
    count = 0
    batch: list[tuple[int, bytes, bytes]] = []
    small: dict[str, bytes] = {}
    for seq, leaf, digest in _journal(folder):
        raw = check_leaf(leaf, seq)
        for name in (raw["blob"], raw["sig"]):
            if name is not None:
                _copy_blob(folder, name, packs, archive, small)
        batch.append((seq, leaf, digest))
        count += 1
        if len(batch) >= _BATCH:
            _flush(archive, batch, small)
    _flush(archive, batch, small)
    path = folder / "checkpoints.jsonl"
    lines = path.read_bytes().splitlines(keepends=True) if path.exists() else []
    with archive.store.transaction() as uow:
        for number, line in enumerate(lines):
            if line.endswith(b"\n") and json.loads(line):
                log.insert_checkpoint(
                    uow.connection, Checkpoint.from_line(line, where=f"checkpoint {number}")
                )
    return count


def _copy_blob(
    folder: Path,
    name: str,
    packs: dict[str, tuple[Path, int, int]],
    archive: Archive,
    small: dict[str, bytes],
) -> None:
    where = packs.get(name)
    if where is not None:
        pack, offset, length = where
        with pack.open("rb") as stream:
            stream.seek(offset)
            data = stream.read(length)
    else:
        path = folder / "blobs" / name[:2] / name
        if not path.is_file():
            return  # verify names it missing after the migration
        if path.stat().st_size > archive.small_blob_limit:
            with path.open("rb") as stream:
                archive.blobs.put_stream(iter(lambda: stream.read(CHUNK), b""))
            return
        data = path.read_bytes()
    if len(data) > archive.small_blob_limit:
        archive.blobs.put(data)
    else:
        small[name] = data


def _flush(archive: Archive, batch: list[tuple[int, bytes, bytes]], small: dict[str, bytes]) -> None:
    if not batch:
        return
    with archive.store.transaction() as uow:
        log.put_blobs(uow.connection, small)
        first = log.claim_sequence(uow.connection, len(batch))
        if first != batch[0][0]:  # pragma: no cover - the database was checked empty
            raise ConfigurationError("another writer appended during the migration", field="database")
        log.insert_entries(uow.connection, batch)
    batch.clear()
    small.clear()
