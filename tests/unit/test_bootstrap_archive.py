"""`bootstrap.open_archive`: the archive a `gateway archive ...` command names (or the configured
one), opened by the composition root rather than by the command."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.archive.blobs import DirectoryBlobStore
from gateway.bootstrap import open_archive
from gateway.config import Settings
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
