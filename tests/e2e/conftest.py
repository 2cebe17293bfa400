"""End-to-end fixtures: a dev PKI, and the gateway app served over real mutual TLS on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request

from gateway.devtools.pki import init_dev_pki
from gateway.transport.http import (
    Authenticator,
    Caller,
    Metrics,
    Role,
    RoleMap,
    create_app,
    require_media_type,
    require_role,
)
from gateway.transport.http.identity import load_ca_certificates
from tests.e2e.harness import Clients, running_server

MAX_PAYLOAD = 4096
# Loopback has a whole /8: connections from 127.0.0.2 stand for the reverse proxy.
PROXY_ADDRESS = "127.0.0.2"


class Toggle:
    """A readiness check the tests can make fail."""

    def __init__(self) -> None:
        self.up = True

    def __call__(self) -> None:
        if not self.up:
            raise ConnectionError("down")


def demo_router() -> APIRouter:
    """A greffe-only route taking XML, standing in for the intake routes in these tests."""
    router = APIRouter()

    @router.post(
        "/test/greffe-only",
        dependencies=[Depends(require_media_type("application/xml"))],
    )
    async def greffe_only(
        request: Request, caller: Annotated[Caller, Depends(require_role(Role.GREFFE))]
    ) -> dict[str, object]:
        body = await request.body()
        metrics: Metrics = request.app.state.gateway.metrics
        metrics.accepted("greffe")
        metrics.rejected("greffe", "invalid-iban")
        return {"role": caller.role.value, "size": len(body)}

    @router.post("/test/json-body")
    async def json_body(
        item: dict[str, str], caller: Annotated[Caller, Depends(require_role(Role.AVOCAT))]
    ) -> dict[str, int]:
        return {"keys": len(item)}

    return router


@pytest.fixture(scope="session")
def e2e_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("e2e-pki")
    init_dev_pki(directory)
    return directory


@pytest.fixture(scope="session")
def readiness_toggle() -> Toggle:
    return Toggle()


@pytest.fixture(scope="session")
def e2e_app(e2e_pki: Path, readiness_toggle: Toggle) -> FastAPI:
    authenticator = Authenticator(
        RoleMap(),
        trusted_proxies=[PROXY_ADDRESS],
        proxy_ca=load_ca_certificates((e2e_pki / "ca.pem").read_bytes()),
    )
    return create_app(
        authenticator=authenticator,
        readiness={"store": readiness_toggle},
        max_payload_bytes=MAX_PAYLOAD,
        extra_routers=[demo_router()],
    )


@pytest.fixture(scope="session")
def server(e2e_app: FastAPI, e2e_pki: Path) -> Iterator[str]:
    with running_server(e2e_app, e2e_pki) as base_url:
        yield base_url


@pytest.fixture
def clients(server: str, e2e_pki: Path) -> Iterator[Clients]:
    found = Clients(server, e2e_pki)
    yield found
    found.close()
