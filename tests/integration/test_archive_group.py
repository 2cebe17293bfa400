"""Group commit, batches and streamed files: many appenders, one sync, nothing acknowledged lost."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gateway.archive import Archive, packs, verify_archive
from gateway.archive.packs import HEADER, MAGIC, PACK_MAX_BLOB, pack_name
from gateway.archive.store import BlobSync, NewEntry
from gateway.pki import DevPki
from gateway.signing import Signer, load_trust_anchors
from tests.integration.test_archive_crash import kill_after_acknowledged

# Threads append single entries and batches forever; "<seq> <blob sha256>" once acknowledged.
WRITER = """
import sys, threading
from pathlib import Path
from gateway.archive import Archive
from gateway.archive.store import NewEntry
from gateway.signing import Signer

folder, cert, key, tag, sync = sys.argv[1:6]
signer = Signer.from_files(Path(cert), Path(key))
out = threading.Lock()
archive = Archive(Path(folder), signer=signer, checkpoint_every=25, blob_sync=sync)

def say(entries):
    with out:
        for e in entries:
            sys.stdout.write(f"{e.seq} {e.blob_sha256}\\n")
        sys.stdout.flush()

def single(n):
    i = 0
    while True:
        payload = f"{tag}-s{n}-{i}".encode() * (1 + i % 9)
        say([archive.append("receipt", payload, signature=signer.sign_detached(payload))])
        i += 1

def batch():
    i = 0
    while True:
        items = [NewEntry("inbound-payload", f"{tag}-b{i}-{j}".encode(), b"sig", {"j": str(j)})
                 for j in range(20)]
        say(archive.append_many(items))
        i += 1

threads = [threading.Thread(target=single, args=(n,), daemon=True) for n in range(6)]
threads.append(threading.Thread(target=batch, daemon=True))
for t in threads:
    t.start()
