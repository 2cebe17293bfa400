"""Run merges of the pack index happen beside the writers, not under the archive lock."""

from __future__ import annotations

import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509

from gateway.archive import Archive, packindex, verify_archive
from gateway.archive.packindex import ENTRY_SIZE, LOG_NAME, canonical_runs, run_name
from gateway.pki import DevPki
from gateway.signing import load_trust_anchors
from tests.integration.test_archive_crash import kill_after_acknowledged
from tests.integration.test_archive_index import WRITER as INDEX_WRITER

SPAN = 4
GATED = 16  # merges into runs of 16 entries or more wait for the test


@pytest.fixture(autouse=True)
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packindex, "SPAN", SPAN)
    monkeypatch.setattr(packindex, "BEHIND", 1000)


@pytest.fixture
def anchors(dev_pki: Path) -> list[x509.Certificate]:
    return load_trust_anchors(DevPki(dev_pki).ca.cert)


class Gate:
    """Holds every merge into a run of `GATED` entries or more until `release` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started, self.release = threading.Event(), threading.Event()
        real = packindex.write_run

        def slow(root: Path, start: int, end: int, chunks: object, *, fsync: bool) -> packindex.Run:
            if end - start >= GATED:
                self.started.set()
                assert self.release.wait(30)
            return real(root, start, end, chunks, fsync=fsync)  # type: ignore[arg-type]

        monkeypatch.setattr(packindex, "write_run", slow)


def run_files(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "packs").glob("index-*.run"))


def log_count(folder: Path) -> int:
    return (folder / "packs" / LOG_NAME).stat().st_size // ENTRY_SIZE


@contextmanager
def merge_held(
    folder: Path, monkeypatch: pytest.MonkeyPatch, tag: str, count: int
) -> Iterator[tuple[Archive, Gate, list[str]]]:
    """An archive after `count` appends (one pack record each), its merge into [0, 16) held."""
    gate = Gate(monkeypatch)
    with Archive(folder) as archive:
        digests = [archive.append("receipt", f"{tag}-{i}".encode()).blob_sha256 for i in range(count)]
        assert gate.started.wait(10)  # the merge is under way (it holds packs/merge.lock), and held
        yield archive, gate, digests


def clean(folder: Path, anchors: list[x509.Certificate]) -> None:
    """Verify passes with no note about the index, and the runs on disk are the log's canonical ones."""
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems
    assert [note for note in report.notes if "index" in note] == []
    assert run_files(folder) == [run_name(s, e) for s, e in canonical_runs(log_count(folder))]
    assert list((folder / "packs").glob(".index-*")) == []


