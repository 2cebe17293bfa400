"""Certificate -> role mapping: explicit rules (fingerprint, subject, issuer) and the dev defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from gateway.config import CertificateRoleRule, Settings
from gateway.transport.http.identity import Role, RoleMap, fingerprint


def cert(pki: Path, name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((pki / f"{name}.pem").read_bytes())


def test_dev_roles_by_subject(e2e_pki: Path) -> None:
    roles = RoleMap()
    assert roles.role_of(cert(e2e_pki, "greffe")) is Role.GREFFE
    assert roles.role_of(cert(e2e_pki, "backoffice")) is Role.BACK_OFFICE
    assert roles.role_of(cert(e2e_pki, "server")) is None
    assert RoleMap(dev_roles=False).role_of(cert(e2e_pki, "greffe")) is None


def test_rules_come_first_and_every_given_field_must_match(e2e_pki: Path) -> None:
    greffe = cert(e2e_pki, "greffe")
    by_print = CertificateRoleRule(
        role="notaire",
        fingerprint_sha256=":".join(fingerprint(greffe).upper()[i : i + 2] for i in range(0, 64, 2)),
    )
    assert RoleMap([by_print]).role_of(greffe) is Role.NOTAIRE
    by_subject = CertificateRoleRule(
        role="avocat",
        subject=greffe.subject.rfc4514_string(),
        issuer=greffe.issuer.rfc4514_string(),
    )
    assert RoleMap([by_subject], dev_roles=False).role_of(greffe) is Role.AVOCAT
    wrong_issuer = CertificateRoleRule(
        role="avocat", subject=greffe.subject.rfc4514_string(), issuer="CN=someone else"
    )
    assert RoleMap([wrong_issuer], dev_roles=False).role_of(greffe) is None
    empty = CertificateRoleRule(role="avocat")  # would match anyone: never applied
    assert RoleMap([empty], dev_roles=False).role_of(greffe) is None


def test_unknown_role_in_a_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="judge"):
        RoleMap([CertificateRoleRule(role="judge", subject="CN=x")])


def test_rules_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_ROLE_RULES", '[{"role": "greffe", "subject": "CN=TJ Paris,O=Justice"}]')
    monkeypatch.setenv("GATEWAY_DEV_ROLES", "false")
    monkeypatch.setenv("GATEWAY_TRUSTED_PROXIES", '["10.0.0.0/8"]')
    settings = Settings()
    assert settings.role_rules == [CertificateRoleRule(role="greffe", subject="CN=TJ Paris,O=Justice")]
    assert settings.dev_roles is False
    assert settings.trusted_proxies == ["10.0.0.0/8"]


def _tls_scope(certificate: x509.Certificate) -> dict[str, object]:
    from cryptography.hazmat.primitives.serialization import Encoding

    der = certificate.public_bytes(Encoding.DER)
    return {"client": ("127.0.0.1", 50000), "extensions": {"tls": {"client_cert_der": der}}}


def test_tls_callers_are_worked_out_once_per_certificate(e2e_pki: Path) -> None:
    from gateway.errors import AuthenticationError
    from gateway.transport.http.identity import Authenticator

    calls: list[str] = []

    class CountingRoleMap(RoleMap):
        def role_of(self, cert: x509.Certificate) -> Role | None:
            calls.append(cert.subject.rfc4514_string())
            return super().role_of(cert)

    authenticator = Authenticator(CountingRoleMap())
    greffe, notaire, server = (cert(e2e_pki, n) for n in ("greffe", "notaire", "server"))
    first = authenticator.authenticate(_tls_scope(greffe), {})
    again = authenticator.authenticate(_tls_scope(greffe), {})
    other = authenticator.authenticate(_tls_scope(notaire), {})
    assert first is again
    assert (first.role, first.via) == (Role.GREFFE, "tls")
    assert other.role is Role.NOTAIRE
    assert other.fingerprint_sha256 != first.fingerprint_sha256
    assert len(calls) == 2  # one mapping per certificate, not per request
    for _ in range(2):  # a certificate mapping to no role is refused every time, never remembered
        with pytest.raises(AuthenticationError, match="no role"):
            authenticator.authenticate(_tls_scope(server), {})
    assert len(calls) == 4
