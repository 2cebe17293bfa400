"""CSRF protection of the console's actions: a double-submit token bound to the caller's certificate.

The identity is the client certificate, which the browser presents on every request, a forged one
from another site included: so every action is a POST that must carry, in its form, the token the
console set in a cookie. A token is `nonce.mac` with mac = HMAC-SHA256(key, nonce | certificate
fingerprint): another site can neither read the cookie nor make a token for this certificate, and
a token taken from another operator's browser is refused. The cookie is `__Host-` (Secure, Path=/,
no Domain), HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "__Host-console-csrf"
FIELD = "csrf_token"


def _mac(key: bytes, nonce: str, fingerprint: str) -> str:
    return hmac.new(key, f"{nonce}|{fingerprint}".encode(), hashlib.sha256).hexdigest()


def new_token(key: bytes, fingerprint: str) -> str:
    nonce = secrets.token_hex(16)
    return f"{nonce}.{_mac(key, nonce, fingerprint)}"


def valid_for(key: bytes, token: str | None, fingerprint: str) -> bool:
    """Whether `token` was made by this console for this certificate."""
    if not token:
        return False
    nonce, _, mac = token.partition(".")
    if not nonce or not mac:
        return False
    return hmac.compare_digest(mac, _mac(key, nonce, fingerprint))


def check(key: bytes, *, cookie: str | None, submitted: str | None, fingerprint: str) -> bool:
    """The double submit: the form's token is the cookie's, and it is this certificate's."""
    if not cookie or not submitted:
        return False
    return hmac.compare_digest(cookie, submitted) and valid_for(key, cookie, fingerprint)
