"""`gateway deliver --once`, `gateway deliveries list` and `gateway deliveries retry`, and the settings."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from click.testing import CliRunner
from pydantic import SecretStr

from gateway.archive.store import Archive
from gateway.cli import main
from gateway.config import Settings, WebhookSubscription
from gateway.errors import ConfigurationError
from gateway.infra.delivery import BackgroundDelivery, background_from_settings, endpoints_from_settings
from gateway.store.deliveries import SqlDeliveries
from gateway.store.sql import SqlStore, open_sql_store
from tests.fakes import FakeArchive, FakeSigner
from tests.unit.delivery.support import (
    SECRET,
    T0,
    URL,
    FakeClock,
    add_events,
    endpoint,
    make_worker,
)

HOOKS = json.dumps([{"url": URL, "secret": SECRET, "id": "bo"}])


@pytest.fixture
def env(tmp_path: Path, dev_pki: Path) -> dict[str, str]:
    return {
        "GATEWAY_DATA_DIR": str(tmp_path / "var"),
        "GATEWAY_CERTS_DIR": str(dev_pki),
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'gateway.sqlite3'}",
        "GATEWAY_WEBHOOKS": HOOKS,
    }


@pytest.fixture
def db(env: dict[str, str]) -> SqlStore:
    return open_sql_store(env["GATEWAY_DATABASE_URL"])


def kill_all(store: SqlStore) -> None:
    """Dead-letter every delivery as a worker with one allowed attempt would."""
    worker = make_worker(store, clock=FakeClock(), max_attempts=1)
    with respx.mock:
        respx.post(URL).mock(return_value=httpx.Response(500))
        worker.drain()
    worker.sender.close()


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_list_and_retry_dead_deliveries(env: dict[str, str], db: SqlStore) -> None:
    add_events(db, ["DOS-1", "DOS-2", "DOS-3"])
    kill_all(db)
    SqlDeliveries(db).requeue_dead([3], now=T0)

    code, out, _ = run(env, "deliveries", "list", "--status", "dead")
    assert code == 0
    listed = json.loads(out)
    assert listed["counts"] == {"pending": 1, "delivered": 0, "dead": 2}
    assert [(d["delivery_id"], d["status"], d["last_error"]) for d in listed["deliveries"]] == [
        (1, "dead", "HTTP 500"),
        (2, "dead", "HTTP 500"),
    ]
    assert "2850775123456" not in out  # listing never shows payloads

    code, out, err = run(env, "deliveries", "retry", "2", "3")
    assert code == 1  # 3 was pending, not dead
    assert json.loads(out) == {"requeued": [2]}
    assert err.splitlines()[-1] == (
        "gateway deliveries retry: not-dead: 3 is pending (left alone: only dead deliveries are re-queued);"
        " see 'gateway deliveries list --status dead'"
    )

    code, out, err = run(env, "deliveries", "retry", "12", "15")
    assert code == 1  # 12 and 15 were never deliveries: said so (issue 14)
    assert json.loads(out) == {"requeued": []}
    assert err.splitlines()[-1].startswith(
        "gateway deliveries retry: not-found: no delivery 12, 15 (left alone"
    )
    code, out, _ = run(env, "deliveries", "retry", "--all-dead")
    assert (code, json.loads(out)) == (0, {"requeued": [1]})
    assert SqlDeliveries(db).counts() == {"pending": 3, "delivered": 0, "dead": 0}
    assert [r.attempts for r in SqlDeliveries(db).list_rows()] == [0, 0, 0]

    code, _, err = run(env, "deliveries", "retry")
    assert code == 2
    assert "IDS or --all-dead" in err
    code, _, _ = run(env, "deliveries", "retry", "--all-dead", "1")
    assert code == 2


@respx.mock
def test_deliver_once_posts_archives_and_exits(env: dict[str, str], db: SqlStore) -> None:
    add_events(db, ["DOS-1", "DOS-2"])
    route = respx.post(URL).mock(return_value=httpx.Response(200))

    code, out, _ = run(env, "deliver", "--once")

    assert code == 0
    assert json.loads(out) | {"queued_events": 2, "claimed": 2, "delivered": 2} == json.loads(out)
    assert route.call_count == 2
    data = Path(env["GATEWAY_DATA_DIR"])
    with Archive.open(f"sqlite:///{data / 'gateway.sqlite3'}", data / "archive" / "blobs") as archive:
        entries = [archive.entry(i) for i in range(archive.size)]
    assert [e.kind for e in entries] == ["webhook-delivery", "webhook-delivery"]
    assert [e.metadata["event_id"] for e in entries] == ["1", "2"]
    assert all(e.signature_sha256 for e in entries)  # CMS-signed by the gateway's signer
    assert SqlDeliveries(db).counts()["delivered"] == 2


def test_deliver_without_subscriptions_says_so(env: dict[str, str]) -> None:
    code, _, err = run(env | {"GATEWAY_WEBHOOKS": "[]"}, "deliver", "--once")
    assert code == 0
    assert "no webhook subscriptions" in err


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with whsec_"),
        ("whsec_not*base64*at*all*here*", "followed by base64"),
        ("whsec_c2hvcnQ=", "24 to 64 bytes"),
    ],
)
def test_a_bad_secret_is_refused_without_being_echoed(env: dict[str, str], secret: str, message: str) -> None:
    hooks = json.dumps([{"url": URL, "secret": secret}])
    result = CliRunner().invoke(main, ["deliver", "--once"], env=env | {"GATEWAY_WEBHOOKS": hooks})
    assert result.exit_code == 3  # configuration (gateway.cli.failure)
    assert message in result.output
    assert secret.removeprefix("whsec_") not in result.output


def settings(**changes: object) -> Settings:
    base: dict[str, object] = {"webhooks": [WebhookSubscription(url=URL, secret=SecretStr(SECRET))]}
    return Settings(**(base | changes))  # type: ignore[arg-type]


def test_settings_read_subscriptions_from_json_and_hide_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "GATEWAY_WEBHOOKS", json.dumps([{"url": URL, "secret": SECRET, "types": ["debit.settled"]}])
    )
    loaded = Settings()
    (sub,) = loaded.webhooks
    assert sub.key == URL
    assert SECRET not in repr(loaded)
    (ep,) = endpoints_from_settings(loaded)
    assert ep == endpoint(URL, URL, ["debit.settled"])


@pytest.mark.parametrize(
    ("subs", "field"),
    [
        ([{"url": "ftp://x", "secret": SECRET}], "webhooks[0].url"),
        ([{"url": URL, "secret": SECRET, "types": ["dossier.acepted"]}], "webhooks[0].types"),
        ([{"url": URL, "secret": SECRET}, {"url": URL, "secret": SECRET}], "webhooks[1].id"),
        ([{"url": URL + "/" + "x" * 300, "secret": SECRET}], "webhooks[0].id"),
    ],
)
def test_subscriptions_are_checked(subs: list[dict[str, str]], field: str) -> None:
    loaded = Settings(webhooks=[WebhookSubscription.model_validate(s) for s in subs])
    with pytest.raises(ConfigurationError) as caught:
        endpoints_from_settings(loaded)
    assert caught.value.field == field


def test_the_lease_must_outlast_an_attempt(tmp_path: Path) -> None:
    store = open_sql_store(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with pytest.raises(ConfigurationError) as caught, Archive(store, tmp_path / "a") as archive:
            background_from_settings(
                settings(webhook_timeout_seconds=40, delivery_lease_seconds=60),
                store=store,
                archive=archive,
                signer=FakeSigner(),
            )
        assert caught.value.field == "delivery_lease_seconds"
        nowhere = FakeArchive()
        for quiet in (settings(webhooks=[]), settings(deliver_in_serve=False)):
            assert background_from_settings(quiet, store=store, archive=nowhere, signer=FakeSigner()) is None
    finally:
        store.close()


@respx.mock
def test_the_background_worker_delivers_then_stops(store: SqlStore, clock: FakeClock) -> None:
    add_events(store, ["DOS-1", "DOS-2"])
    route = respx.post(URL).mock(return_value=httpx.Response(200))
    background = BackgroundDelivery(make_worker(store, clock=clock), poll_seconds=0.01)
    background.start()
    try:
        deliveries = SqlDeliveries(store)
        for _ in range(500):
            if deliveries.counts()["delivered"] == 2:
                break
            clock.advance(seconds=1)
            threading.Event().wait(0.01)
    finally:
        background.stop(timeout=5)
    assert deliveries.counts()["delivered"] == 2
    assert route.call_count == 2
    assert not background._thread.is_alive()


def test_retry_policy_defaults_come_from_settings(tmp_path: Path) -> None:
    store = open_sql_store(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with Archive(store, tmp_path / "a") as archive:
            background = background_from_settings(
                settings(
                    webhook_max_attempts=4, webhook_backoff_base_seconds=2, webhook_backoff_cap_seconds=30
                ),
                store=store,
                archive=archive,
                signer=FakeSigner(),
            )
        assert background is not None
        worker = background.worker
        assert (worker.retry.max_attempts, worker.retry.base, worker.retry.cap) == (
            4,
            timedelta(seconds=2),
            timedelta(seconds=30),
        )
        assert worker.lease == timedelta(seconds=60)
        worker.sender.close()
    finally:
        store.close()


GONE_URL = "https://gone.example/in"
BOTH = json.dumps(
    [{"url": URL, "secret": SECRET, "id": "bo"}, {"url": GONE_URL, "secret": SECRET, "id": "gone"}]
)


@respx.mock
def test_deliveries_of_a_removed_subscription_are_listed_and_replayed_once_it_is_back(
    env: dict[str, str], db: SqlStore
) -> None:
    add_events(db, ["DOS-1", "DOS-2"])
    # Queued for both subscriptions an hour ago; then `gone` left the settings.
    an_hour_ago = FakeClock(datetime.now(UTC) - timedelta(hours=1))
    fan_out = make_worker(db, clock=an_hour_ago, endpoints=[endpoint(), endpoint("gone", GONE_URL)])
    fan_out.fan_out()
    fan_out.sender.close()
    respx.post(URL).mock(return_value=httpx.Response(200))
    gone = respx.post(GONE_URL).mock(return_value=httpx.Response(200))

    code, out, _ = run(env, "deliver", "--once")
    assert code == 0
    assert json.loads(out) | {"delivered": 2, "unsubscribed": 2} == json.loads(out)
    assert gone.call_count == 0
    code, out, _ = run(env, "deliveries", "list", "--status", "dead", "--subscription", "gone")
    listed = json.loads(out)
    assert listed["counts"] == {"pending": 0, "delivered": 2, "dead": 2}
    assert [d["last_error"].split(":")[0] for d in listed["deliveries"]] == ["subscription-removed"] * 2

    # Re-queued while still removed: a warning, and the next worker sets them aside again.
    code, out, err = run(env, "deliveries", "retry", "--all-dead", "--subscription", "gone")
    assert (code, json.loads(out)) == (0, {"requeued": [3, 4]})
    assert "subscription 'gone' is not in GATEWAY_WEBHOOKS" in err
    code, _, err = run(env, "deliveries", "retry", "--subscription", "gone", "3")
    assert (code, "--subscription goes with --all-dead" in err) == (2, True)

    with_gone = env | {"GATEWAY_WEBHOOKS": BOTH}
    code, out, _ = run(with_gone, "deliver", "--once")
    assert (code, json.loads(out)["delivered"]) == (0, 2)
    assert gone.call_count == 2
    assert SqlDeliveries(db).counts() == {"pending": 0, "delivered": 4, "dead": 0}


def test_without_any_subscription_pending_deliveries_are_still_set_aside(
    env: dict[str, str], db: SqlStore, tmp_path: Path
) -> None:
    add_events(db, ["DOS-1"])
    an_hour_ago = FakeClock(datetime.now(UTC) - timedelta(hours=1))
    fan_out = make_worker(db, clock=an_hour_ago)
    fan_out.fan_out()
    fan_out.sender.close()
    none = settings(webhooks=[])
    nowhere = FakeArchive()
    background = background_from_settings(none, store=db, archive=nowhere, signer=FakeSigner())
    assert background is not None  # the only subscription was removed: its deliveries are not forgotten
    background.worker.sender.close()

    code, out, err = run(env | {"GATEWAY_WEBHOOKS": "[]"}, "deliver", "--once")
    assert code == 0
    assert "no webhook subscriptions" in err
    assert json.loads(out)["unsubscribed"] == 1
    assert SqlDeliveries(db).counts() == {"pending": 0, "delivered": 0, "dead": 1}
    assert background_from_settings(none, store=db, archive=nowhere, signer=FakeSigner()) is None


def test_deliver_once_is_quiet_and_says_what_failed(env: dict[str, str], db: SqlStore) -> None:
    # issue 14: alembic INFO lines and per-attempt logs in `--once` output; last_error "ConnectError"
    add_events(db, ["DOS-1"])
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: refused
    hooks = json.dumps([{"url": f"http://127.0.0.1:{port}/hooks/t0k3n", "secret": SECRET, "id": "bo"}])
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "deliver", "--once"],
        env=os.environ | env | {"GATEWAY_WEBHOOKS": hooks},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout)["retried"] == 1
    (row,) = SqlDeliveries(db).list_rows()
    assert row.last_error == f"connect error: connection refused to 127.0.0.1:{port}"
