"""The persisted pack index (packs/index.log and sorted runs): found again on open, never trusted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

from gateway.archive import Archive, ArchiveCorrupt, packindex, verify_archive
from gateway.archive.packindex import ENTRY, ENTRY_SIZE, LOG_NAME, RUN_HEADER, canonical_runs, run_name
from gateway.archive.packs import HEADER, MAGIC, pack_name
from gateway.archive.store import NewEntry
from gateway.errors import NotFound
from gateway.pki import DevPki
from gateway.signing import load_trust_anchors
from tests.integration.test_archive_crash import kill_after_acknowledged

SPAN = 4  # runs of 4, 8, 16... log entries: every path of the binary counter in a few appends


@pytest.fixture(autouse=True)
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packindex, "SPAN", SPAN)


@pytest.fixture
def anchors(dev_pki: Path) -> list[x509.Certificate]:
    return load_trust_anchors(DevPki(dev_pki).ca.cert)


def fill(folder: Path, count: int, tag: str = "p") -> list[tuple[str, bytes]]:
    """`count` entries with a distinct payload and signature each: 2 pack records per entry."""
    with Archive(folder) as archive:
        items = [
            NewEntry("receipt", f"{tag}-{i}".encode() * 3, f"sig-{tag}-{i}".encode()) for i in range(count)
        ]
        written = archive.append_many(items[: count // 2])
        written += [archive.append(i.kind, i.blob, signature=i.signature) for i in items[count // 2 :]]
    return [(entry.blob_sha256, item.blob) for entry, item in zip(written, items, strict=True)]


def run_files(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "packs").glob("index-*.run"))


def log_count(folder: Path) -> int:
    return (folder / "packs" / LOG_NAME).stat().st_size // ENTRY_SIZE


def index_notes(report_notes: list[str]) -> list[str]:
    return [n for n in report_notes if "index" in n]


def test_runs_follow_the_log_like_a_binary_counter_and_every_blob_is_found(
    tmp_path: Path, anchors: list[x509.Certificate]
) -> None:
    folder = tmp_path / "archive"
    blobs = fill(folder, 23)  # 46 records
    assert log_count(folder) == 46
    assert run_files(folder) == [run_name(s, e) for s, e in canonical_runs(46)]  # 32 + 8 + 4, 2 recent
    with Archive(folder) as archive:
        index = archive._packs.index
        assert (index.covered, len(index.recent)) == (44, 2)
        assert [(r.start, r.end) for r in index.runs] == [(0, 32), (32, 40), (40, 44)]
        for digest, payload in blobs:
            assert archive.blob(digest) == payload
        assert index.find(os.urandom(32)) is None
        again = archive.append("receipt", blobs[5][1])  # already packed: stored once
        assert again.blob_sha256 == blobs[5][0]
    assert log_count(folder) == 46
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems
    assert index_notes(report.notes) == []


def test_an_archive_without_an_index_is_indexed_once_from_its_packs(
    tmp_path: Path, anchors: list[x509.Certificate]
) -> None:
    folder = tmp_path / "archive"
    blobs = fill(folder, 10)
    for path in (folder / "packs").glob("index*"):
        path.unlink()  # as written before the persisted index
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems
    assert any("no pack index yet" in note for note in report.notes)
    reads_back_and_verifies(folder, blobs, anchors)
    assert log_count(folder) == 20


def reads_back_and_verifies(
    folder: Path, blobs: list[tuple[str, bytes]], anchors: list[x509.Certificate]
) -> None:
    """Open (which indexes what is missing), read every blob back, verify: clean, index included."""
    with Archive(folder) as archive:
        assert all(archive.blob(digest) == payload for digest, payload in blobs)
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems
    assert index_notes(report.notes) == []


def rewrite(path: Path, change: Callable[[bytearray], None]) -> None:
    data = bytearray(path.read_bytes())
    change(data)
    path.write_bytes(bytes(data))


def swap_two_recent_entries(folder: Path) -> str:
    """Two entries of the log's recent stretch exchange their places: each names the other's record."""
    log = folder / "packs" / LOG_NAME

    def change(data: bytearray) -> None:
        a, b = (40 + 0) * ENTRY_SIZE, (40 + 1) * ENTRY_SIZE  # both past the runs' 40
        digest_a, digest_b = data[a : a + 32], data[b : b + 32]
        data[a : a + 32], data[b : b + 32] = digest_b, digest_a

    rewrite(log, change)
    return "index.log: entry 40"


def change_a_run_entry(folder: Path) -> str:
    name = run_name(0, 32)

    def change(data: bytearray) -> None:
        data[RUN_HEADER.size + 5 * ENTRY_SIZE + 40] ^= 0x01  # an offset: points elsewhere

    rewrite(folder / "packs" / name, change)
    return f"{name}: not the sorted log entries"


def cut_a_run(folder: Path) -> str:
    name = run_name(32, 40)
    path = folder / "packs" / name
    os.truncate(path, path.stat().st_size - 3)
    return f"{name}: malformed"


def drop_an_entry_in_the_middle(folder: Path) -> str:
    log = folder / "packs" / LOG_NAME

    def change(data: bytearray) -> None:
        del data[10 * ENTRY_SIZE : 11 * ENTRY_SIZE]

    rewrite(log, change)
    return "index.log: entry 10"


@pytest.mark.parametrize(
    "tamper",
    [swap_two_recent_entries, change_a_run_entry, cut_a_run, drop_an_entry_in_the_middle],
)
def test_a_tampered_index_is_reported_by_verify_never_trusted_and_rebuilt_when_deleted(
    tmp_path: Path,
    anchors: list[x509.Certificate],
    tamper: Callable[[Path], str],
) -> None:
    folder = tmp_path / "archive"
    blobs = fill(folder, 21)  # 42 entries: runs [0, 32) [32, 40), recent 40, 41
    expected = tamper(folder)
    report = verify_archive(folder, trust_anchors=anchors)
    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems
    assert all("index" in problem for problem in report.problems)  # the evidence itself is intact
    outcomes: set[str] = set()
    with Archive(folder) as archive:
        for digest, payload in blobs:
            try:
                outcomes.add("same" if archive.blob(digest) == payload else "different")
            except ArchiveCorrupt as exc:  # an entry naming another record: refused, not trusted
                outcomes.add("refused" if "pack index" in exc.message else exc.message)
            except NotFound:  # an entry removed: not found (and verify said why)
                outcomes.add("not found")
    hidden = tamper is drop_an_entry_in_the_middle
    assert outcomes <= {"same", "refused", "not found" if hidden else "same"}, outcomes
    for path in (folder / "packs").glob("index*"):
        path.unlink()
    reads_back_and_verifies(folder, blobs, anchors)


def test_a_cleared_filter_hides_no_blob_it_can_only_cost_a_second_copy(
    tmp_path: Path, anchors: list[x509.Certificate]
) -> None:
    folder = tmp_path / "archive"
    blobs = fill(folder, 21)
    run = folder / "packs" / run_name(0, 32)
    size = run.stat().st_size
    filter_size = packindex.filter_bits(32) // 8

    def change(data: bytearray) -> None:
        data[size - filter_size :] = bytes(filter_size)  # every bit of the run's filter cleared

    rewrite(run, change)
    reads_back_and_verifies(folder, blobs, anchors)
    with Archive(folder) as archive:
        archive.append("receipt", blobs[0][1])  # not found through the filter: stored again
        assert archive.blob(blobs[0][0]) == blobs[0][1]
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems


def test_a_log_cut_short_is_a_crash_to_verify_and_indexed_again_on_open(
    tmp_path: Path, anchors: list[x509.Certificate]
) -> None:
    folder = tmp_path / "archive"
    blobs = fill(folder, 21)
    log = folder / "packs" / LOG_NAME
    os.truncate(log, 35 * ENTRY_SIZE + 20)  # the unsynced tail a power cut lost, torn mid-entry
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems
    assert any("not in the pack index yet" in note for note in report.notes)
    reads_back_and_verifies(folder, blobs, anchors)  # the pack's tail is re-hashed and indexed again
    assert log_count(folder) == 42


def five_entries(tmp_path: Path) -> tuple[Path, list[tuple[str, bytes]], Path, Path]:
    """(archive folder, its blobs, its one pack, its index log) after five entries."""
    folder = tmp_path / "archive"
    blobs = fill(folder, 5)
    return folder, blobs, folder / "packs" / pack_name(0), folder / "packs" / LOG_NAME


@pytest.mark.parametrize("torn", ["pack", "index", "both"])
def test_a_torn_index_and_a_torn_pack_tail_are_cut_on_open(
    tmp_path: Path,
    anchors: list[x509.Certificate],
    torn: str,
) -> None:
    folder, blobs, pack, log = five_entries(tmp_path)
    size, entries = pack.stat().st_size, log_count(folder)
    if torn in ("pack", "both"):
        # a group's pack write torn inside a blob whose bytes hold a record header of another place
        # (once reported as damage: now the tail past the last index entry is known to be torn)
        inner = HEADER.pack(MAGIC, 0, 7, 3, bytes(32)) + b"abc"
        record = HEADER.pack(MAGIC, 0, size, 200, bytes(32)) + b"x" * 20 + inner + b"y" * 20
        with pack.open("ab") as out:
            out.write(record[: len(record) - 10])
    if torn in ("index", "both"):
        with log.open("ab") as out:  # an index entry torn by a crash
            out.write(ENTRY.pack(b"\1" * 32, 0, size + 300, 5)[:30])
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems
    assert any("interrupted" in note for note in report.notes)
    with Archive(folder) as archive:
        assert (pack.stat().st_size, log.stat().st_size) == (size, entries * ENTRY_SIZE)
        assert all(archive.blob(digest) == payload for digest, payload in blobs)
        archive.append("receipt", b"next")
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems
    assert report.notes == ["no checkpoint yet: nothing is signed"]


def test_index_entries_naming_no_record_are_cut_on_open(
    tmp_path: Path, anchors: list[x509.Certificate]
) -> None:
    folder, blobs, pack, log = five_entries(tmp_path)
    size, entries = pack.stat().st_size, log_count(folder)
    with log.open("ab") as out:
        out.write(ENTRY.pack(bytes(32), 0, size, 200))  # past the pack's end
    report = verify_archive(folder, trust_anchors=anchors)
    assert any("index.log: entries 10 to 10 name records the packs do not have" in p for p in report.problems)
    with Archive(folder) as archive:
        assert (pack.stat().st_size, log_count(folder)) == (size, entries)
        assert all(archive.blob(digest) == payload for digest, payload in blobs)
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems


def test_a_damaged_pack_is_not_cut_even_when_its_index_entries_fail(
    tmp_path: Path, anchors: list[x509.Certificate]
) -> None:
    folder = tmp_path / "archive"
    fill(folder, 5)
    pack = folder / "packs" / pack_name(0)
    data = pack.read_bytes()
    second = data.index(MAGIC, 1)
    pack.write_bytes(data[:second] + data[second + 30 :])  # bytes removed inside the second record
    with Archive(folder) as archive:  # entries past the damage name nothing now: cut; the pack stays
        archive.append("receipt", b"after")
    assert pack.stat().st_size > len(data) - 30
    report = verify_archive(folder, trust_anchors=anchors)
    assert not report.ok
    assert re.search("journal entry 0: blob .* (is missing|was moved|was changed)", report.problems[0])


# Appends forever with runs of 4 entries; "<seq> <blob sha256>" once acknowledged.
WRITER = """
import sys
from pathlib import Path
from gateway.archive import Archive, packindex
from gateway.archive.store import NewEntry
from gateway.errors import NotFound

packindex.SPAN = 4
with Archive(Path(sys.argv[1])) as archive:
    i = 0
    while True:
        items = [NewEntry("receipt", f"{i}-{j}".encode() * (1 + j), f"s{i}-{j}".encode()) for j in range(3)]
        for entry in archive.append_many(items):
            print(entry.seq, entry.blob_sha256, flush=True)
        i += 1
"""


def test_kill_9_while_runs_are_written_loses_nothing_and_the_index_checks_out(
    tmp_path: Path,
    anchors: list[x509.Certificate],
) -> None:
    folder = tmp_path / "archive"
    acknowledged: dict[int, str] = {}
    for kill_after in (50, 83, 121):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        kill_after_acknowledged(writer, kill_after, acknowledged)
        report = verify_archive(folder, trust_anchors=anchors)
        assert report.ok, report.problems
        with Archive(folder) as archive:
            for seq, digest in acknowledged.items():
                assert archive.entry(seq).blob_sha256 == digest
                assert archive.blob(digest)
        report = verify_archive(folder, trust_anchors=anchors)
        assert report.ok, report.problems
        assert [n for n in report.notes if "index" in n and "missing" not in n] == []
