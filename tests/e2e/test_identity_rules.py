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
