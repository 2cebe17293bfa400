"""The archive end to end: append, checkpoint, proofs, export, CLI; checked with openssl too."""

from __future__ import annotations

import itertools
import json
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.archive import Archive, ArchiveCorrupt, verify_proof_document
from gateway.archive.checkpoint import Checkpoint
from gateway.archive.merkle import MerkleTree, leaf_hash, verify_consistency
from gateway.cli import main
from gateway.devtools.pki import DevPki
from gateway.errors import ConfigurationError, MalformedPayload, NotFound
from gateway.signing.cms import Signer, load_trust_anchors
from tests.support.archive import cli_args, open_archive, verified


def ticking_clock(start: datetime) -> Callable[[], datetime]:
    moments: Iterator[datetime] = (start + timedelta(seconds=i) for i in range(10**9))
    return lambda: next(moments)


@pytest.fixture
def pki(dev_pki: Path) -> DevPki:
    return DevPki(dev_pki)


@pytest.fixture
def signer(pki: DevPki) -> Signer:
    return Signer.from_files(pki.signer.cert, pki.signer.key)


def start_of(signer: Signer) -> datetime:
    # a fixed clock inside the signing certificate's validity: checkpoints are checked at their time
    return signer.cert.not_valid_before_utc.replace(microsecond=0) + timedelta(hours=1)


@pytest.fixture
def archive(tmp_path: Path, signer: Signer) -> Iterator[Archive]:
    clock = ticking_clock(start_of(signer))
    with open_archive(tmp_path / "archive", signer=signer, now=clock) as store:
        yield store


def fill(archive: Archive, signer: Signer, count: int) -> None:
    for i in range(count):
        payload = f"<Transmission n='{i}'>é</Transmission>".encode()
        archive.append(
            "inbound-payload",
            payload,
            signature=signer.sign_detached(payload),
            metadata={"source": "greffe", "n": str(i)},
        )


def test_append_returns_the_entry_and_stores_blob_and_signature(archive: Archive, signer: Signer) -> None:
    payload = b"<a>1</a>"
    signature = signer.sign_detached(payload)
    entry = archive.append("inbound-payload", payload, signature=signature, metadata={"k": "v"})
    assert entry.seq == 0
    assert entry.time == start_of(signer)
    assert entry.size == len(payload)
    assert archive.blob(entry.blob_sha256) == payload
    assert entry.signature_sha256 is not None
    assert archive.blob(entry.signature_sha256) == signature
    assert archive.entry(0) == entry
    assert archive.root() == entry.leaf_hash == leaf_hash(entry.leaf_data())
    second = archive.append("receipt", payload, metadata={})
    assert second.seq == 1
    assert second.blob_sha256 == entry.blob_sha256  # content-addressed: stored once
    assert second.signature_sha256 is None


def test_bad_kind_or_metadata_or_unknown_entry_are_refused(archive: Archive) -> None:
    with pytest.raises(MalformedPayload):
        archive.append("Bad Kind", b"x")
    with pytest.raises(MalformedPayload):
        archive.append("ok", b"x", metadata={"n": 1})  # type: ignore[dict-item]
    with pytest.raises(NotFound):
        archive.entry(0)
    with pytest.raises(NotFound):
        archive.blob("0" * 64)
    assert archive.size == 0


def test_checkpoint_note_format_and_openssl_verifies_its_cms(
    tmp_path: Path, archive: Archive, signer: Signer, pki: DevPki
) -> None:
    fill(archive, signer, 5)
    checkpoint = archive.checkpoint()
    lines = checkpoint.note.split("\n")
    assert lines[:4] == [
        "gateway.ifpa.local/archive",
        "5",
        checkpoint.text.split("\n")[2],
        "time " + (start_of(signer) + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
    ]
    assert lines[4] == ""
    assert lines[5].startswith("\u2014 gateway.ifpa.local/archive ")
    assert checkpoint.root == archive.root()
    assert archive.checkpoint() == checkpoint  # nothing new: same checkpoint
    (tmp_path / "cp.txt").write_text(checkpoint.text)
    (tmp_path / "cp.p7s").write_bytes(checkpoint.cms)
    done = subprocess.run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "cp.p7s"),
            "-content", str(tmp_path / "cp.txt"), "-CAfile", str(pki.ca.cert), "-purpose", "any",
            "-out", "/dev/null",
        ],
        capture_output=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_inclusion_proof_document_checks_out_and_fails_when_altered(
    archive: Archive, signer: Signer, pki: DevPki
) -> None:
    fill(archive, signer, 13)
    archive.checkpoint()
    anchors = load_trust_anchors(pki.ca.cert)
    for seq in (0, 6, 12):
        document = json.loads(json.dumps(archive.inclusion_proof(seq).to_json()))
        verify_proof_document(document, trust_anchors=anchors)
    document = archive.inclusion_proof(6).to_json()
    forged = dict(document, leaf_data=document["leaf_data"].replace('"n":"6"', '"n":"7"'))
    forged["leaf_hash"] = leaf_hash(forged["leaf_data"].encode()).hex()
    with pytest.raises(ArchiveCorrupt, match="inclusion proof"):
        verify_proof_document(forged, trust_anchors=anchors)
    with pytest.raises(ArchiveCorrupt):
        verify_proof_document(document, trust_anchors=load_trust_anchors(pki.untrusted_ca.cert))


