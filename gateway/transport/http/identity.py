"""Who is calling: the role of a verified client certificate (mutual TLS, or RFC 9440 from a proxy).

The certificate comes from the TLS connection (put in the ASGI scope by gateway.transport.http.tls)
or, only when the TCP peer is a configured trusted proxy, from the RFC 9440 `Client-Cert` header;
a `Client-Cert` header from anyone else is ignored. The role comes from configured rules
(fingerprint, subject, issuer) and, when `dev_roles` is on, from the subject's OU or CN.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from fastapi import Depends, Request

from gateway.config import CertificateRoleRule
from gateway.errors import AuthenticationError, Code, ForbiddenRole

log = logging.getLogger(__name__)

CLIENT_CERT_HEADER = "client-cert"  # RFC 9440 §2.2
_CALLER_CACHE_SIZE = 4096  # distinct client certificates remembered (cleared when full)


class Role(StrEnum):
    """The callers of the gateway (docs/http-api.md "Roles")."""

    GREFFE = "greffe"
    AVOCAT = "avocat"
    NOTAIRE = "notaire"
    BACK_OFFICE = "back-office"
    OPERATOR = "operator"  # the fund's agents: the console (/console/), nothing else


# Spellings found in certificate subjects for each role (file stems of `certs init` included).
_ROLE_NAMES: dict[str, Role] = {r.value: r for r in Role} | {"backoffice": Role.BACK_OFFICE}


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of one request."""

    role: Role
    subject: str
    fingerprint_sha256: str
    via: str  # "tls": the connection's own certificate; "proxy": RFC 9440 header from a proxy


def fingerprint(cert: x509.Certificate) -> str:
    """Hex SHA-256 of the certificate's DER encoding."""
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def _normalise_fingerprint(value: str) -> str:
    return value.replace(":", "").strip().lower()


class RoleMap:
    """Certificate -> role: explicit rules in order, then (dev) the subject's OU or CN."""

    def __init__(self, rules: Sequence[CertificateRoleRule] = (), *, dev_roles: bool = True) -> None:
        self._rules = [
            (
                Role(rule.role),
                None if rule.fingerprint_sha256 is None else _normalise_fingerprint(rule.fingerprint_sha256),
                rule.subject,
                rule.issuer,
            )
            for rule in rules
        ]
        self._dev_roles = dev_roles

    def role_of(self, cert: x509.Certificate) -> Role | None:
        print_ = fingerprint(cert)
        subject, issuer = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
        for role, fp, subj, iss in self._rules:
            if fp is None and subj is None and iss is None:
                continue  # a rule without criteria would match everyone: never
            if (
                (fp is None or fp == print_)
                and (subj is None or subj == subject)
                and (iss is None or iss == issuer)
            ):
                return role
        if self._dev_roles:
            for oid in (NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.COMMON_NAME):
                for attribute in cert.subject.get_attributes_for_oid(oid):
                    value = attribute.value
                    named = _ROLE_NAMES.get(value.lower() if isinstance(value, str) else "")
                    if named is not None:
                        return named
        return None


def parse_client_cert_header(value: str) -> x509.Certificate:
    """RFC 9440 `Client-Cert`: a structured-field byte sequence, base64 DER between colons."""
    value = value.strip()
    if len(value) < 2 or value[0] != ":" or value[-1] != ":":
        raise ValueError("Client-Cert is not a structured-field byte sequence")
    try:
        der = base64.b64decode(value[1:-1], validate=True)
    except binascii.Error as exc:
        raise ValueError("Client-Cert is not base64") from exc
    return x509.load_der_x509_certificate(der)


def client_cert_header_value(cert: x509.Certificate) -> str:
    """What a proxy would send for `cert` (for tests and for integrators' proxies)."""
    return ":" + base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii") + ":"


