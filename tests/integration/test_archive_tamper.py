"""`archive verify` finds what was changed in the database or the blob folder, naming the entry;
no checkpoint is signed over a changed log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.archive import Archive, ArchiveCorrupt, NewEntry
from gateway.errors import MalformedPayload
from gateway.signing.cms import Signer
from tests.support.archive import open_archive, verified


@pytest.fixture
def archive(tmp_path: Path, dev_pki: Path) -> Iterator[Archive]:
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    with open_archive(tmp_path / "a", signer=signer, small_blob_limit=1000) as store:
        store.append_many(
            NewEntry("inbound-payload", f"<t n='{n}'/>".encode(), None, {"n": str(n)}) for n in range(10)
        )
        store.append("outbound-pain.008", b"<Document/>" * 200)  # 2,200 bytes: a blob file
        store.checkpoint()
        yield store


def sql(archive: Archive, statement: str, **params: object) -> None:
    with archive.store.transaction() as uow:
        uow.connection.execute(text(statement), params)


def test_an_intact_archive_verifies(archive: Archive, dev_pki: Path) -> None:
    report = verified(archive, dev_pki / "ca.pem")
    assert report.ok, report.problems
    assert (report.entries, report.blobs, report.checkpoints) == (11, 11, 1)


def test_a_changed_leaf_is_named_and_no_checkpoint_is_signed_over_it(archive: Archive, dev_pki: Path) -> None:
    leaf = archive.entry(4).leaf_data().replace(b'"n":"4"', b'"n":"X"')
    sql(archive, "UPDATE archive_entries SET leaf = :leaf WHERE seq = 4", leaf=leaf)
    report = verified(archive, dev_pki / "ca.pem")
    assert report.problems[0] == "archive entry 4: leaf hash mismatch (changed bytes)"
    archive.append("receipt", b"more")
    with open_archive(Path(str(archive.store.engine.url.database)).parent, signer=archive.signer) as fresh:
        with pytest.raises(ArchiveCorrupt) as caught:
            fresh.checkpoint()  # the fresh process re-hashes every leaf before it signs
        assert caught.value.field == "archive entry 4"


def test_a_consistently_rehashed_change_breaks_the_signed_root(archive: Archive, dev_pki: Path) -> None:
    entry = archive.entry(2)
    forged = entry.leaf_data().replace(b'"n":"2"', b'"n":"Y"')
    from gateway.archive.merkle import leaf_hash

    sql(
        archive,
        "UPDATE archive_entries SET leaf = :l, leaf_hash = :h WHERE seq = 2",
        l=forged,
        h=leaf_hash(forged),
    )
    report = verified(archive, dev_pki / "ca.pem")
    assert "checkpoint 11: the signed root of the first 11 entries does not match" in report.problems[0]


def test_deleted_entries_and_changed_or_missing_blobs(
    archive: Archive, dev_pki: Path, tmp_path: Path
) -> None:
    sql(archive, "DELETE FROM archive_entries WHERE seq = 10")
    report = verified(archive, dev_pki / "ca.pem")
    assert report.problems[0] == "archive entry 10 is missing (entries deleted)"
    sql(archive, "DELETE FROM archive_entries WHERE seq = 5")
    assert verified(archive, dev_pki / "ca.pem").problems[0] == "archive entry 5 is missing (entries deleted)"


def test_changed_and_missing_blobs_are_named(archive: Archive, dev_pki: Path) -> None:
    small = archive.entry(1).blob_sha256
    sql(archive, "UPDATE archive_blobs SET data = :d WHERE sha256 = :s", d=b"<t n='x'/>", s=small)
    big = archive.entry(10).blob_sha256
    path = archive.blobs.path(big)  # type: ignore[attr-defined]
    path.write_bytes(b"changed")
    problems = verified(archive, dev_pki / "ca.pem").problems
    assert f"blob {small} was changed" in problems
    assert f"archive entry 1: blob {small} is missing" in problems
    assert f"archive entry 10: blob {big} was changed" in problems
    path.unlink()
    assert f"archive entry 10: blob {big} is missing" in verified(archive, dev_pki / "ca.pem").problems


def test_an_entry_too_big_for_a_tile_bundle_is_refused(archive: Archive) -> None:
    with pytest.raises(MalformedPayload) as caught:
        archive.append("receipt", b"x", metadata={"note": "n" * 70_000})
    assert caught.value.field == "metadata"
    assert "n" * 20 not in caught.value.message  # the message never quotes what was sent
    assert archive.size == 11


def test_verify_in_worker_processes_finds_the_same(
    archive: Archive, dev_pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.archive import verify as verify_module
    from gateway.signing.cms import load_trust_anchors

    monkeypatch.setattr(verify_module, "PARALLEL_MIN_ENTRIES", 2)
    anchors = load_trust_anchors(dev_pki / "ca.pem")

    def run() -> verify_module.VerifyReport:
        with archive.store.read() as uow:
            return verify_module.verify_archive(
                uow.connection, archive.blobs, trust_anchors=anchors, workers=2
            )

    intact = run()
    assert intact.ok, intact.problems
    assert (intact.entries, intact.root) == (11, archive.root(11).hex())
    leaf = archive.entry(8).leaf_data().replace(b'"n":"8"', b'"n":"Z"')
    sql(archive, "UPDATE archive_entries SET leaf = :leaf WHERE seq = 8", leaf=leaf)
    assert run().problems[0] == "archive entry 8: leaf hash mismatch (changed bytes)"
