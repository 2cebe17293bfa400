"""Tampering with any blob, pack record, signature, journal row or checkpoint is caught by `verify`."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.archive import Archive, ArchiveEntry, verify_archive
from gateway.archive import verify as verify_module
from gateway.archive.merkle import leaf_hash
from gateway.archive.packs import HEADER, pack_name, scan_packs
from gateway.cli import main
from gateway.pki import DevPki
from gateway.signing import Signer, load_trust_anchors

ENTRIES = 10


def blob_path(folder: Path, digest: str) -> Path:
    path = folder / "blobs" / digest[:2] / digest
    path.chmod(0o644)  # archived blobs are read-only; the attacker does not care
    return path


def to_files(folder: Path) -> None:
    """Rewrite a packed archive in the per-file layout of archives written before packs."""
    good, _bad, _problems, _notes = scan_packs(folder / "packs")
    for digest, (number, offset, length) in good.items():
        with (folder / "packs" / pack_name(number)).open("rb") as pack:
            pack.seek(offset)
            data = pack.read(length)
        path = folder / "blobs" / digest.hex()[:2] / digest.hex()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o444)
    shutil.rmtree(folder / "packs")


def pack_path(folder: Path) -> Path:
    return folder / "packs" / pack_name(0)


def record_at(folder: Path, digest: str) -> tuple[int, int]:
    """(header offset, record length) of a blob's pack record."""
    data = pack_path(folder).read_bytes()
    found = data.index(bytes.fromhex(digest)) - (HEADER.size - 32)
    length = HEADER.unpack_from(data, found)[3]
    return found, HEADER.size + length


def edit_pack(folder: Path, change: Callable[[bytearray], None]) -> None:
    path = pack_path(folder)
    data = bytearray(path.read_bytes())
    change(data)
    path.write_bytes(bytes(data))


def flip_pack_blob(folder: Path, entries: list[ArchiveEntry]) -> None:
    start, length = record_at(folder, entries[3].blob_sha256)

    def change(data: bytearray) -> None:
        data[start + length - 3] ^= 0x01

    edit_pack(folder, change)


def flip_pack_signature(folder: Path, entries: list[ArchiveEntry]) -> None:
    digest = entries[7].signature_sha256
    assert digest is not None
    start, length = record_at(folder, digest)

    def change(data: bytearray) -> None:
        data[start + length - 1] ^= 0x80

    edit_pack(folder, change)


def change_pack_record_length(folder: Path, entries: list[ArchiveEntry]) -> None:
    start, _length = record_at(folder, entries[5].blob_sha256)

    def change(data: bytearray) -> None:
        data[start + 23] ^= 0x04  # the low byte of the length field

    edit_pack(folder, change)


def swap_pack_records(folder: Path, entries: list[ArchiveEntry]) -> None:
    a, a_len = record_at(folder, entries[2].blob_sha256)
    b, b_len = record_at(folder, entries[6].blob_sha256)
    assert a_len == b_len

    def change(data: bytearray) -> None:
        data[a : a + a_len], data[b : b + b_len] = data[b : b + b_len], data[a : a + a_len]

    edit_pack(folder, change)


def remove_pack_record(folder: Path, entries: list[ArchiveEntry]) -> None:
    start, length = record_at(folder, entries[4].blob_sha256)

    def change(data: bytearray) -> None:
        del data[start : start + length]

    edit_pack(folder, change)


def truncate_pack(folder: Path, entries: list[ArchiveEntry]) -> None:
    start, _length = record_at(folder, entries[8].blob_sha256)
    os.truncate(pack_path(folder), start + 10)


def delete_pack(folder: Path, entries: list[ArchiveEntry]) -> None:
    pack_path(folder).unlink()


def rows(folder: Path) -> list[bytes]:
    return (folder / "journal.log").read_bytes().splitlines(keepends=True)


def write_rows(folder: Path, lines: list[bytes]) -> None:
    (folder / "journal.log").write_bytes(b"".join(lines))


