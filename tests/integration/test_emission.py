"""Emitting a SEPA file with the real archive and signer: validated and hashed while written,
signed from that digest, archived under it without a re-read, sent."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.devtools.pki import DevPki
from gateway.errors import Code, SchemaViolation
from gateway.infra.bank_channel import FolderChannel
from gateway.sepa import pain001, pain008
from gateway.sepa.model import ByteSink, WriteSummary
from gateway.sepa.pain001 import write_pain001
from gateway.sepa.pain008 import write_pain008
from gateway.sepa.xmltext import to_sink
from gateway.services import emission
from gateway.services.emission import Emitted, file_sha256, prepare
from gateway.signing.cms import Signer, verify_detached
from gateway.store.outbox import SqlBankOutbox
from gateway.store.payments import SqlPayments
from tests.integration.sepa.test_runs import Env, env
from tests.pg import postgres_server, postgres_url
from tests.support.archive import open_archive, verified
from tests.unit.sepa.samples import CREDIT_HEADER, DEBIT_HEADER, FUND, golden_credits, golden_debits, source

__all__ = ["env", "postgres_server", "postgres_url"]


def emit(
    staged: Path, summary: WriteSummary, *, signer: Signer, archive: Any, channel: FolderChannel
) -> Emitted:
    """What a run does after writing, in one go: prepare (signature, archive), then the channel."""
    emitted = prepare(
        staged, summary, kind="pain.008", created_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        signer=signer, archive=archive,
    )  # fmt: skip
    reference = channel.send(staged, emitted.signature, name=staged.name, sha256=emitted.sha256)
    return Emitted(emitted.path, emitted.sha256, emitted.signature, emitted.archive_seq, reference)


GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "sepa" / "pain.008.001.08.xml"


class _NoReRead:
    """Counts the times the staged file is opened for reading (and fails on a re-hash)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, staged: Path) -> None:
        self.reads: list[Path] = []
        original = Path.open

        def watched(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if path == staged and "r" in mode:
                self.reads.append(path)
            return original(path, mode, *args, **kwargs)

        monkeypatch.setattr(Path, "open", watched)
        monkeypatch.setattr(emission, "file_sha256", lambda _p: pytest.fail("re-hashed"))


def test_emit_signs_from_the_digest_of_the_writer_archives_the_file_and_sends_it(
    tmp_path: Path, dev_pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = DevPki(dev_pki)
    signer = Signer.from_files(pki.signer.cert, pki.signer.key)
    staged = tmp_path / "staging" / "MSG-1.xml"
    staged.parent.mkdir()
    summary = write_pain008(staged, DEBIT_HEADER, FUND, source(golden_debits()))
    assert staged.read_bytes() == GOLDEN.read_bytes()
    assert staged.stat().st_mode & 0o777 == 0o600  # names and IBANs: the service's alone
    assert summary.sha256 == file_sha256(staged)
    assert summary.size == staged.stat().st_size
    outbound = tmp_path / "outbound"
    with open_archive(tmp_path / "archive", signer=signer) as archive:
        watch = _NoReRead(monkeypatch, staged)
        emitted = prepare(
            staged, summary, kind="pain.008", created_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
            signer=signer, archive=archive,
        )  # fmt: skip
        monkeypatch.undo()
        # one read: the archive's copy. Nothing read the file to validate or hash it
        assert watch.reads == [staged]
        FolderChannel(outbound).send(staged, emitted.signature, name=staged.name, sha256=emitted.sha256)
        assert emitted.archive_seq == 0
        entry = archive.entry(0)
        assert (entry.kind, entry.blob_sha256, entry.size) == (
            "outbound-pain.008",
            file_sha256(staged),
            staged.stat().st_size,
        )
        assert entry.metadata["message_id"] == DEBIT_HEADER.message_id
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


def test_a_large_file_is_archived_under_the_writers_digest_and_verify_rehashes_it(
    tmp_path: Path, dev_pki: Path
) -> None:
    """Above the archive's small-blob limit the file is copied to the blob store under the digest
    the writer computed; `archive verify` hashes what was stored, so a wrong digest is caught."""
    pki = DevPki(dev_pki)
    signer = Signer.from_files(pki.signer.cert, pki.signer.key)
    staged = tmp_path / "MSG-3.xml"
    summary = write_pain008(staged, DEBIT_HEADER, FUND, source(golden_debits()))
    with open_archive(tmp_path / "archive", signer=signer) as archive:
        archive.small_blob_limit = 64  # the golden file is ~7 kB: the streamed path
        emitted = emit(staged, summary, signer=signer, archive=archive, channel=FolderChannel(tmp_path / "o"))
        entry = archive.entry(0)
        assert entry.blob_sha256 == hashlib.sha256(staged.read_bytes()).hexdigest() == emitted.sha256
        assert archive.blob(entry.blob_sha256) == staged.read_bytes()
        archive.checkpoint()
        assert verified(archive, pki.ca.cert).ok
        # a digest that is not the file's: stored, signed by nobody, and `verify` says so
        other = tmp_path / "other.xml"
        other.write_bytes(staged.read_bytes().replace(b"ARIPA", b"ARIPB", 1))
        archive.append_file("outbound-pain.008", other, metadata={}, sha256="ab" * 32)
        archive.checkpoint()
        assert not verified(archive, pki.ca.cert).ok


def _invalid(sink: ByteSink) -> WriteSummary:
    """A writer whose output breaks the XSD (the EPC rules let no such file through)."""
    sink.write(GOLDEN.read_bytes().replace(b"<NbOfTxs>", b"<NbOfTxs>x", 1))
    return WriteSummary(DEBIT_HEADER.message_id, "pain.008.001.08", 6, 0, ())


def test_an_invalid_file_is_discarded_while_written_never_signed_archived_or_sent(
    tmp_path: Path, dev_pki: Path
) -> None:
    staged = tmp_path / "staging" / "bad.xml"
    staged.parent.mkdir()
    with pytest.raises(SchemaViolation) as info:
        to_sink(staged, "pain.008.001.08", _invalid)
    # the same error as when the finished file was validated: code, line, column, the XSD's words
    assert info.value.code == Code.SEPA_XSD_INVALID
    assert info.value.message.startswith("bad.xml is not valid pain.008.001.08 (line ")
    assert "NbOfTxs" in info.value.message
    assert not staged.exists()  # discarded before anything could sign, archive or send it


def test_prepare_refuses_a_file_that_was_not_validated_while_written(tmp_path: Path) -> None:
    staged = tmp_path / "MSG-4.xml"
    staged.write_bytes(GOLDEN.read_bytes())
    unvalidated = WriteSummary(DEBIT_HEADER.message_id, "pain.008.001.08", 6, 0, ())
    with pytest.raises(ValueError, match="not written through a validating sink"):
        prepare(staged, unvalidated, kind="pain.008", created_at=datetime.now(UTC),
                signer=object(), archive=object())  # type: ignore[arg-type]  # fmt: skip


def test_prepare_refuses_a_file_that_changed_after_it_was_written(tmp_path: Path, dev_pki: Path) -> None:
    staged = tmp_path / "MSG-5.xml"
    summary = write_pain008(staged, DEBIT_HEADER, FUND, source(golden_debits()))
    with staged.open("ab") as more:
        more.write(b"<!-- appended -->")
    with pytest.raises(RuntimeError, match="changed after it was written"):
        prepare(staged, summary, kind="pain.008", created_at=datetime.now(UTC),
                signer=object(), archive=object())  # type: ignore[arg-type]  # fmt: skip


def _breaking_ccy(render: Callable[[Any], str]) -> Callable[[Any], str]:
    """A renderer that writes a currency code the XSD refuses (ActiveOrHistoricCurrencyCode is
    [A-Z]{3}): what a bug in a writer would do, past the EPC rules."""
    return lambda item: render(item).replace('Ccy="EUR"', 'Ccy="EURO"', 1)


def test_a_collection_run_whose_file_fails_the_xsd_leaves_neither_file_nor_debits(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pain008.debit_renderer
    with monkeypatch.context() as patch:
        patch.setattr(pain008, "debit_renderer", lambda *, v08: _breaking_ccy(real(v08=v08)))
        with pytest.raises(SchemaViolation) as info:
            env.debits("2026-12")
    assert info.value.code == Code.SEPA_XSD_INVALID
    assert " is not valid pain.008.001.08 (line " in info.value.message
    assert "Ccy" in info.value.message
    assert list((env.tmp / "staging").iterdir()) == []  # deleted as soon as the XSD said no
    assert not (env.tmp / "outbound").exists()
    assert [i.kind for i in env.archive.items if i.kind.startswith("outbound")] == []
    with env.store.read() as uow:
        payments = SqlPayments(uow.connection)
        assert payments.files() == []
        assert SqlBankOutbox(uow.connection).pending() == []
    # nothing of the failed run stayed: the next run collects the same month, once
    report = env.debits("2026-12")
    assert (report.count, report.total_cents) == (2, 56000)
    assert report.file is not None
    assert (env.tmp / "outbound" / report.file.name).exists()


def test_a_payout_file_that_fails_the_xsd_is_deleted_while_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pain001.credit_xml
    monkeypatch.setattr(pain001, "credit_xml", lambda credit, *, v09: _breaking_ccy(
        lambda c: real(c, v09=v09))(credit))  # fmt: skip
    staged = tmp_path / "CT-1.xml"
    with pytest.raises(SchemaViolation) as info:
        write_pain001(staged, CREDIT_HEADER, FUND, source(golden_credits()))
    assert info.value.code == Code.SEPA_XSD_INVALID
    assert info.value.message.startswith("CT-1.xml is not valid pain.001.001.09 (line ")
    assert not staged.exists()


def test_a_payout_file_is_validated_and_hashed_while_written(tmp_path: Path) -> None:
    staged = tmp_path / "CT-2.xml"
    summary = write_pain001(staged, CREDIT_HEADER, FUND, source(golden_credits()))
    assert summary.sha256 == file_sha256(staged)
    assert summary.size == staged.stat().st_size
    assert staged.stat().st_mode & 0o777 == 0o600
