"""The HTTP edge over real TLS: size limit (413), media types (415), problem+json, health, metrics."""

from __future__ import annotations

from collections.abc import Iterator

from tests.e2e.conftest import MAX_PAYLOAD, Toggle
from tests.e2e.harness import Clients

PROBLEM = "application/problem+json"
XML = {"content-type": "application/xml"}


def test_oversize_body_with_content_length(clients: Clients) -> None:
    answer = clients.as_("greffe").post("/test/greffe-only", content=b"x" * (MAX_PAYLOAD + 1), headers=XML)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["status"] == 413
    assert problem["errors"][0]["code"] == "payload-too-large"


def test_oversize_chunked_body(clients: Clients) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(4):
            yield b"x" * (MAX_PAYLOAD // 2)

    answer = clients.as_("greffe").post("/test/greffe-only", content=chunks(), headers=XML)
    assert answer.request.headers.get("transfer-encoding") == "chunked"
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["code"] == "payload-too-large"


def test_oversize_chunked_body_on_a_parsed_json_route(clients: Clients) -> None:
    # FastAPI turns any failure while reading a declared body into a 400; the limit must win.
    def chunks() -> Iterator[bytes]:
        yield b'{"a": "'
        for _ in range(3):
            yield b"x" * (MAX_PAYLOAD // 2)
        yield b'"}'

    avocat = clients.as_("avocat")
    answer = avocat.post("/test/json-body", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["code"] == "payload-too-large"
    small = avocat.post("/test/json-body", json={"a": "b"})
    assert small.status_code == 200
    assert small.json() == {"keys": 1}
    broken = avocat.post("/test/json-body", content=b'{"a": ', headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert broken.headers["content-type"] == PROBLEM
    assert broken.json()["errors"][0]["code"] == "malformed-payload"


def test_body_at_the_limit_passes(clients: Clients) -> None:
    answer = clients.as_("greffe").post("/test/greffe-only", content=b"x" * MAX_PAYLOAD, headers=XML)
    assert answer.status_code == 200
    assert answer.json()["size"] == MAX_PAYLOAD


def test_wrong_media_type(clients: Clients) -> None:
    greffe = clients.as_("greffe")
    for content_type in ("application/json", None):
        headers = {"content-type": content_type} if content_type else {}
        answer = greffe.post("/test/greffe-only", content=b"{}", headers=headers)
        assert answer.status_code == 415
        assert answer.headers["content-type"] == PROBLEM
        problem = answer.json()
        assert problem["status"] == 415
        assert problem["errors"] == [
            {
                "code": "malformed-payload",
                "field": "Content-Type",
                "message": problem["errors"][0]["message"],
            }
        ]
        assert problem["type"].endswith("malformed-payload")


def test_unknown_path_is_a_problem(clients: Clients) -> None:
    answer = clients.get("greffe", "/v1/nowhere")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["errors"][0]["code"] == "not-found"


def test_healthz(clients: Clients) -> None:
    answer = clients.get("greffe", "/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_readyz_follows_its_checks(clients: Clients, readiness_toggle: Toggle) -> None:
    assert clients.get("backoffice", "/readyz").json() == {
        "status": "ok",
        "checks": {"store": "ok"},
    }
    readiness_toggle.up = False
    try:
        answer = clients.get("backoffice", "/readyz")
        assert answer.status_code == 503
        assert answer.json()["checks"] == {"store": "unavailable"}
    finally:
        readiness_toggle.up = True


def test_metrics(clients: Clients) -> None:
    clients.get("avocat", "/v1/whoami")
    clients.as_("greffe").post("/test/greffe-only", content=b"<x/>", headers=XML)
    answer = clients.get("backoffice", "/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert 'gateway_http_requests_total{method="GET",path="/v1/whoami",status="200"}' in text
    assert "gateway_http_request_duration_seconds_bucket{" in text
    assert 'gateway_intake_total{code="",outcome="accepted",source="greffe"}' in text
    assert 'gateway_intake_total{code="invalid-iban",outcome="rejected",source="greffe"}' in text
    # unmatched paths are one label, not one per URL tried
    clients.get("greffe", "/v1/nowhere/12345")
    assert "/v1/nowhere/12345" not in clients.get("backoffice", "/metrics").text