def flip_blob(folder: Path, entries: list[ArchiveEntry]) -> None:
    path = blob_path(folder, entries[3].blob_sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def delete_blob(folder: Path, entries: list[ArchiveEntry]) -> None:
    blob_path(folder, entries[4].blob_sha256).unlink()


def swap_blobs(folder: Path, entries: list[ArchiveEntry]) -> None:
    a, b = blob_path(folder, entries[2].blob_sha256), blob_path(folder, entries[6].blob_sha256)
    first, second = a.read_bytes(), b.read_bytes()
    a.write_bytes(second)
    b.write_bytes(first)


def truncate_blob(folder: Path, entries: list[ArchiveEntry]) -> None:
    path = blob_path(folder, entries[5].blob_sha256)
    path.write_bytes(path.read_bytes()[:-1])


def flip_signature(folder: Path, entries: list[ArchiveEntry]) -> None:
    digest = entries[7].signature_sha256
    assert digest is not None
    path = blob_path(folder, digest)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x80
    path.write_bytes(bytes(data))


def flip_journal_byte(folder: Path, entries: list[ArchiveEntry]) -> None:
    lines = rows(folder)
    lines[3] = lines[3].replace(b'"size":', b'"sizf":')
    write_rows(folder, lines)


def delete_row(folder: Path, entries: list[ArchiveEntry]) -> None:
    lines = rows(folder)
    del lines[4]
    write_rows(folder, lines)


def reorder_rows(folder: Path, entries: list[ArchiveEntry]) -> None:
    lines = rows(folder)
    lines[2], lines[3] = lines[3], lines[2]
    write_rows(folder, lines)


def duplicate_row(folder: Path, entries: list[ArchiveEntry]) -> None:
    lines = rows(folder)
    lines.insert(6, lines[5])
    write_rows(folder, lines)


def truncate_rows(folder: Path, entries: list[ArchiveEntry]) -> None:
    write_rows(folder, rows(folder)[:-2])


def truncate_mid_row(folder: Path, entries: list[ArchiveEntry]) -> None:
    path = folder / "journal.log"
    os.truncate(path, path.stat().st_size - 10)


def rewrite_row_with_valid_checksum(folder: Path, entries: list[ArchiveEntry]) -> None:
    # a careful forger fixes the record checksum; only the signed root can tell
    lines = rows(folder)
    data = lines[3][65:-1].replace(b'"n":"3"', b'"n":"X"')
    lines[3] = leaf_hash(data).hex().encode() + b" " + data + b"\n"
    write_rows(folder, lines)


def forge_checkpoint_root(folder: Path, entries: list[ArchiveEntry]) -> None:
    path = folder / "checkpoints.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[0])
    text = record["note"].split("\n")
    text[2] = "A" * 43 + "="
    record["note"] = "\n".join(text)
    lines[0] = json.dumps(record).encode() + b"\n"
    path.write_bytes(b"".join(lines))


PACK_CASES: list[tuple[Callable[[Path, list[ArchiveEntry]], None], str]] = [
    (flip_pack_blob, "journal entry 3: blob .* was changed"),
    (flip_pack_signature, "journal entry 7: blob .* was changed"),
    (change_pack_record_length, "journal entry 5: blob .* was changed"),
    (swap_pack_records, "journal entry 2: blob .* was moved"),
    (remove_pack_record, "journal entry 4: blob .* (is missing|was moved)"),
    (truncate_pack, "journal entry 8: blob .* is missing"),
    (delete_pack, "journal entry 0: blob .* is missing"),
]

# the per-file layout of archives written before packs (blobs/ab/ab12...)
FILE_CASES: list[tuple[Callable[[Path, list[ArchiveEntry]], None], str]] = [
    (flip_blob, "journal entry 3: blob"),
    (delete_blob, "journal entry 4: blob .* is missing"),
    (swap_blobs, "journal entry 2: blob .* was changed"),
    (truncate_blob, "journal entry 5: blob .* was changed"),
    (flip_signature, "journal entry 7: blob .* was changed"),
]

CASES = [
    *PACK_CASES,
    *FILE_CASES,
    (flip_journal_byte, "journal entry 3: record checksum mismatch"),
    (delete_row, "journal entry 4: sequence number 5"),
    (reorder_rows, "journal entry 2: sequence number 3"),
    (duplicate_row, "journal entry 6: sequence number 5"),
    (truncate_rows, "checkpoint 1 signs 10 entries but the journal has 8"),
    (truncate_mid_row, "checkpoint 1 signs 10 entries but the journal has 9"),
    (rewrite_row_with_valid_checksum, "checkpoint 0: .* between 0 and 4 was changed"),
    (forge_checkpoint_root, "checkpoint 0: CMS signature"),
]


@pytest.fixture
def pki(dev_pki: Path) -> DevPki:
    return DevPki(dev_pki)


@pytest.fixture
def populated(tmp_path: Path, pki: DevPki) -> tuple[Path, list[ArchiveEntry]]:
    signer = Signer.from_files(pki.signer.cert, pki.signer.key)
    folder = tmp_path / "archive"
    entries = []
    with Archive(folder, signer=signer) as archive:
        for i in range(ENTRIES):
            payload = f"<payload n='{i}'/>".encode()
            entries.append(
                archive.append(
                    "inbound-payload",
                    payload,
                    signature=signer.sign_detached(payload),
                    metadata={"n": str(i)},
                )
            )
            if i == 4:
                archive.checkpoint()
        archive.checkpoint()
    return folder, entries


@pytest.mark.parametrize("layout", ["packs", "files"])
def test_untouched_archive_verifies_and_opens(
    populated: tuple[Path, list[ArchiveEntry]], pki: DevPki, layout: str
) -> None:
    folder, entries = populated
    if layout == "files":
        to_files(folder)
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems
    assert (report.entries, report.checkpoints, report.blobs) == (10, 2, 20)
    with Archive(folder) as archive:  # an archive of either layout opens, reads and grows
        assert archive.blob(entries[3].blob_sha256) == b"<payload n='3'/>"
        archive.append("receipt", b"<payload n='3'/>")
        archive.append("receipt", b"new")
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.ok, report.problems
    assert report.entries == 12


def test_opening_a_damaged_pack_keeps_the_evidence_of_the_damage(
    populated: tuple[Path, list[ArchiveEntry]], pki: DevPki
) -> None:
    folder, entries = populated
    remove_pack_record(folder, entries)
    size = pack_path(folder).stat().st_size
    with Archive(folder) as archive:  # records out of place are not a torn append: nothing is cut
        archive.append("receipt", b"after")
    assert pack_path(folder).stat().st_size > size
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert))
    assert report.problems[0].startswith("journal entry 4: blob"), report.problems
    assert any(re.search("journal entry 4: blob .* is missing", p) for p in report.problems)
    assert any(re.search("journal entry 5: blob .* was moved", p) for p in report.problems)


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize(("tamper", "expected"), CASES, ids=[c[0].__name__ for c in CASES])
def test_verify_catches_and_names_the_first_bad_entry(
    populated: tuple[Path, list[ArchiveEntry]],
    pki: DevPki,
    tamper: Callable[[Path, list[ArchiveEntry]], None],
    expected: str,
    parallel: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, entries = populated
    if tamper in [case for case, _expected in FILE_CASES]:
        to_files(folder)
        assert verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert)).ok
    tamper(folder, entries)
    if parallel:
        # slice even this small journal between two worker processes
        monkeypatch.setattr(verify_module, "PARALLEL_THRESHOLD_BYTES", 1)
    report = verify_archive(
        folder, trust_anchors=load_trust_anchors(pki.ca.cert), workers=2 if parallel else 1
    )
    assert not report.ok
    assert re.search(expected, report.problems[0]), report.problems


def test_cli_verify_exits_1_and_names_the_entry(
    populated: tuple[Path, list[ArchiveEntry]], pki: DevPki
) -> None:
    folder, entries = populated
    delete_row(folder, entries)
    result = CliRunner().invoke(main, ["archive", "verify", "--dir", str(folder), "--ca", str(pki.ca.cert)])
    assert result.exit_code == 1
    assert "DAMAGED: journal entry 4" in result.stderr
    assert json.loads(result.stdout)["ok"] is False


def test_parallel_verify_reports_both_swapped_blobs_in_order(
    populated: tuple[Path, list[ArchiveEntry]], pki: DevPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, entries = populated
    swap_pack_records(folder, entries)
    monkeypatch.setattr(verify_module, "PARALLEL_THRESHOLD_BYTES", 1)
    report = verify_archive(folder, trust_anchors=load_trust_anchors(pki.ca.cert), workers=2)
    where = [p.split(":")[0] for p in report.problems]
    assert where[:2] == ["journal entry 2", "journal entry 6"]
    assert set(where[2:]) == {pack_name(0)}  # then the damaged stretches of the pack
    assert report.entries == ENTRIES
