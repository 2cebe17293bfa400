"""The bank channel: an atomic drop in the outbound folder, or an HTTP upload (respx)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from gateway.infra.bank_channel import BankChannelError, FolderChannel, HttpChannel


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    path = tmp_path / "staging" / "DD20261125-0123456789ABCDEF.xml"
    path.parent.mkdir()
    path.write_bytes(b"<Document/>")
    return path


def test_folder_drop_writes_file_and_signature_and_no_temporary(tmp_path: Path, staged: Path) -> None:
    out = tmp_path / "outbound"
    ref = FolderChannel(out).send(staged, b"sig", name=staged.name)
    assert Path(ref).read_bytes() == b"<Document/>"
    assert (out / f"{staged.name}.p7s").read_bytes() == b"sig"
    assert sorted(p.name for p in out.iterdir()) == [staged.name, f"{staged.name}.p7s"]


def test_folder_that_cannot_be_written_is_a_channel_error(tmp_path: Path, staged: Path) -> None:
    blocker = tmp_path / "outbound"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(BankChannelError) as info:
        FolderChannel(blocker).send(staged, b"sig", name=staged.name)
    assert info.value.code == "bank-channel-failed"


@respx.mock
def test_http_upload_sends_file_and_signature(staged: Path) -> None:
    route = respx.post("https://bank.example/upload").mock(
        return_value=httpx.Response(201, headers={"Location": "https://bank.example/files/42"})
    )
    ref = HttpChannel("https://bank.example/upload").send(staged, b"sig", name=staged.name)
    assert ref == "https://bank.example/files/42"
    body = route.calls.last.request.content
    assert b'name="file"; filename="DD20261125-0123456789ABCDEF.xml"' in body
    assert b"<Document/>" in body
    assert b'filename="DD20261125-0123456789ABCDEF.xml.p7s"' in body


@respx.mock
def test_http_refusal_and_network_failure_are_channel_errors(staged: Path) -> None:
    respx.post("https://bank.example/upload").mock(return_value=httpx.Response(503))
    with pytest.raises(BankChannelError, match="HTTP 503"):
        HttpChannel("https://bank.example/upload").send(staged, b"sig", name=staged.name)
    respx.post("https://bank.example/down").mock(side_effect=httpx.ConnectTimeout("timeout"))
    with pytest.raises(BankChannelError, match="ConnectTimeout"):
        HttpChannel("https://bank.example/down").send(staged, b"sig", name=staged.name)