threads[0].join()
"""


@pytest.fixture
def pki(dev_pki: Path) -> DevPki:
    return DevPki(dev_pki)


@pytest.fixture
def signer(pki: DevPki) -> Signer:
    return Signer.from_files(pki.signer.cert, pki.signer.key)


@pytest.mark.parametrize("blob_sync", ["syncfs", "files"])
def test_many_threads_append_every_entry_once_and_verify(
    tmp_path: Path, signer: Signer, pki: DevPki, blob_sync: BlobSync
) -> None:
    folder = tmp_path / "archive"
    acknowledged: dict[int, str] = {}
    lock = threading.Lock()
    with Archive(folder, signer=signer, checkpoint_every=10, blob_sync=blob_sync) as archive:

        def work(n: int) -> None:
            for i in range(25):
                payload = f"t{n}-{i}".encode()
                if i % 5 == 4:
                    entries = archive.append_many(
                        [NewEntry("receipt", payload + b"-%d" % j, b"sig") for j in range(3)]
                    )
                else:
                    entries = [archive.append("receipt", payload, signature=b"sig-" + payload)]
                with lock:
                    for entry in entries:
                        assert entry.seq not in acknowledged
                        acknowledged[entry.seq] = entry.blob_sha256

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(acknowledged) == list(range(8 * (20 + 5 * 3)))
        for seq, digest in acknowledged.items():
            assert archive.entry(seq).blob_sha256 == digest
        batch = archive.append_many([NewEntry("receipt", b"a"), NewEntry("receipt", b"b")])
        assert [e.seq for e in batch] == [len(acknowledged), len(acknowledged) + 1]
        assert archive.append_many([]) == []
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems
    assert report.entries == len(acknowledged) + 2
    # a checkpoint whenever a group crossed a multiple of 10 (one group may cross several)
    assert report.checkpoints >= 10
    assert report.notes == [
        f"entries {len(acknowledged)} to {len(acknowledged) + 1} are not covered by a checkpoint yet"
    ]


@pytest.mark.parametrize("blob_sync", ["syncfs", "files"])
def test_kill_9_during_group_commits_loses_nothing_acknowledged(
    tmp_path: Path, pki: DevPki, blob_sync: str
) -> None:
    folder = tmp_path / "archive"
    anchors = load_trust_anchors(pki.ca.cert)
    acknowledged: dict[int, str] = {}
    for round_number, kill_after in enumerate((150, 400)):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), str(pki.signer.cert), str(pki.signer.key),
             f"r{round_number}", blob_sync],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        # killed mid-group: blobs written, records half written...
        kill_after_acknowledged(writer, kill_after, acknowledged)

        report = verify_archive(folder, trust_anchors=anchors)
        assert report.ok, report.problems
        assert report.entries >= len(acknowledged)
        with Archive(folder) as archive:
            for seq, digest in acknowledged.items():
                assert archive.entry(seq).blob_sha256 == digest


def test_a_failed_journal_fsync_fails_the_whole_group_and_records_nothing(
    tmp_path: Path, signer: Signer, pki: DevPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "archive"
    real_fsync = os.fsync
    with Archive(folder, blob_sync="files") as archive:
        archive.append("receipt", b"first")

        def failing_fsync(fd: int) -> None:
            if os.readlink(f"/proc/self/fd/{fd}").endswith("journal.log"):
                raise OSError(5, "I/O error")
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", failing_fsync)
        with pytest.raises(OSError, match="I/O error"):
            archive.append_many([NewEntry("receipt", b"lost-1"), NewEntry("receipt", b"lost-2")])
        monkeypatch.setattr(os, "fsync", real_fsync)
        assert archive.size == 1
        assert [e.seq for e in archive.append_many([NewEntry("receipt", b"second")])] == [1]
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems
    assert report.entries == 2


def test_a_damaged_leftover_blob_is_rewritten_before_a_record_relies_on_it(
    tmp_path: Path, pki: DevPki
) -> None:
    folder = tmp_path / "archive"
    payload = b"<a>evidence</a>" * 5000  # too big for a pack: a file of its own
    digest = hashlib.sha256(payload).hexdigest()
    leftover = folder / "blobs" / digest[:2] / digest
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"")  # a blob renamed into place whose bytes a power cut lost
    with Archive(folder) as archive:
        entry = archive.append("receipt", payload)
        assert archive.blob(entry.blob_sha256) == payload
    assert leftover.read_bytes() == payload
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems


def test_a_damaged_leftover_pack_record_is_written_again_before_a_record_relies_on_it(
    tmp_path: Path, pki: DevPki
) -> None:
    folder = tmp_path / "archive"
    payload = b"<a>evidence</a>"
    digest = hashlib.sha256(payload).digest()
    pack = folder / "packs" / pack_name(0)
    pack.parent.mkdir(parents=True)
    # a record written by a process that died before its sync, whose bytes a power cut zeroed
    pack.write_bytes(HEADER.pack(MAGIC, 0, 0, len(payload), digest) + bytes(len(payload)))
    with Archive(folder) as archive:
        entry = archive.append("receipt", payload)
        assert archive.blob(entry.blob_sha256) == payload
    with Archive(folder) as archive:
        assert archive.blob(entry.blob_sha256) == payload
    assert pack.read_bytes().count(payload) == 1
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems


def test_small_blobs_go_to_one_pack_and_are_stored_once(tmp_path: Path, pki: DevPki) -> None:
    folder = tmp_path / "archive"
    with Archive(folder) as archive:
        entries = archive.append_many(
            [NewEntry("receipt", f"r{i % 50}".encode(), b"sig") for i in range(200)]
        )
        big = archive.append("receipt", b"x" * (PACK_MAX_BLOB + 1))
        assert {archive.blob(e.blob_sha256) for e in entries} == {f"r{i}".encode() for i in range(50)}
    assert [p.name for p in (folder / "packs").glob("*.pack")] == [pack_name(0)]
    stored = (folder / "packs" / pack_name(0)).read_bytes()
    assert stored.count(MAGIC) == 51  # 50 distinct payloads + one signature
    assert [p.name for p in (folder / "blobs").rglob("*") if p.is_file()] == [big.blob_sha256]
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems
    assert (report.entries, report.blobs) == (201, 52)


def test_packs_roll_over_and_another_process_sees_new_packs(
    tmp_path: Path, pki: DevPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packs, "PACK_LIMIT", 300)
    folder = tmp_path / "archive"
    with Archive(folder) as first, Archive(folder) as second:
        written = [first.append("receipt", f"{i}".encode() * 100) for i in range(10)]
        assert len(list((folder / "packs").glob("*.pack"))) > 3
        assert [second.blob(e.blob_sha256) for e in written] == [f"{i}".encode() * 100 for i in range(10)]
        again = second.append("receipt", b"0" * 100)  # already packed by `first`: not stored twice
        assert again.blob_sha256 == written[0].blob_sha256
        second.append("receipt", b"new")
        assert first.append("receipt", b"new").seq == 12
    stored = b"".join(p.read_bytes() for p in (folder / "packs").glob("*.pack"))
    assert stored.count(MAGIC) == 11
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems


def test_a_torn_pack_record_is_cut_on_open(tmp_path: Path, pki: DevPki) -> None:
    folder = tmp_path / "archive"
    with Archive(folder) as archive:
        kept = archive.append("receipt", b"kept")
    pack = folder / "packs" / pack_name(0)
    size = pack.stat().st_size
    with pack.open("ab") as out:  # the process died inside the pack write()
        out.write(HEADER.pack(MAGIC, 0, size, 100, bytes(32))[:30])
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems
    assert any("interrupted append" in note for note in report.notes)
    with Archive(folder) as archive:
        assert pack.stat().st_size == size
        assert archive.blob(kept.blob_sha256) == b"kept"
        archive.append("receipt", b"next")
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems
    assert report.notes == ["no checkpoint yet: nothing is signed"]


def test_append_file_streams_a_big_file_into_the_blob_store(
    tmp_path: Path, signer: Signer, pki: DevPki
) -> None:
    source = tmp_path / "pain008.xml"
    block = os.urandom(1 << 16)
    with source.open("wb") as out:
        for _ in range(80):  # 5 MB: several copy chunks
            out.write(block)
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    folder = tmp_path / "archive"
    with Archive(folder, signer=signer) as archive:
        entry = archive.append_file(
            "outbound-pain008", source, signature=b"cms", metadata={"message_id": "M1"}
        )
        again = archive.append_file("outbound-pain008", source)  # same bytes: one blob file
        archive.checkpoint()
        assert (entry.blob_sha256, entry.size, entry.metadata) == (expected, 80 << 16, {"message_id": "M1"})
        assert again.blob_sha256 == expected
        assert again.seq == entry.seq + 1
        assert archive.blob(expected) == source.read_bytes()
    assert list((folder / "blobs" / "tmp").iterdir()) == []
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems
    assert report.entries == 2


def test_a_failed_blob_sync_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.archive import group

    big = b"b" * (PACK_MAX_BLOB + 1)  # a blob file: synced with syncfs
    with Archive(tmp_path / "archive", blob_sync="syncfs") as archive:
        archive.append("receipt", b"first")
        monkeypatch.setattr(group, "_SYNCFS", lambda fd: -1)  # the kernel reports a writeback error
        with pytest.raises(OSError, match="syncfs"):
            archive.append_many([NewEntry("receipt", big), NewEntry("receipt", b"b")])
        monkeypatch.undo()
        assert archive.size == 1
        assert archive.append("receipt", b"second").seq == 1


def test_a_failed_pack_sync_records_nothing_and_takes_the_pack_records_back(
    tmp_path: Path, pki: DevPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "archive"
    pack = folder / "packs" / pack_name(0)
    with Archive(folder) as archive:
        archive.append("receipt", b"first")
        size = pack.stat().st_size

        def failing_fdatasync(fd: int) -> None:
            raise OSError(5, "I/O error")

        monkeypatch.setattr(os, "fdatasync", failing_fdatasync)
        with pytest.raises(OSError, match="I/O error"):
            archive.append_many([NewEntry("receipt", b"lost-1"), NewEntry("receipt", b"lost-2")])
        monkeypatch.undo()
        assert archive.size == 1
        assert pack.stat().st_size == size
        entry = archive.append("receipt", b"lost-1")
        assert (entry.seq, archive.blob(entry.blob_sha256)) == (1, b"lost-1")
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems
