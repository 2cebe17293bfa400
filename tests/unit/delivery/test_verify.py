"""The receiver-side verifier: the specification's vector, our own deliveries, and every refusal."""

from __future__ import annotations

import pytest

from gateway.signing.webhooks import WebhookVerificationError, decode_secret, sign, verify
from tests.unit.delivery.support import SECRET

# Standard Webhooks' published test vector (the same secret as ours).
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(msg_id: str, timestamp: int, body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def test_sign_reproduces_the_specification_vector() -> None:
    assert sign(SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE


def test_verify_accepts_the_vector_in_any_header_case() -> None:
    sent = {
        "Webhook-Id": VECTOR_ID,
        "WEBHOOK-TIMESTAMP": str(VECTOR_TS),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    assert verify(SECRET, sent, VECTOR_BODY, now=VECTOR_TS) == VECTOR_ID


def test_verify_takes_the_raw_key_or_the_base64_without_prefix() -> None:
    sent = headers(VECTOR_ID, VECTOR_TS, VECTOR_BODY)
    assert verify(decode_secret(SECRET), sent, VECTOR_BODY, now=VECTOR_TS) == VECTOR_ID
    assert verify(SECRET.removeprefix("whsec_"), sent, VECTOR_BODY, now=VECTOR_TS) == VECTOR_ID


def test_any_valid_entry_among_several_is_enough() -> None:
    # While a secret is rotated the sender signs with both: space-separated entries.
    other = sign("whsec_" + "QUJD" * 8, VECTOR_ID, VECTOR_TS, VECTOR_BODY)
    sent = headers(VECTOR_ID, VECTOR_TS, VECTOR_BODY) | {"webhook-signature": f"{other} {VECTOR_SIGNATURE}"}
    assert verify(SECRET, sent, VECTOR_BODY, now=VECTOR_TS) == VECTOR_ID


@pytest.mark.parametrize(
    "body",
    [b'{"test": 2432232315}', b'{"test": 2432232314} ', b'{"test":2432232314}', b""],
)
def test_a_tampered_body_is_refused(body: bytes) -> None:
    with pytest.raises(WebhookVerificationError, match="no valid v1 signature"):
        verify(SECRET, headers(VECTOR_ID, VECTOR_TS, VECTOR_BODY), body, now=VECTOR_TS)


def test_a_changed_id_or_timestamp_breaks_the_signature() -> None:
    sent = headers(VECTOR_ID, VECTOR_TS, VECTOR_BODY)
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, sent | {"webhook-id": "msg_other"}, VECTOR_BODY, now=VECTOR_TS)
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, sent | {"webhook-timestamp": str(VECTOR_TS + 1)}, VECTOR_BODY, now=VECTOR_TS)


def test_another_secret_is_refused() -> None:
    sent = headers(VECTOR_ID, VECTOR_TS, VECTOR_BODY, secret="whsec_" + "QUJD" * 8)
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, sent, VECTOR_BODY, now=VECTOR_TS)


@pytest.mark.parametrize("skew", [301, -301, 86_400])
def test_a_stale_or_future_timestamp_is_refused_even_with_a_valid_signature(skew: int) -> None:
    sent = headers(VECTOR_ID, VECTOR_TS, VECTOR_BODY)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(SECRET, sent, VECTOR_BODY, now=VECTOR_TS + skew)


def test_the_tolerance_edge_is_accepted_and_configurable() -> None:
    sent = headers(VECTOR_ID, VECTOR_TS, VECTOR_BODY)
    assert verify(SECRET, sent, VECTOR_BODY, now=VECTOR_TS + 300) == VECTOR_ID
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, sent, VECTOR_BODY, now=VECTOR_TS + 61, tolerance_seconds=60)


@pytest.mark.parametrize(
    "changes",
    [
        {"webhook-id": ""},
        {"webhook-signature": ""},
        {"webhook-timestamp": "abc"},
        {"webhook-timestamp": "-1614265330"},
        {"webhook-timestamp": "1614265330.5"},
        {"webhook-signature": "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
        {"webhook-signature": "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
        {"webhook-signature": "v1,é"},
    ],
)
def test_missing_or_malformed_headers_are_refused(changes: dict[str, str]) -> None:
    sent = headers(VECTOR_ID, VECTOR_TS, VECTOR_BODY) | changes
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, sent, VECTOR_BODY, now=VECTOR_TS)


def test_a_bad_secret_is_reported_without_its_value() -> None:
    with pytest.raises(WebhookVerificationError) as caught:
        decode_secret("whsec_not base64!")
    assert "not base64!" not in str(caught.value)
