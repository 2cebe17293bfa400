"""Crash safety and multi-process appends, with real processes and a real `kill -9`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.archive import Archive, ArchiveCorrupt, verify_archive
from gateway.archive.journal import encode_record
from gateway.pki import DevPki
from gateway.signing import Signer, load_trust_anchors

pytestmark = pytest.mark.slow  # kill -9 of real processes: -m "not slow" leaves them out

# Appends forever; prints "<seq> <blob sha256>" once append() has returned (= acknowledged).
WRITER = """
import sys
from pathlib import Path
from gateway.archive import Archive
from gateway.signing import Signer

folder, cert, key, tag, limit = sys.argv[1:6]
signer = Signer.from_files(Path(cert), Path(key))
with Archive(Path(folder), signer=signer, checkpoint_every=7) as archive:
    i = 0
    while limit == "-" or i < int(limit):
        payload = f"{tag}-{i}-".encode() * (1 + i % 50)
        entry = archive.append("inbound-payload", payload, signature=signer.sign_detached(payload),
                               metadata={"tag": tag, "i": str(i)})
        print(entry.seq, entry.blob_sha256, flush=True)
        i += 1
"""


def start_writer(folder: Path, pki: DevPki, tag: str, limit: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder), str(pki.signer.cert), str(pki.signer.key),
         tag, limit],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def kill_after_acknowledged(writer: subprocess.Popen[str], count: int, acknowledged: dict[int, str]) -> None:
    """Read `count` "<seq> <blob sha256>" lines into `acknowledged`, then `kill -9` the writer."""
    assert writer.stdout is not None
    deadline = time.monotonic() + 30
    seen = 0
    while seen < count and time.monotonic() < deadline:
        line = writer.stdout.readline()
        if not line:
            break
        seq_text, blob_digest = line.split()
        assert int(seq_text) not in acknowledged
        acknowledged[int(seq_text)] = blob_digest
        seen += 1
    os.kill(writer.pid, signal.SIGKILL)  # the real `kill -9`, wherever it is
    writer.wait(timeout=10)
    stderr = writer.stderr.read() if writer.stderr else ""
    writer.stdout.close()
    if writer.stderr:
        writer.stderr.close()
    assert writer.returncode == -signal.SIGKILL, stderr
    assert seen == count, stderr


def test_kill_9_in_the_middle_of_appends_loses_nothing_acknowledged(tmp_path: Path, dev_pki: Path) -> None:
    pki = DevPki(dev_pki)
    folder = tmp_path / "archive"
    anchors = load_trust_anchors(pki.ca.cert)
    acknowledged: dict[int, str] = {}
    for round_number, kill_after in enumerate((37, 61, 90)):
        kill_after_acknowledged(start_writer(folder, pki, f"r{round_number}", "-"), kill_after, acknowledged)

        # verify straight after the crash, before any writer repaired anything
        report = verify_archive(folder, trust_anchors=anchors)
        assert report.ok, report.problems
        assert report.entries >= len(acknowledged)
        with Archive(folder) as archive:
            for seq, digest in acknowledged.items():
                assert archive.entry(seq).blob_sha256 == digest
    assert len(acknowledged) == 37 + 61 + 90


def test_torn_record_is_cut_on_open_and_verify_passes_meanwhile(tmp_path: Path, dev_pki: Path) -> None:
    pki = DevPki(dev_pki)
    signer = Signer.from_files(pki.signer.cert, pki.signer.key)
    folder = tmp_path / "archive"
    with Archive(folder, signer=signer) as archive:
        kept = archive.append("receipt", b"kept")
        archive.checkpoint()
        torn = archive.append("receipt", b"not acknowledged")
    journal = folder / "journal.log"
    line, _digest = encode_record(torn)
    with journal.open("r+b") as handle:
        handle.truncate(journal.stat().st_size - len(line))
        handle.seek(0, os.SEEK_END)
        handle.write(line[: len(line) // 2])  # the process died inside write()
    with (folder / "checkpoints.jsonl").open("ab") as handle:
        handle.write(b'{"cms":"MII')  # ... and inside a checkpoint write
    anchors = load_trust_anchors(pki.ca.cert)
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems
    assert report.entries == 1
    assert any("interrupted append" in note for note in report.notes)
    with Archive(folder, signer=signer) as archive:
        assert archive.size == 1
        assert archive.entry(0) == kept
        assert archive.append("receipt", b"next").seq == 1
        archive.checkpoint()
    report = verify_archive(folder, trust_anchors=anchors)
    assert report.ok, report.problems
    assert (report.entries, report.checkpoints, report.notes) == (2, 2, [])


def test_two_processes_append_concurrently_without_losing_or_duplicating(
    tmp_path: Path, dev_pki: Path
) -> None:
    pki = DevPki(dev_pki)
    folder = tmp_path / "archive"
    writers = [start_writer(folder, pki, tag, "40") for tag in ("a", "b")]
    outputs = [w.communicate(timeout=60) for w in writers]
    assert all(w.returncode == 0 for w in writers), [err for _out, err in outputs]
    seqs = sorted(int(line.split()[0]) for out, _err in outputs for line in out.splitlines())
    assert seqs == list(range(80))
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems
    assert report.entries == 80
    assert report.checkpoints >= 11  # checkpoint_every=7 from both writers


def test_open_refuses_a_damaged_journal_and_repairs_a_damaged_index(tmp_path: Path, dev_pki: Path) -> None:
    folder = tmp_path / "archive"
    with Archive(folder) as archive:
        for i in range(5):
            archive.append("receipt", f"r{i}".encode())
        root = archive.root()
    index = bytearray((folder / "index.bin").read_bytes())
    index[2 * 40 + 20] ^= 0xFF  # a flipped bit in the derived cache
    (folder / "index.bin").write_bytes(bytes(index))
    with Archive(folder) as archive:
        assert archive.root() == root
        assert archive.entry(2).seq == 2
    journal = folder / "journal.log"
    journal.write_bytes(journal.read_bytes().replace(b'"seq":3', b'"seq":7'))
    with pytest.raises(ArchiveCorrupt, match="journal entry 3: damaged"):
        Archive(folder)


def test_a_failed_fsync_is_not_acknowledged_and_leaves_no_record(
    tmp_path: Path, dev_pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "archive"
    real_fsync = os.fsync
    with Archive(folder) as archive:
        archive.append("receipt", b"first")

        def failing_fsync(fd: int) -> None:
            # the disk fails when the journal record is flushed (blob files fsync fine)
            if os.readlink(f"/proc/self/fd/{fd}").endswith("journal.log"):
                raise OSError(5, "I/O error")
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", failing_fsync)
        with pytest.raises(OSError, match="I/O error"):
            archive.append("receipt", b"lost")
        monkeypatch.setattr(os, "fsync", real_fsync)
        assert archive.append("receipt", b"second").seq == 1
    report = verify_archive(folder, trust_anchors=load_trust_anchors(DevPki(dev_pki).ca.cert))
    assert report.ok, report.problems
    assert report.entries == 2