def test_proof_needs_a_covering_checkpoint_and_checkpoint_needs_a_signer(
    tmp_path: Path, archive: Archive, signer: Signer
) -> None:
    fill(archive, signer, 2)
    with pytest.raises(NotFound, match="not covered"):
        archive.inclusion_proof(1)
    with open_archive(tmp_path / "other") as unsigned, pytest.raises(ConfigurationError):
        unsigned.checkpoint()


def test_consecutive_checkpoints_are_consistent(archive: Archive, signer: Signer) -> None:
    fill(archive, signer, 3)
    first = archive.checkpoint()
    fill(archive, signer, 6)
    second = archive.checkpoint()
    proof = archive.consistency_proof(first.size, second.size)
    verify_consistency(first.size, second.size, first.root, second.root, proof)


def test_checkpoint_every_signs_automatically(tmp_path: Path, signer: Signer, pki: DevPki) -> None:
    with open_archive(tmp_path / "a", signer=signer, checkpoint_every=4) as store:
        fill(store, signer, 9)
        assert [cp.size for cp in store.checkpoints()] == [4, 8]
        report = verified(store, pki.ca.cert)
    assert report.ok, report.problems
    assert report.checkpoints == 2
    assert any("entries 8 to 8" in note for note in report.notes)


def test_reopen_sees_everything_and_a_second_instance_sees_appends(tmp_path: Path, signer: Signer) -> None:
    folder = tmp_path / "a"
    with open_archive(folder, signer=signer) as first:
        fill(first, signer, 4)
        root = first.root()
        with open_archive(folder, signer=signer) as second:
            assert second.size == 4
            assert second.root() == root
            entry = second.append("receipt", b"from the second")
            assert entry.seq == 4
        # one counter row in the database sequences every instance
        assert first.append("receipt", b"again").seq == 5
        assert first.entry(4).blob_sha256 == entry.blob_sha256
        assert first.root() != root
    with open_archive(folder) as reopened:
        assert reopened.size == 6
        assert [reopened.entry(i).seq for i in range(6)] == list(range(6))
        tree = MerkleTree(reopened.entry(i).leaf_hash for i in range(6))
        assert reopened.root() == tree.root()


