"""Mutual TLS end to end: roles from client certificates, refusals, RFC 9440 from a trusted proxy."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography import x509

from gateway.transport.http.identity import client_cert_header_value
from tests.e2e.conftest import PROXY_ADDRESS
from tests.e2e.harness import Clients

PROBLEM = "application/problem+json"


def header_for(pki: Path, name: str) -> str:
    return client_cert_header_value(x509.load_pem_x509_certificate((pki / f"{name}.pem").read_bytes()))


@pytest.mark.parametrize(
    ("identity", "role"),
    [
        ("greffe", "greffe"),
        ("avocat", "avocat"),
        ("notaire", "notaire"),
        ("backoffice", "back-office"),
    ],
)
def test_each_role_is_recognised(clients: Clients, identity: str, role: str) -> None:
    answer = clients.get(identity, "/v1/whoami")
    assert answer.status_code == 200
    body = answer.json()
    assert body["role"] == role
    assert body["via"] == "tls"
    assert len(body["fingerprint_sha256"]) == 64


@pytest.mark.parametrize("identity", [None, "untrusted", "expired"])
def test_handshake_refused(clients: Clients, identity: str | None) -> None:
    # No certificate, one from a CA we do not trust, an expired one: the TLS handshake fails
    # (with TLS 1.3 the client learns it on its first read), no HTTP answer at all.
    with pytest.raises(httpx.TransportError):
        clients.get(identity, "/healthz")


def test_wrong_role_is_forbidden(clients: Clients) -> None:
    answer = clients.as_("notaire").post(
        "/test/greffe-only", content=b"<x/>", headers={"content-type": "application/xml"}
    )
    assert answer.status_code == 403
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["status"] == 403
    assert [e["code"] for e in problem["errors"]] == ["forbidden-role"]


def test_right_role_passes(clients: Clients) -> None:
    answer = clients.as_("greffe").post(
        "/test/greffe-only",
        content=b"<x/>",
        headers={"content-type": "application/xml; charset=utf-8"},
    )
    assert answer.status_code == 200
    assert answer.json() == {"role": "greffe", "size": 4}


def test_forged_client_cert_header_from_a_non_proxy_is_ignored(clients: Clients, e2e_pki: Path) -> None:
    forged = {"client-cert": header_for(e2e_pki, "backoffice")}
    answer = clients.get("greffe", "/v1/whoami", headers=forged)
    assert answer.status_code == 200
    assert answer.json()["role"] == "greffe"  # the connection's certificate, not the header's
    assert answer.json()["via"] == "tls"
    refused = clients.as_("notaire").post(
        "/test/greffe-only",
        content=b"<x/>",
        headers={"content-type": "application/xml", **{"client-cert": header_for(e2e_pki, "greffe")}},
    )
    assert refused.status_code == 403


def test_client_cert_header_from_the_trusted_proxy_is_honoured(clients: Clients, e2e_pki: Path) -> None:
    proxy = clients.as_("backoffice", local_address=PROXY_ADDRESS)
    answer = proxy.get("/v1/whoami", headers={"client-cert": header_for(e2e_pki, "notaire")})
    assert answer.status_code == 200
    assert answer.json()["role"] == "notaire"
    assert answer.json()["via"] == "proxy"


@pytest.mark.parametrize(
    "header",
    [None, "expired", "untrusted", ":bm90IGEgY2VydGlmaWNhdGU=:", "not-a-byte-sequence"],
)
def test_trusted_proxy_without_a_usable_header_is_unauthenticated(
    clients: Clients, e2e_pki: Path, header: str | None
) -> None:
    headers = {}
    if header is not None:
        headers["client-cert"] = header_for(e2e_pki, header) if header.isalpha() else header
    proxy = clients.as_("backoffice", local_address=PROXY_ADDRESS)
    answer = proxy.get("/v1/whoami", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["errors"][0]["code"] == "unknown-role"
