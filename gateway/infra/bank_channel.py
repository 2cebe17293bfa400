"""The bank channel: where signed SEPA files go. A folder by default; HTTP upload as an option.

A file is handed over with its detached CMS signature (`NAME.p7s`). The folder channel writes both
atomically (temporary name, fsync, rename), the signature last, so that a bank-side pick-up that
waits for the `.p7s` never sees a half-written file. The HTTP channel posts both as multipart
form parts (`file`, `signature`) and takes the bank's `Location` (or the status) as reference.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO, Protocol

import httpx

from gateway.errors import GatewayError
from gateway.private import FILE_MODE, private_dir


class BankChannelError(GatewayError):
    default_code = "bank-channel-failed"


class BankChannel(Protocol):
    def send(self, path: Path, signature: bytes, *, name: str) -> str:
        """Hand `path` (and its signature) to the bank under `name`; returns a reference."""
        ...


def _atomic_write(target: Path, write: bytes | Path) -> None:
    tmp = target.with_name(f".{target.name}.part")
    # 0600 whatever the umask: a pain file names parents and their IBANs
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        if isinstance(write, bytes):
            out.write(write)
        else:
            with write.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)


class FolderChannel:
    """Drops files in an outbound folder that the bank's transfer software watches."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, path: Path, signature: bytes, *, name: str) -> str:
        try:
            private_dir(self.directory)
            target = self.directory / name
            _atomic_write(target, path)
            _atomic_write(self.directory / f"{name}.p7s", signature)
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise BankChannelError(f"cannot write to the outbound folder: {exc.strerror}") from exc
        return str(target)


class HttpChannel:
    """Uploads files to a bank endpoint (EBICS gateways and bank portals often take a POST)."""

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        self.url = url
        self.client = client or httpx.Client(timeout=120)

    def send(self, path: Path, signature: bytes, *, name: str) -> str:
        with path.open("rb") as content:
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