def load_ca_certificates(pem: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem)


Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Authenticator:
    """Finds the verified client certificate of a request and the role it maps to."""

    def __init__(
        self,
        role_map: RoleMap,
        *,
        trusted_proxies: Iterable[str] = (),
        proxy_ca: Sequence[x509.Certificate] = (),
        clock: Clock = _utcnow,
    ) -> None:
        self.role_map = role_map
        self._proxies = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        # The proxy verified the chain; we check again that our CA issued it and that it is
        # current, so a misconfigured proxy cannot let any certificate in.
        self._proxy_ca = list(proxy_ca)
        self._clock = clock
        self._tls_callers: dict[bytes, Caller] = {}

    def is_trusted_proxy(self, host: str | None) -> bool:
        if not host or not self._proxies:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._proxies)

    def certificate(self, scope: Mapping[str, Any], headers: Any) -> x509.Certificate | bytes:
        """The caller's certificate: parsed from a proxy's header, or the DER of the TLS peer's.

        AuthenticationError if there is none.
        """
        client = scope.get("client")
        peer = client[0] if client else None
        header = headers.get(CLIENT_CERT_HEADER)
        if self.is_trusted_proxy(peer):
            # Behind a proxy the TLS peer is the proxy itself: only the header names the caller.
            if not header:
                raise AuthenticationError("no Client-Cert header from the proxy", code=Code.UNKNOWN_ROLE)
            try:
                cert = parse_client_cert_header(header)
            except ValueError as exc:
                raise AuthenticationError("unreadable Client-Cert header", code=Code.UNKNOWN_ROLE) from exc
            self._check_forwarded(cert)
            return cert
        if header:
            log.warning("Client-Cert header from %s, not a trusted proxy: ignored", peer)
        der = ((scope.get("extensions") or {}).get("tls") or {}).get("client_cert_der")
        if not der:
            raise AuthenticationError("no client certificate", code=Code.UNKNOWN_ROLE)
        return bytes(der)

    def _check_forwarded(self, cert: x509.Certificate) -> None:
        now = self._clock()
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise AuthenticationError("forwarded certificate not valid now", code=Code.UNKNOWN_ROLE)
        for ca in self._proxy_ca:
            try:
                cert.verify_directly_issued_by(ca)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return
        raise AuthenticationError(
            "forwarded certificate not issued by the trusted CA", code=Code.UNKNOWN_ROLE
        )

    def authenticate(self, scope: Mapping[str, Any], headers: Any) -> Caller:
        found = self.certificate(scope, headers)
        if isinstance(found, x509.Certificate):
            return self._caller(found, "proxy")  # its dates are checked at every request
        # A TLS peer's certificate was verified by the handshake; its role depends only on its
        # bytes and on the settings, so it is worked out once per certificate, not per request.
        caller = self._tls_callers.get(found)
        if caller is None:
            caller = self._caller(x509.load_der_x509_certificate(found), "tls")
            if len(self._tls_callers) >= _CALLER_CACHE_SIZE:
                self._tls_callers.clear()
            self._tls_callers[found] = caller
        return caller

    def _caller(self, cert: x509.Certificate, via: str) -> Caller:
        role = self.role_map.role_of(cert)
        if role is None:
            raise AuthenticationError("certificate maps to no role", code=Code.UNKNOWN_ROLE)
        return Caller(role, cert.subject.rfc4514_string(), fingerprint(cert), via)


async def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.gateway.authenticator
    return authenticator


AuthenticatorDep = Annotated[Authenticator, Depends(get_authenticator)]


async def authenticated(request: Request, authenticator: AuthenticatorDep) -> Caller:
    """The caller of this request, any role (401 unknown-role without a usable certificate)."""
    caller = getattr(request.state, "caller", None)
    if isinstance(caller, Caller):
        return caller
    caller = authenticator.authenticate(request.scope, request.headers)
    request.state.caller = caller
    return caller


CallerDep = Annotated[Caller, Depends(authenticated)]


def require_role(*roles: Role) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency: the caller if its role is one of `roles` (403 forbidden-role otherwise).

    Use as `Annotated[Caller, Depends(require_role(Role.GREFFE))]`.
    """
    allowed = frozenset(roles)

    async def dependency(caller: CallerDep) -> Caller:
        if caller.role not in allowed:
            raise ForbiddenRole(f"role {caller.role} may not call this path", code=Code.FORBIDDEN_ROLE)
        return caller

    return dependency
