"""The composition root's smaller doors: `open_archive`, the archive a `gateway archive ...` command
names (or the configured one); `build_console`, the console's services from the TLS settings;
the SQLite WAL checkpoints `gateway serve` starts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509

from gateway.archive.blobs import DirectoryBlobStore
from gateway.bootstrap import build, build_console, open_archive
from gateway.config import Settings
from gateway.console import csrf_key_from
from gateway.errors import ConfigurationError


def test_the_locations_named_win_over_the_configured_ones(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "configured", certs_dir=tmp_path / "no-certs")
    database = tmp_path / "copy" / "gateway.sqlite3"
    database.parent.mkdir()

    with open_archive(settings, database=f"sqlite:///{database}", directory=tmp_path / "copy") as archive:
        archive.append("probe", b"named")
        assert archive.signer is None  # unsigned: no key is read to verify, prove or export
        assert isinstance(archive.blobs, DirectoryBlobStore)
        assert archive.blobs.root == tmp_path / "copy" / "blobs"
        assert archive.size == 1

    assert database.is_file()
    assert not (tmp_path / "configured").exists()  # the configured archive was not touched


def test_without_locations_the_configured_archive_is_opened(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", certs_dir=tmp_path / "no-certs")
    (tmp_path / "var").mkdir()
    with open_archive(settings) as archive:
        assert isinstance(archive.blobs, DirectoryBlobStore)
        assert archive.blobs.root == tmp_path / "var" / "archive" / "blobs"
    assert (tmp_path / "var" / "gateway.sqlite3").is_file()


def test_signed_brings_the_gateways_signer(tmp_path: Path, dev_pki: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", certs_dir=dev_pki)
    (tmp_path / "var").mkdir()
    with open_archive(settings, signed=True) as archive:
        assert archive.signer is not None
        archive.append("probe", b"x")
        assert archive.checkpoint().size == 1


def test_a_database_that_cannot_be_opened_is_a_configuration_error_quoting_no_url(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", certs_dir=tmp_path / "no-certs")
    with pytest.raises(ConfigurationError) as raised:
        open_archive(settings, database="nosuch://user:s3cret@db/x")
    assert raised.value.field == "database"
    assert raised.value.message == "cannot open the archive's database (NoSuchModuleError)"
    assert "s3cret" not in str(raised.value)


def test_the_console_is_built_on_the_gateway_with_the_tls_settings(tmp_path: Path, dev_pki: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", certs_dir=dev_pki)
    at = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    with build(settings, clock=lambda: at) as gateway:
        console = build_console(settings, gateway)
        assert (console.store, console.archive, console.signer) == (
            gateway.store,
            gateway.archive,
            gateway.signer,
        )
        assert console.clock() == at
        assert console.csrf_key == csrf_key_from(dev_pki / "server-key.pem")  # the same in every worker
        ca = x509.load_pem_x509_certificate((dev_pki / "ca.pem").read_bytes())
        assert list(console.trust_anchors) == [ca]


def test_an_unreadable_client_ca_is_a_configuration_error(tmp_path: Path, dev_pki: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate")
    settings = Settings(data_dir=tmp_path / "var", certs_dir=dev_pki, client_ca=tmp_path / "ca.pem")
    with build(settings) as gateway, pytest.raises(ConfigurationError) as raised:
        build_console(settings, gateway)
    assert "cannot read CA certificates" in raised.value.message


def test_wal_checkpoints_run_on_sqlite_until_the_gateway_closes(tmp_path: Path, dev_pki: Path) -> None:
    gateway = build(Settings(data_dir=tmp_path / "var", certs_dir=dev_pki))
    gateway.start_wal_checkpoints()
    gateway.start_wal_checkpoints()  # once only
    wal = gateway._wal
    assert wal is not None
    assert wal._thread is not None
    assert wal._thread.is_alive()
    gateway.close()
    assert wal._thread is None
