"""A SEPA file reaches the bank only from what a run committed (issue 12, item 4): killed between
the commit and the hand-off, or between the hand-off and its mark, the next run resends the very
file recorded (same bytes, same MsgId), never builds a new one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from lxml import etree

import gateway.services.collection as collection
from gateway.errors import GatewayError
from gateway.infra.bank_channel import FolderChannel
from gateway.store.outbox import SqlBankOutbox
from gateway.store.payments import SqlPayments
from tests.integration.sepa.test_runs import NS8, Env, env
from tests.pg import postgres_server, postgres_url

__all__ = ["env", "postgres_server", "postgres_url"]


class Killed(BaseException):
    """Stands for a kill -9: not an Exception, nothing catches it on the way out."""


class CountingChannel(FolderChannel):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.sent: list[tuple[str, str]] = []

    def send(self, path: Path, signature: bytes, *, name: str, sha256: str) -> str:
        reference = super().send(path, signature, name=name, sha256=sha256)
        # what reached the outbound folder (the folder channel checked it against `sha256`)
        self.sent.append((name, hashlib.sha256((self.directory / name).read_bytes()).hexdigest()))
        return reference


def outbox(env: Env) -> list[tuple[str, str, str, int]]:
    with env.store.read() as uow:
        conn = uow.connection
        rows = SqlBankOutbox(conn).pending() + [
            r
            for f in SqlPayments(conn).files()
            if (r := SqlBankOutbox(conn).get(f.message_id)) and r.status == "sent"
        ]
    return [(r.message_id, r.status, r.sha256, r.attempts) for r in rows]


def files(env: Env) -> list[str]:
    with env.store.read() as uow:
        return [f.message_id for f in SqlPayments(uow.connection).files()]


def msg_id(path: Path) -> str:
    return str(
        etree.parse(str(path)).getroot().findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", namespaces=NS8)
    )


def killed_before_hand_off(env: Env, monkeypatch: pytest.MonkeyPatch) -> CountingChannel:
    """A collection run killed right after its commit, before the bank channel got the file."""
    channel = env.channel = CountingChannel(env.tmp / "outbound")

    def killed(*args: object, **kwargs: object) -> str:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(collection, "hand_off", killed)
        with pytest.raises(Killed):
            env.debits("2026-12")
    return channel


def test_killed_between_commit_and_hand_off_the_rerun_sends_the_recorded_file(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = killed_before_hand_off(env, monkeypatch)
    assert channel.sent == []  # committed, not handed over
    [(message_id, status, sha256, _)] = outbox(env)
    assert status == "pending"
    staged = env.tmp / "staging" / f"{message_id}.xml"
    assert hashlib.sha256(staged.read_bytes()).hexdigest() == sha256
    assert staged.stat().st_mode & 0o777 == 0o600

    rerun = env.debits("2026-12")
    assert rerun.count == 0  # nothing new to collect: no second file is built
    assert channel.sent == [(f"{message_id}.xml", sha256)]
    sent = env.tmp / "outbound" / f"{message_id}.xml"
    assert msg_id(sent) == message_id
    assert files(env) == [message_id]
    assert outbox(env) == [(message_id, "sent", sha256, 1)]
    assert not staged.exists()  # no staged copy left behind


def test_killed_between_hand_off_and_mark_the_rerun_resends_the_same_bytes(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = env.channel = CountingChannel(env.tmp / "outbound")

    def killed(self: object, *args: object, **kwargs: object) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(SqlBankOutbox, "mark_sent", killed)
        with pytest.raises(Killed):
            env.debits("2026-12")
    [(message_id, status, sha256, _)] = outbox(env)
    assert status == "pending"
    assert channel.sent == [(f"{message_id}.xml", sha256)]

    assert env.debits("2026-12").count == 0
    # at least once, but always the one recorded file: same name, same bytes, same MsgId
    assert channel.sent == [(f"{message_id}.xml", sha256)] * 2
    assert msg_id(env.tmp / "outbound" / f"{message_id}.xml") == message_id
    assert files(env) == [message_id]
    assert outbox(env) == [(message_id, "sent", sha256, 1)]


def test_a_recorded_file_that_changed_is_never_sent(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    channel = killed_before_hand_off(env, monkeypatch)
    [(message_id, _, _, _)] = outbox(env)
    staged = env.tmp / "staging" / f"{message_id}.xml"
    staged.write_bytes(staged.read_bytes().replace(b"<NbOfTxs>2<", b"<NbOfTxs>3<", 1))
    with pytest.raises(GatewayError) as caught:
        env.debits("2026-12")
    assert caught.value.code == "bank-channel-failed"
    assert "changed since it was signed" in caught.value.message
    assert channel.sent == []
    # the copy was refused before its rename: nothing in the outbound folder, not even a part
    assert not (env.tmp / "outbound").exists() or list((env.tmp / "outbound").iterdir()) == []
    assert outbox(env)[0][1:] == ("pending", outbox(env)[0][2], 1)


def test_a_normal_run_hands_over_once_and_leaves_no_staged_copy(env: Env) -> None:
    channel = env.channel = CountingChannel(env.tmp / "outbound")
    report = env.debits("2026-12")
    [(message_id, status, sha256, attempts)] = outbox(env)
    assert (report.message_id, status, attempts) == (message_id, "sent", 1)
    assert channel.sent == [(f"{message_id}.xml", sha256)]
    assert report.channel_ref == str(env.tmp / "outbound" / f"{message_id}.xml")
    assert list((env.tmp / "staging").iterdir()) == []
    assert (env.tmp / "outbound" / f"{message_id}.xml").stat().st_mode & 0o777 == 0o600
