"""Receiver-side check of the gateway's webhooks (Standard Webhooks v1), for back-office consumers.

Pure standard library: copy this one file into the receiving application if it does not install
the gateway. A delivery carries three headers (https://www.standardwebhooks.com/):

    webhook-id          the message id, the same on every retry of one event (deduplicate on it)
    webhook-timestamp   Unix seconds when this attempt was signed
    webhook-signature   "v1,<base64 HMAC-SHA256>" entries separated by spaces

The HMAC key is the base64 part of the subscription secret after `whsec_`; the signed content is
`{webhook-id}.{webhook-timestamp}.{raw body}`. Verify the raw bytes as received, before any JSON
parsing, and refuse timestamps outside a tolerance (default five minutes) against replays:

    from gateway.signing.webhooks import WebhookVerificationError, verify

    try:
        verify(secret, request.headers, raw_body)
    except WebhookVerificationError:
        return 400  # not from the gateway, altered, or replayed
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of secrets, not one
DEFAULT_TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(ValueError):
    """The delivery is not authentic: missing header, bad signature, or stale timestamp."""


def decode_secret(secret: str | bytes) -> bytes:
    """The HMAC key of a `whsec_...` secret (raw bytes are taken as the key itself)."""
    if isinstance(secret, bytes):
        return secret
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        # The secret itself is never part of the message: it would end up in someone's logs.
        raise WebhookVerificationError("the secret is not whsec_ followed by base64") from None


def sign(secret: str | bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value of one message: `v1,` + base64 HMAC-SHA256."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """Check a delivery; return its `webhook-id` (for deduplication) or raise WebhookVerificationError.

    `headers` may use any letter case; `now` (Unix seconds) is for tests.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not msg_id or not stamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not stamp.isascii() or not stamp.isdigit():
        raise WebhookVerificationError("webhook-timestamp is not Unix seconds")
    timestamp = int(stamp)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise WebhookVerificationError("webhook-timestamp outside the tolerance (stale or future)")
    expected = sign(secret, msg_id, timestamp, body).encode("ascii")
    for candidate in signatures.split(" "):
        # Several entries appear while a secret is being rotated; any valid v1 entry is enough.
        if candidate.startswith("v1,") and hmac.compare_digest(
            candidate.encode("ascii", "replace"), expected
        ):
            return msg_id
    raise WebhookVerificationError("no valid v1 signature")
