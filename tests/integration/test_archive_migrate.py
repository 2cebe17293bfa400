"""`gateway archive migrate`: an archive folder of the old pack layout (journal.log, packs/,
blobs/, checkpoints.jsonl) moves into the database with its bytes, so its old signed checkpoints
still verify; damage in the folder is reported, and a database that has a log is refused."""

from __future__ import annotations

import hashlib
import json
import struct
from datetime import UTC, timedelta
from pathlib import Path

from click.testing import CliRunner

from gateway.archive.checkpoint import make_checkpoint
from gateway.archive.journal import ArchiveEntry
from gateway.archive.merkle import MerkleTree
from gateway.cli import main
from gateway.signing.cms import Signer
from tests.support.archive import cli_args, open_archive

HEADER = struct.Struct(">4sIQQ32s")  # the pack record header of the old layout


def old_archive(folder: Path, signer: Signer, count: int) -> list[bytes]:
    """Write `count` entries as the pack engine did: small blobs in a pack, a big one as a file."""
    folder.mkdir(parents=True)
    (folder / "packs").mkdir()
    pack = bytearray()
    lines, payloads, leaves = [], [], []
    moment = signer.cert.not_valid_before_utc + timedelta(hours=1)
    for seq in range(count):
        payload = f"<t n='{seq}'/>".encode() * (30_000 if seq == 3 else 1)  # entry 3: a blob file
        payloads.append(payload)
        digest = hashlib.sha256(payload).digest()
        if seq == 3:
            (folder / "blobs" / digest.hex()[:2]).mkdir(parents=True)
            (folder / "blobs" / digest.hex()[:2] / digest.hex()).write_bytes(payload)
        else:
            pack += HEADER.pack(b"GWPK", 0, len(pack), len(payload), digest) + payload
        entry = ArchiveEntry(
            seq, moment.astimezone(UTC), "inbound-payload", digest.hex(), len(payload), None, {}
        )
        lines.append(entry.leaf_hash.hex().encode() + b" " + entry.leaf_data() + b"\n")
        leaves.append(entry.leaf_hash)
    (folder / "packs" / "00000000.pack").write_bytes(bytes(pack))
    (folder / "journal.log").write_bytes(b"".join(lines) + b'0123 {"torn')  # an unacknowledged append
    tree = MerkleTree(leaves)
    notes = [
        make_checkpoint(signer, origin="gateway.ifpa.local/archive", size=n, root=tree.root(n), time=moment)
        for n in (4, count)
    ]
    (folder / "checkpoints.jsonl").write_bytes(b"".join(cp.to_line() + b"\n" for cp in notes))
    return payloads


def test_an_old_pack_archive_moves_into_the_database_and_verifies(tmp_path: Path, dev_pki: Path) -> None:
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    payloads = old_archive(tmp_path / "old", signer, 9)
    runner = CliRunner()
    args = ["archive", "migrate", "--from", str(tmp_path / "old"), *cli_args(tmp_path / "new")]
    done = runner.invoke(main, [*args, "--ca", str(dev_pki / "ca.pem")])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert (report["ok"], report["entries"], report["checkpoints"]) == (True, 9, 2)
    with open_archive(tmp_path / "new") as archive:
        assert [archive.blob(archive.entry(s).blob_sha256) for s in range(9)] == payloads
        big = archive.entry(3).blob_sha256
        assert (tmp_path / "new" / "blobs" / big[:2] / big).is_file()  # a file of the blob store
        assert archive.append("receipt", b"after the migration").seq == 9  # the log grows on
    again = runner.invoke(main, [*args, "--ca", str(dev_pki / "ca.pem")])
    assert again.exit_code == 1
    assert "archive-not-empty" in again.output


def test_a_damaged_old_archive_is_reported_after_migration(tmp_path: Path, dev_pki: Path) -> None:
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    old_archive(tmp_path / "old", signer, 6)
    pack = tmp_path / "old" / "packs" / "00000000.pack"
    data = bytearray(pack.read_bytes())
    data[HEADER.size + 2] ^= 1  # a changed byte in the first blob
    pack.write_bytes(bytes(data))
    done = CliRunner().invoke(
        main,
        [
            "archive",
            "migrate",
            "--from",
            str(tmp_path / "old"),
            *cli_args(tmp_path / "new"),
            "--ca",
            str(dev_pki / "ca.pem"),
        ],
    )
    assert done.exit_code == 1
    report = json.loads(done.stdout)
    assert report["first_problem"].startswith("archive entry 0: blob ")
    assert report["first_problem"].endswith("is missing")


def test_migrate_from_a_folder_that_is_not_an_archive_is_one_line(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        main, ["archive", "migrate", "--from", str(tmp_path), *cli_args(tmp_path / "new")]
    )
    assert done.exit_code == 1
    assert "archive-corrupt" in done.output
    assert "no journal.log" in done.output