def test_appends_go_on_and_lookups_find_everything_while_a_merge_is_held(
    tmp_path: Path, anchors: list[x509.Certificate], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "archive"
    with merge_held(folder, monkeypatch, "a", GATED) as (archive, gate, digests):
        index = archive._packs.index
        began = time.monotonic()
        for i in range(GATED, 5 * GATED):  # appends cross four more blocks meanwhile
            digests.append(archive.append("receipt", f"a-{i}".encode()).blob_sha256)
        assert time.monotonic() - began < 20
        merge = index._merge
        assert merge is not None
        assert not merge.done.is_set()
        assert index.covered < GATED  # lookups still go through the older runs
        assert len(index.recent) > 4 * GATED - SPAN  # and the recent entries
        found: list[bool] = []
        reader = threading.Thread(
            target=lambda: found.extend(archive.blob(d) == f"a-{i}".encode() for i, d in enumerate(digests))
        )
        reader.start()  # lookups from another thread too, as the intake server's
        reader.join(10)
        assert found == [True] * len(digests)
        gate.release.set()
        assert merge.done.wait(10)
        archive.append("receipt", b"next")  # installs the merge (quick, under the lock), starts the next
        assert index.covered >= GATED
        assert all(archive.blob(d) == f"a-{i}".encode() for i, d in enumerate(digests))
    clean(folder, anchors)


def test_a_writer_far_behind_its_merge_waits_for_it(
    tmp_path: Path, anchors: list[x509.Certificate], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packindex, "BEHIND", 2)  # at most 8 entries past the runs
    folder = tmp_path / "archive"
    with merge_held(folder, monkeypatch, "b", GATED) as (archive, gate, _digests):
        index = archive._packs.index
        threading.Timer(0.5, gate.release.set).start()
        began = time.monotonic()
        for i in range(GATED, GATED + 2 * SPAN + 1):
            archive.append("receipt", f"b-{i}".encode())
        assert time.monotonic() - began >= 0.4  # the append that went too far waited for the merge
        assert index.count - index.covered <= 2 * SPAN
    clean(folder, anchors)


# The writer of test_archive_index (appends forever, runs of 4 entries, "<seq> <blob sha256>" once
# acknowledged) whose merges into 16 entries or more write half their temp file and hang there.
HANG = """
import os, time
packindex.BEHIND = 10**6
def hang(root, start, end, chunks, *, fsync):
    if end - start < 16:
        return real(root, start, end, chunks, fsync=fsync)
    with open(root / f".{packindex.run_name(start, end)}.tmp-{os.getpid()}", "wb") as out:
        out.write(b"GWPX half a run")
    time.sleep(3600)
real, packindex.write_run = packindex.write_run, hang
"""
WRITER = INDEX_WRITER.replace("packindex.SPAN = 4\n", "packindex.SPAN = 4\n" + HANG)
assert HANG in WRITER


def test_kill_9_in_the_middle_of_a_merge_leaves_an_archive_that_opens_and_verifies(
    tmp_path: Path, anchors: list[x509.Certificate]
) -> None:
    folder = tmp_path / "archive"
    acknowledged: dict[int, str] = {}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    kill_after_acknowledged(writer, 45, acknowledged)  # 90 pack records: well past the hung merge
    assert log_count(folder) >= 90
    assert [p.name for p in (folder / "packs").glob(".index-*")] == [f".{run_name(0, 16)}.tmp-{writer.pid}"]
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems
    assert all("missing" in note for note in report.notes if "index" in note)
    with Archive(folder) as archive:
        for seq, digest in acknowledged.items():
            assert archive.entry(seq).blob_sha256 == digest
            assert archive.blob(digest)
    clean(folder, anchors)  # the half-written run is gone, the runs are complete


# Opens the archive while the test holds its own merge, appends, reads everything back.
OTHER = """
import sys
from pathlib import Path
from gateway.archive import Archive, packindex

packindex.SPAN, packindex.BEHIND = 4, 10**6
with Archive(Path(sys.argv[1])) as archive:
    mine = [archive.append("receipt", f"other-{i}".encode()).blob_sha256 for i in range(40)]
    assert all(archive.blob(digest) for digest in sys.argv[2:] + mine)
    print(" ".join(mine), flush=True)
"""


def test_two_processes_share_the_runs_while_one_of_them_merges(
    tmp_path: Path, anchors: list[x509.Certificate], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "archive"
    with merge_held(folder, monkeypatch, "c", GATED + 1) as (archive, gate, digests):
        index = archive._packs.index
        other = subprocess.Popen(
            [sys.executable, "-c", OTHER, str(folder), *digests],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert other.stdout is not None
        ready, _, _ = select.select([other.stdout], [], [], 30)
        line = other.stdout.readline() if ready else ""
        assert line, "the other process did not append"  # its appends did not wait for our merge
        gate.release.set()  # its own merge (at its close) waited for ours: it can go on now
        _out, errors = other.communicate(timeout=30)
        assert other.returncode == 0, errors
        theirs = line.split()
        if index._merge is not None:
            index._merge.done.wait(10)
        archive.append("receipt", b"after")  # catches up with the other's entries and runs
        assert all(archive.blob(d) for d in digests + theirs)
        assert index.covered >= GATED
    clean(folder, anchors)
    assert log_count(folder) == GATED + 1 + 40 + 1


def test_verify_checks_an_older_run_left_beside_a_newer_one(
    tmp_path: Path, anchors: list[x509.Certificate]
) -> None:
    folder = tmp_path / "archive"
    with Archive(folder) as archive:
        for i in range(2 * GATED):
            archive.append("receipt", f"d-{i}".encode())
    assert run_files(folder) == [run_name(0, 32)]
    log = (folder / "packs" / LOG_NAME).read_bytes()
    wrong = sorted(packindex.split_entries(log[GATED * ENTRY_SIZE :]))  # the entries 16 to 31 as 0 to 15
    packindex.write_run(folder / "packs", 0, GATED, [wrong], fsync=False).close()
    report = verify_archive(folder, trust_anchors=anchors)
    assert not report.ok
    assert any(f"{run_name(0, GATED)}: not the sorted log entries 0 to 15" in p for p in report.problems)


def test_a_failed_background_merge_fails_no_append_and_is_merged_again(
    tmp_path: Path, anchors: list[x509.Certificate], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = packindex.write_run
    failures: list[tuple[int, int]] = []

    def failing_once(root: Path, start: int, end: int, chunks: object, *, fsync: bool) -> packindex.Run:
        if end - start >= GATED and not failures:
            failures.append((start, end))
            raise OSError(28, "No space left on device")
        return real(root, start, end, chunks, fsync=fsync)  # type: ignore[arg-type]

    monkeypatch.setattr(packindex, "write_run", failing_once)
    folder = tmp_path / "archive"
    with Archive(folder) as archive:
        digests = [archive.append("receipt", f"e-{i}".encode()).blob_sha256 for i in range(3 * GATED)]
        assert all(archive.blob(d) == f"e-{i}".encode() for i, d in enumerate(digests))
    assert failures == [(0, GATED)]  # and the next merge (at the latest the close's) made the runs
    clean(folder, anchors)