def test_export_bundle_verifies_after_unpacking(
    tmp_path: Path, archive: Archive, signer: Signer, pki: DevPki
) -> None:
    fill(archive, signer, 7)
    checkpoint = archive.checkpoint()
    out = tmp_path / "bundle.tar.gz"
    folder = tmp_path / "archive"
    result = CliRunner().invoke(main, ["archive", "export", str(out), *cli_args(folder)])
    assert result.exit_code == 0, result.output
    unpacked = tmp_path / "unpacked"
    with tarfile.open(out) as tar:
        tar.extractall(unpacked, filter="data")
    assert (unpacked / "README.txt").exists()
    migrated = CliRunner().invoke(
        main,
        [
            "archive",
            "migrate",
            "--from",
            str(unpacked),
            *cli_args(tmp_path / "fresh"),
            "--ca",
            str(pki.ca.cert),
        ],
    )
    assert migrated.exit_code == 0, migrated.output
    report = json.loads(migrated.stdout)
    assert report["ok"], report
    assert (report["entries"], report["checkpoints"]) == (7, 1)
    stem = unpacked / "checkpoints" / str(checkpoint.size)
    Checkpoint.from_note(stem.with_suffix(".note").read_text(), b"", where="t")
    # an auditor checks an archived payload's own signature with openssl
    entry = archive.entry(3)
    assert entry.signature_sha256 is not None
    blob = unpacked / "blobs" / entry.blob_sha256[:2] / entry.blob_sha256
    sig = unpacked / "blobs" / entry.signature_sha256[:2] / entry.signature_sha256
    for signature, content in ((stem.with_suffix(".p7s"), stem.with_suffix(".txt")), (sig, blob)):
        done = subprocess.run(
            [
                "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature),
                "-content", str(content), "-CAfile", str(pki.ca.cert), "-purpose", "any",
                "-out", "/dev/null",
            ],
            capture_output=True,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr


def test_cli_verify_and_proof(tmp_path: Path, archive: Archive, signer: Signer, pki: DevPki) -> None:
    fill(archive, signer, 5)
    archive.checkpoint()
    folder = cli_args(tmp_path / "archive")
    runner = CliRunner()
    ok = runner.invoke(main, ["archive", "verify", *folder, "--ca", str(pki.ca.cert)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["entries"] == 5
    proof = runner.invoke(main, ["archive", "proof", "2", "--json", *folder])
    assert proof.exit_code == 0, proof.output
    verify_proof_document(json.loads(proof.stdout), trust_anchors=load_trust_anchors(pki.ca.cert))
    text = runner.invoke(main, ["archive", "proof", "2", *folder])
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("c2sp.org/tlog-proof@v1\nindex 2\n")
    assert text.stdout.endswith(archive.latest_checkpoint().note)  # type: ignore[union-attr]
    missing = runner.invoke(main, ["archive", "proof", "99", *folder])
    assert missing.exit_code == 1
    assert "not-found" in missing.output
    wrong_ca = runner.invoke(main, ["archive", "verify", *folder, "--ca", str(pki.untrusted_ca.cert)])
    assert wrong_ca.exit_code == 1
    assert "CMS signature" in json.loads(wrong_ca.stdout)["first_problem"]


def test_proof_checks_out_with_the_documented_algorithm_and_openssl_alone(
    tmp_path: Path, archive: Archive, signer: Signer, pki: DevPki
) -> None:
    """An outsider's check: hashlib, base64 and the openssl command line, none of our code."""
    import base64
    import hashlib

    fill(archive, signer, 11)
    archive.checkpoint()
    document = json.loads(json.dumps(archive.inclusion_proof(9).to_json()))
    sha = hashlib.sha256
    leaf = sha(b"\x00" + document["leaf_data"].encode()).digest()
    assert leaf.hex() == document["leaf_hash"]
    fn, sn, r = document["leaf_index"], document["tree_size"] - 1, leaf
    for p in map(bytes.fromhex, document["inclusion_path"]):
        assert sn != 0
        if fn % 2 == 1 or fn == sn:
            r = sha(b"\x01" + p + r).digest()
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    assert r.hex() == document["root_hash"]
    note_text = document["checkpoint"]["note"].split("\n\n")[0] + "\n"
    assert note_text.split("\n")[1:3] == [str(document["tree_size"]), base64.b64encode(r).decode()]
    (tmp_path / "note.txt").write_text(note_text)
    (tmp_path / "note.p7s").write_bytes(base64.b64decode(document["checkpoint"]["cms"]))
    done = subprocess.run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "note.p7s"),
            "-content", str(tmp_path / "note.txt"), "-CAfile", str(pki.ca.cert), "-purpose", "any",
            "-out", "/dev/null",
        ],
        capture_output=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_cli_checkpoint_signs_with_the_configured_signer(
    tmp_path: Path, dev_pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    folder = tmp_path / "archive"
    with open_archive(folder) as store:
        fill(store, signer, 3)
    monkeypatch.setenv("GATEWAY_CERTS_DIR", str(dev_pki))
    result = CliRunner().invoke(main, ["archive", "checkpoint", *cli_args(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout.split("\n")[1] == "3"
    with open_archive(folder) as store:
        report = verified(store, dev_pki / "ca.pem")
    assert report.ok, report.problems
    assert report.checkpoints == 1


@settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=4),
    probe=st.integers(0, 10_000),
)
def test_any_append_and_checkpoint_pattern_verifies_and_proves(
    dev_pki: Path, sizes: list[int], probe: int
) -> None:
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    anchors = load_trust_anchors(dev_pki / "ca.pem")
    with tempfile.TemporaryDirectory() as tmp, open_archive(Path(tmp), signer=signer) as store:
        checkpoints = []
        for size in sizes:
            fill(store, signer, size)
            checkpoints.append(store.checkpoint())
        seq = probe % store.size
        proof = store.inclusion_proof(seq)
        verify_proof_document(proof.to_json(), trust_anchors=anchors)
        for older, newer in itertools.pairwise(checkpoints):
            verify_consistency(
                older.size,
                newer.size,
                older.root,
                newer.root,
                store.consistency_proof(older.size, newer.size),
            )
        report = verified(store, dev_pki / "ca.pem")
        assert report.ok, report.problems
        assert (report.entries, report.checkpoints) == (sum(sizes), len(sizes))


def test_cli_with_a_database_it_cannot_open_says_so_in_one_line(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["archive", "verify", "--database", "nosuch://user:s3cret@db/x"])
    assert done.exit_code == 3  # configuration (docs/install.md, exit statuses)
    assert done.output.strip() == (
        "gateway archive verify: configuration-error: cannot open the archive's database"
        " (NoSuchModuleError); check the GATEWAY_* settings and the certificates (docs/install.md)"
    )
    assert "s3cret" not in done.output
