"""GET /v1/feed through the app: commit order, stable cursors, pagination, limits, back-office only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.delivery.feed import EventFeed
from gateway.errors import AuthenticationError
from gateway.services import events
from gateway.store import MemoryStore, Store
from gateway.store.sql import open_sql_store
from gateway.transport.http import Authenticator, Caller, Role, RoleMap, create_app
from tests.unit.delivery.support import T0, add_events

BACK_OFFICE = {"x-test-role": "back-office"}


class HeaderAuthenticator(Authenticator):
    """Stands for mutual TLS here (tests/e2e/test_feed_mtls.py does it for real): role from a header."""

    def __init__(self) -> None:
        super().__init__(RoleMap())

    def authenticate(self, scope: Mapping[str, Any], headers: Any) -> Caller:
        role = headers.get("x-test-role")
        if role is None:
            raise AuthenticationError("no client certificate")
        return Caller(Role(role), f"CN={role}", "0" * 64, "tls")


@pytest.fixture(params=["memory", "sqlite"])
def feed_store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    sql = open_sql_store(f"sqlite:///{tmp_path / 'feed.sqlite3'}")
    yield sql
    sql.close()


class AppClient:
    """Requests straight to the ASGI app (httpx's ASGI transport), one event loop per request."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
                return await http.get(url, params=params, headers=headers)

        return asyncio.run(call())


@pytest.fixture
def client(feed_store: Store) -> AppClient:
    return AppClient(
        create_app(authenticator=HeaderAuthenticator(), services={EventFeed: EventFeed(feed_store)})
    )


def publish(store: Store, dossiers: list[str | None]) -> None:
    for n, dossier_id in enumerate(dossiers):
        with store.transaction() as uow:
            events.publish(
                uow.events, events.DOSSIER_ACCEPTED, {"dossier": {"n": n}}, at=T0, dossier_id=dossier_id
            )


def page(client: AppClient, **params: Any) -> dict[str, Any]:
    answer = client.get("/v1/feed", params=params, headers=BACK_OFFICE)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [e["id"] for e in body["events"]]


def test_events_in_commit_order_with_their_documents(client: AppClient, feed_store: Store) -> None:
    publish(feed_store, ["DOS-A", None, "DOS-B"])
    body = page(client)
    assert body == {
        "events": [
            {
                "id": "1",
                "type": "dossier.accepted",
                "dossier_id": "DOS-A",
                "created_at": "2026-11-23T10:00:00Z",
                "data": {"dossier": {"n": 0}},
            },
            {
                "id": "2",
                "type": "dossier.accepted",
                "dossier_id": None,
                "created_at": "2026-11-23T10:00:00Z",
                "data": {"dossier": {"n": 1}},
            },
            {
                "id": "3",
                "type": "dossier.accepted",
                "dossier_id": "DOS-B",
                "created_at": "2026-11-23T10:00:00Z",
                "data": {"dossier": {"n": 2}},
            },
        ],
        "next": "3",
        "has_more": False,
    }


def test_paging_with_next_visits_every_event_once(client: AppClient, feed_store: Store) -> None:
    publish(feed_store, [f"DOS-{n}" for n in range(7)])
    seen: list[str] = []
    cursor = "0"
    pages = 0
    while True:
        body = page(client, after=cursor, limit=3)
        pages += 1
        seen += ids(body)
        assert body["has_more"] == (len(seen) < 7)
        cursor = body["next"]
        if not body["has_more"]:
            break
    assert pages == 3
    assert seen == [str(n) for n in range(1, 8)]
    # At the end, the cursor stays where it is until something new is committed.
    assert page(client, after=cursor) == {"events": [], "next": "7", "has_more": False}
    publish(feed_store, ["DOS-new"])
    assert ids(page(client, after=cursor)) == ["8"]


def test_a_cursor_is_stable(client: AppClient, feed_store: Store) -> None:
    publish(feed_store, ["DOS-1", "DOS-2", "DOS-3", "DOS-4"])
    first = page(client, after="2", limit=1)
    assert page(client, after="2", limit=1) == first
    publish(feed_store, ["DOS-5"])
    again = page(client, after="2", limit=1)
    assert again["events"] == first["events"]
    assert again["next"] == "3"
    assert ids(page(client, after="2")) == ["3", "4", "5"]


def test_no_cursor_and_zero_start_at_the_beginning_default_limit_100(
    client: AppClient, feed_store: Store
) -> None:
    publish(feed_store, [None] * 101)
    first = page(client)
    assert len(first["events"]) == 100
    assert first["has_more"] is True
    assert first["next"] == "100"
    assert page(client, after="0", limit=1000)["events"] == page(client, limit=1000)["events"]
    assert page(client, limit=1000)["has_more"] is False


@pytest.mark.parametrize("cursor", ["abc", "-1", "01", "1.5", " 1", "+1", "9" * 20, "9223372036854775808"])
def test_a_cursor_we_never_gave_is_a_400_problem(client: AppClient, cursor: str) -> None:
    answer = client.get("/v1/feed", params={"after": cursor}, headers=BACK_OFFICE)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert [(e["code"], e["field"]) for e in answer.json()["errors"]] == [("malformed-payload", "after")]


@pytest.mark.parametrize("cursor", ["999", "4"])
def test_a_well_formed_cursor_past_the_last_event_is_a_400_problem(
    client: AppClient, feed_store: Store, cursor: str
) -> None:
    # issue 14: `after=999` answered 200 with `next: "999"`: a stale cursor silently skipped events.
    publish(feed_store, ["DOS-1", "DOS-2", "DOS-3"])
    answer = client.get("/v1/feed", params={"after": cursor}, headers=BACK_OFFICE)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert [(e["code"], e["field"]) for e in answer.json()["errors"]] == [("malformed-payload", "after")]
    assert ids(page(client, after="3")) == []  # the last event's id is a cursor the feed gives out


@pytest.mark.parametrize("limit", ["0", "1001", "-5", "ten"])
def test_a_limit_outside_1_to_1000_is_a_400_problem(client: AppClient, limit: str) -> None:
    answer = client.get("/v1/feed", params={"limit": limit}, headers=BACK_OFFICE)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["code"] == "malformed-payload"


@pytest.mark.parametrize("role", ["greffe", "avocat", "notaire"])
def test_only_the_back_office_reads_the_feed(client: AppClient, feed_store: Store, role: str) -> None:
    publish(feed_store, ["DOS-1"])
    answer = client.get("/v1/feed", headers={"x-test-role": role})
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "forbidden-role"
    # A bad query from the wrong role is still a 403: nothing is validated for strangers.
    assert client.get("/v1/feed?after=zz", headers={"x-test-role": role}).status_code == 403


def test_no_certificate_is_401(client: AppClient) -> None:
    answer = client.get("/v1/feed")
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["code"] == "unknown-role"


def test_the_feed_service_refuses_limits_outside_the_contract_itself(feed_store: Store) -> None:
    from gateway.errors import MalformedPayload

    feed = EventFeed(feed_store)
    for limit in (0, 1001):
        with pytest.raises(MalformedPayload):
            feed.page(0, limit)


def test_sql_store_feed_matches_memory_order(tmp_path: Any) -> None:
    sql = open_sql_store(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        add_events(sql, ["A", "B"])
        assert [e["id"] for e in EventFeed(sql).page(0, 10).events] == ["1", "2"]
    finally:
        sql.close()
