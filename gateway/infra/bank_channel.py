"""The bank channel: where signed SEPA files go. A folder by default; HTTP upload as an option.

A file is handed over with its detached CMS signature (`NAME.p7s`), and only if its bytes are the
recorded ones (`sha256`, computed when the file was written and signed).

The folder channel writes both atomically (temporary name, fsync, rename), the signature last, so
that a bank-side pick-up that waits for the `.p7s` never sees a half-written file. It reads the
file once: each block is hashed as it is copied to the temporary name, and the digest is compared
with the recorded one before the rename, so what the bank's software can see is exactly what was
hashed; a file that changed is never renamed into the folder (its temporary copy is removed).
A kernel copy (`os.copy_file_range`, `os.sendfile`) would have to read the copy back to hash it:
measured on a 538 MB file it was no faster than this one pass (bench/README.md, "Hand-off").

The HTTP channel checks the digest first, then posts the file and its signature as multipart form
parts (`file`, `signature`) and takes the bank's `Location` (or the status) as reference.
"""

from __future__ import annotations

import contextlib
import os
from io import FileIO
from pathlib import Path
from typing import BinaryIO

import httpx

from gateway.digest import BackgroundSha256
from gateway.errors import BankChannelError, SourceFileChanged, SourceFileUnreadable
from gateway.private import FILE_MODE, fsync_dir, private_dir, write_all
from gateway.services.emission import file_sha256

CHUNK = 1 << 20  # 1 MiB: measured fastest of 64 KiB-4 MiB for a copy that hashes as it goes


def _open_part(target: Path) -> tuple[Path, int]:
    tmp = target.with_name(f".{target.name}.part")
    # 0600 whatever the umask: a pain file names parents and their IBANs
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return tmp, fd


def _atomic_write(target: Path, data: bytes) -> None:
    tmp, fd = _open_part(target)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)


def _atomic_copy(source: FileIO, target: Path, sha256: str) -> None:
    """Copy `source` to `target` through a temporary name, renamed only if the bytes written have
    the SHA-256 `sha256`; otherwise the temporary copy is removed and SourceFileChanged raised."""
    tmp, fd = _open_part(target)
    digest = BackgroundSha256()  # hashed on the other core while the copy goes on
    try:
        while True:
            try:
                chunk = source.read(CHUNK)
            except OSError as exc:
                raise SourceFileUnreadable(f"cannot read the file to send: {exc.strerror}") from exc
            if not chunk:
                break
            digest.update(chunk)  # what is hashed is what is written (bytes: never changed after)
            write_all(fd, chunk)
        if digest.hexdigest() != sha256:
            raise SourceFileChanged("the file to send is not the one that was signed (SHA-256 differs)")
        os.fsync(fd)
    except BaseException:
        digest.close()
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, target)


class FolderChannel:
    """Drops files in an outbound folder that the bank's transfer software watches."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, path: Path, signature: bytes, *, name: str, sha256: str) -> str:
        try:
            source = path.open("rb", buffering=0)
        except OSError as exc:
            raise SourceFileUnreadable(f"cannot read the file to send: {exc.strerror}") from exc
        target = self.directory / name
        try:
            with source:
                private_dir(self.directory)
                _atomic_copy(source, target, sha256)
            _atomic_write(self.directory / f"{name}.p7s", signature)
            fsync_dir(self.directory)
        except OSError as exc:
            raise BankChannelError(f"cannot write to the outbound folder: {exc.strerror}") from exc
        return str(target)


class HttpChannel:
    """Uploads files to a bank endpoint (EBICS gateways and bank portals often take a POST)."""

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        self.url = url
        self.client = client or httpx.Client(timeout=120)

    def send(self, path: Path, signature: bytes, *, name: str, sha256: str) -> str:
        # checked before the upload: bytes that reached the bank cannot be taken back
        try:
            intact = file_sha256(path) == sha256
            content = path.open("rb")
        except OSError as exc:
            raise SourceFileUnreadable(f"cannot read the file to send: {exc.strerror}") from exc
        with content:
            if not intact:
                raise SourceFileChanged("the file to send is not the one that was signed (SHA-256 differs)")
            files: dict[str, tuple[str, BinaryIO | bytes, str]] = {
                "file": (name, content, "application/xml"),
                "signature": (f"{name}.p7s", signature, "application/pkcs7-signature"),
            }
            try:
                answer = self.client.post(self.url, files=files)
            except httpx.HTTPError as exc:
                raise BankChannelError(f"upload to the bank failed: {type(exc).__name__}") from exc
        if answer.status_code >= 300:
            raise BankChannelError(f"the bank refused the upload: HTTP {answer.status_code}")
        return answer.headers.get("location") or f"{self.url} {answer.status_code}"
