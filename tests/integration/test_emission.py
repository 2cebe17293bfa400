"""Emitting a SEPA file with the real archive and signer: streamed signature, archived, sent."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.devtools.pki import DevPki
from gateway.errors import SchemaViolation
from gateway.infra.bank_channel import FolderChannel
from gateway.services.emission import Emitted, file_sha256, prepare
from gateway.signing.cms import Signer, verify_detached
from tests.support.archive import open_archive, verified


def emit(staged: Path, message_id: str, *, signer: Signer, archive: Any, channel: FolderChannel) -> Emitted:
    """What a run does, in one go: prepare (XSD, signature, archive), then hand to the channel."""
    emitted = prepare(
        staged, kind="pain.008", version="pain.008.001.08", message_id=message_id,
        created_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC), signer=signer, archive=archive,
    )  # fmt: skip
    reference = channel.send(staged, emitted.signature, name=staged.name)
    return Emitted(emitted.path, emitted.sha256, emitted.signature, emitted.archive_seq, reference)


GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "sepa" / "pain.008.001.08.xml"


def test_emit_signs_from_a_streamed_digest_archives_the_file_and_sends_it(
    tmp_path: Path, dev_pki: Path
) -> None:
    pki = DevPki(dev_pki)
    signer = Signer.from_files(pki.signer.cert, pki.signer.key)
    staged = tmp_path / "staging" / "MSG-1.xml"
    staged.parent.mkdir()
    shutil.copy(GOLDEN, staged)
    outbound = tmp_path / "outbound"
    with open_archive(tmp_path / "archive", signer=signer) as archive:
        emitted = emit(staged, "MSG-1", signer=signer, archive=archive, channel=FolderChannel(outbound))
        assert emitted.archive_seq == 0
        entry = archive.entry(0)
        assert (entry.kind, entry.blob_sha256, entry.size) == (
            "outbound-pain.008",
            file_sha256(staged),
            staged.stat().st_size,
        )
        assert entry.metadata["message_id"] == "MSG-1"
        assert archive.blob(entry.blob_sha256) == staged.read_bytes()
        assert entry.signature_sha256 is not None
        assert archive.blob(entry.signature_sha256) == emitted.signature
        archive.checkpoint()
        report = verified(archive, pki.ca.cert)
    assert emitted.sha256 == file_sha256(staged)
    verify_detached(emitted.signature, staged.read_bytes(), ca_file=pki.ca.cert)
    sent = outbound / "MSG-1.xml"
    done = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", f"{sent}.p7s",
         "-content", str(sent), "-CAfile", str(pki.ca.cert), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert report.ok, report.problems


def test_an_invalid_file_is_neither_signed_nor_archived_nor_sent(tmp_path: Path, dev_pki: Path) -> None:
    pki = DevPki(dev_pki)
    signer = Signer.from_files(pki.signer.cert, pki.signer.key)
    staged = tmp_path / "bad.xml"
    staged.write_bytes(GOLDEN.read_bytes().replace(b"<NbOfTxs>", b"<NbOfTxs>x", 1))
    with open_archive(tmp_path / "archive", signer=signer) as archive:
        with pytest.raises(SchemaViolation):
            emit(
                staged, "MSG-2", signer=signer, archive=archive, channel=FolderChannel(tmp_path / "outbound")
            )
        assert archive.size == 0
    assert not (tmp_path / "outbound").exists()
