"""The bank channel: an atomic drop in the outbound folder, or an HTTP upload (respx). Either hands
over only the bytes whose SHA-256 was recorded when the file was signed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest
import respx

from gateway.errors import BankChannelError, SourceFileChanged, SourceFileUnreadable
from gateway.infra import bank_channel
from gateway.infra.bank_channel import FolderChannel, HttpChannel
from gateway.private import write_all

CONTENT = b"<Document/>"
DIGEST = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    path = tmp_path / "staging" / "DD20261125-0123456789ABCDEF.xml"
    path.parent.mkdir()
    path.write_bytes(CONTENT)
    return path


def test_folder_drop_writes_file_and_signature_and_no_temporary(tmp_path: Path, staged: Path) -> None:
    out = tmp_path / "outbound"
    ref = FolderChannel(out).send(staged, b"sig", name=staged.name, sha256=DIGEST)
    assert Path(ref).read_bytes() == CONTENT
    assert (out / f"{staged.name}.p7s").read_bytes() == b"sig"
    assert sorted(p.name for p in out.iterdir()) == [staged.name, f"{staged.name}.p7s"]
    assert Path(ref).stat().st_mode & 0o777 == 0o600


def test_folder_drop_copies_a_file_of_many_blocks_whole(tmp_path: Path) -> None:
    source = tmp_path / "big.xml"
    data = os.urandom(3 * bank_channel.CHUNK + 12_345)  # several blocks and a partial one
    source.write_bytes(data)
    out = tmp_path / "outbound"
    ref = FolderChannel(out).send(source, b"sig", name="big.xml", sha256=hashlib.sha256(data).hexdigest())
    assert Path(ref).read_bytes() == data


def test_folder_refuses_a_changed_file_and_leaves_nothing_visible(tmp_path: Path, staged: Path) -> None:
    out = tmp_path / "outbound"
    staged.write_bytes(CONTENT.replace(b"/>", b" />"))  # changed after it was signed
    with pytest.raises(SourceFileChanged) as info:
        FolderChannel(out).send(staged, b"sig", name=staged.name, sha256=DIGEST)
    assert info.value.code == "bank-channel-failed"
    assert "SHA-256 differs" in info.value.message
    assert list(out.iterdir()) == []  # neither the file, nor its signature, nor the temporary copy


def test_folder_refusal_keeps_what_an_earlier_send_left_under_that_name(tmp_path: Path, staged: Path) -> None:
    """A resend (hand_off_pending) of a file that changed meanwhile: the good copy stays as it was."""
    out = tmp_path / "outbound"
    FolderChannel(out).send(staged, b"sig", name=staged.name, sha256=DIGEST)
    staged.write_bytes(b"<Document>other</Document>")
    with pytest.raises(SourceFileChanged):
        FolderChannel(out).send(staged, b"sig", name=staged.name, sha256=DIGEST)
    assert (out / staged.name).read_bytes() == CONTENT
    assert sorted(p.name for p in out.iterdir()) == [staged.name, f"{staged.name}.p7s"]


def test_folder_refuses_a_file_that_vanished(tmp_path: Path, staged: Path) -> None:
    staged.unlink()
    with pytest.raises(SourceFileUnreadable, match="cannot read the file to send"):
        FolderChannel(tmp_path / "outbound").send(staged, b"sig", name=staged.name, sha256=DIGEST)
    assert not (tmp_path / "outbound").exists()


def test_folder_that_cannot_be_written_is_a_channel_error(tmp_path: Path, staged: Path) -> None:
    blocker = tmp_path / "outbound"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(BankChannelError) as info:
        FolderChannel(blocker).send(staged, b"sig", name=staged.name, sha256=DIGEST)
    assert info.value.code == "bank-channel-failed"
    assert not isinstance(info.value, SourceFileChanged | SourceFileUnreadable)
    assert "cannot write to the outbound folder" in info.value.message


@respx.mock
def test_http_upload_sends_file_and_signature(staged: Path) -> None:
    route = respx.post("https://bank.example/upload").mock(
        return_value=httpx.Response(201, headers={"Location": "https://bank.example/files/42"})
    )
    ref = HttpChannel("https://bank.example/upload").send(staged, b"sig", name=staged.name, sha256=DIGEST)
    assert ref == "https://bank.example/files/42"
    body = route.calls.last.request.content
    assert b'name="file"; filename="DD20261125-0123456789ABCDEF.xml"' in body
    assert CONTENT in body
    assert b'filename="DD20261125-0123456789ABCDEF.xml.p7s"' in body


@respx.mock
def test_http_never_uploads_a_changed_or_vanished_file(staged: Path) -> None:
    route = respx.post("https://bank.example/upload").mock(return_value=httpx.Response(201))
    channel = HttpChannel("https://bank.example/upload")
    staged.write_bytes(CONTENT + b"\n")
    with pytest.raises(SourceFileChanged):
        channel.send(staged, b"sig", name=staged.name, sha256=DIGEST)
    staged.unlink()
    with pytest.raises(SourceFileUnreadable):
        channel.send(staged, b"sig", name=staged.name, sha256=DIGEST)
    assert not route.called


@respx.mock
def test_http_refusal_and_network_failure_are_channel_errors(staged: Path) -> None:
    respx.post("https://bank.example/upload").mock(return_value=httpx.Response(503))
    with pytest.raises(BankChannelError, match="HTTP 503"):
        HttpChannel("https://bank.example/upload").send(staged, b"sig", name=staged.name, sha256=DIGEST)
    respx.post("https://bank.example/down").mock(side_effect=httpx.ConnectTimeout("timeout"))
    with pytest.raises(BankChannelError, match="ConnectTimeout"):
        HttpChannel("https://bank.example/down").send(staged, b"sig", name=staged.name, sha256=DIGEST)


def test_folder_refuses_a_file_that_changes_while_it_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked then copied, a file changed between the check and the copy would have been sent; hashed
    as it is copied, the copy is refused before its rename."""
    source = tmp_path / "big.xml"
    data = b"a" * (2 * bank_channel.CHUNK + 10)
    source.write_bytes(data)
    written = write_all  # the one gateway.private gives the channel

    def write_then_tamper(fd: int, block: bytes | memoryview) -> None:
        written(fd, block)
        with source.open("r+b") as tamper:  # another process rewrites the end of the file
            tamper.seek(2 * bank_channel.CHUNK)
            tamper.write(b"b" * 10)

    monkeypatch.setattr(bank_channel, "write_all", write_then_tamper)
    out = tmp_path / "outbound"
    with pytest.raises(SourceFileChanged):
        FolderChannel(out).send(source, b"sig", name="big.xml", sha256=hashlib.sha256(data).hexdigest())
    assert list(out.iterdir()) == []
