"""The archive's folder of big blobs (gateway.archive.blobs.DirectoryBlobStore) with real files: a
SEPA file is copied in by the kernel under the digest its writer computed, into a file of its own."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from gateway.archive import blobs as blobs_module
from gateway.archive.blobs import DirectoryBlobStore
from gateway.errors import NotFound


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    path = tmp_path / "staging" / "DD-1.xml"
    path.parent.mkdir()
    path.write_bytes(os.urandom(3 * blobs_module.CHUNK + 777))  # several blocks and a partial one
    return path


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_put_file_copies_the_file_under_its_writers_digest_into_a_file_of_its_own(
    tmp_path: Path, staged: Path
) -> None:
    store = DirectoryBlobStore(tmp_path / "blobs")
    digest = digest_of(staged)
    assert store.put_file(staged, sha256=digest) == (digest, staged.stat().st_size)
    blob = store.path(digest)
    assert blob.read_bytes() == staged.read_bytes()
    assert blob.stat().st_mode & 0o777 == 0o600
    assert blob.stat().st_ino != staged.stat().st_ino  # a copy, not a link: the staging name cannot change it
    staged.write_bytes(b"changed after it was archived")
    assert store.hash_of(digest) == (digest, blob.stat().st_size)
    assert [p.name for p in (tmp_path / "blobs").iterdir()] == [digest[:2]]  # no temporary left


def test_put_file_falls_back_to_a_copy_through_python_where_the_kernel_refuses(
    tmp_path: Path, staged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_args: object) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", refused)
    store = DirectoryBlobStore(tmp_path / "blobs")
    digest = digest_of(staged)
    assert store.put_file(staged, sha256=digest) == (digest, staged.stat().st_size)
    assert store.path(digest).read_bytes() == staged.read_bytes()


def test_put_file_fails_on_another_error_and_leaves_no_temporary(
    tmp_path: Path, staged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "copy_file_range", full)
    store = DirectoryBlobStore(tmp_path / "blobs")
    with pytest.raises(OSError, match="No space left"):
        store.put_file(staged, sha256=digest_of(staged))
    assert list((tmp_path / "blobs").iterdir()) == []


def test_put_file_of_a_blob_already_there_keeps_it_and_replaces_a_damaged_one(
    tmp_path: Path, staged: Path
) -> None:
    store = DirectoryBlobStore(tmp_path / "blobs")
    digest = digest_of(staged)
    store.put_file(staged, sha256=digest)
    first = store.path(digest).stat().st_ino
    store.put_file(staged, sha256=digest)
    assert store.path(digest).stat().st_ino == first  # written once
    store.path(digest).write_bytes(b"damaged")
    store.put_file(staged, sha256=digest)
    assert store.hash_of(digest) == (digest, staged.stat().st_size)


def test_put_file_refuses_a_digest_that_is_not_one(tmp_path: Path, staged: Path) -> None:
    store = DirectoryBlobStore(tmp_path / "blobs")
    with pytest.raises(NotFound, match="not a lowercase SHA-256"):
        store.put_file(staged, sha256="ABC")
    assert list((tmp_path / "blobs").iterdir()) == []
