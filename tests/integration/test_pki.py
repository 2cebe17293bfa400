"""The dev PKI: docs/operations.md files, chains OpenSSL accepts, idempotence, key file modes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from gateway.cli import main
from gateway.devtools.pki import DevPki, init_dev_pki

CONTRACT_FILES = {
    "ca.pem",
    "server.pem",
    "server-key.pem",
    "signer.pem",
    "signer-key.pem",
    "greffe.pem",
    "greffe-key.pem",
    "avocat.pem",
    "avocat-key.pem",
    "notaire.pem",
    "notaire-key.pem",
    "backoffice.pem",
    "backoffice-key.pem",
    "expired.pem",
    "expired-key.pem",
    "untrusted-ca.pem",
    "untrusted.pem",
    "untrusted-key.pem",
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    directory = tmp_path_factory.mktemp("pki") / "dev"
    init_dev_pki(directory)
    return DevPki(directory)


def _verify(ca: Path, cert: Path, purpose: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca), "-purpose", purpose, str(cert)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_writes_every_contract_file_with_private_keys_0600(pki: DevPki) -> None:
    names = {p.name for p in pki.directory.iterdir()}
    assert names >= CONTRACT_FILES
    for path in pki.directory.glob("*-key.pem"):
        assert path.stat().st_mode & 0o777 == 0o600, path


@pytest.mark.parametrize("role", ["greffe", "avocat", "notaire", "back-office", "operator"])
def test_client_certificates_chain_to_ca_with_role_in_cn_and_ou(pki: DevPki, role: str) -> None:
    pair = pki.client(role)
    assert _verify(pki.ca.cert, pair.cert, "sslclient").returncode == 0
    cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == role
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == role


def test_server_certificate_names_localhost_and_loopback(pki: DevPki) -> None:
    assert _verify(pki.ca.cert, pki.server.cert, "sslserver").returncode == 0
    cert = x509.load_pem_x509_certificate(pki.server.cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_signer_is_accepted_for_smime_signing(pki: DevPki) -> None:
    assert _verify(pki.ca.cert, pki.signer.cert, "smimesign").returncode == 0


def test_expired_and_untrusted_are_refused(pki: DevPki) -> None:
    expired = _verify(pki.ca.cert, pki.expired.cert, "sslclient")
    assert expired.returncode != 0
    assert "expired" in expired.stdout + expired.stderr
    assert _verify(pki.ca.cert, pki.untrusted.cert, "sslclient").returncode != 0
    assert _verify(pki.untrusted_ca.cert, pki.untrusted.cert, "sslclient").returncode == 0


def test_idempotent_and_force_renews(tmp_path: Path) -> None:
    init_dev_pki(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    init_dev_pki(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    # a lost certificate is issued again for the same key; no key changes
    (tmp_path / "greffe.pem").unlink()
    init_dev_pki(tmp_path)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert {k: v for k, v in after.items() if k != "greffe.pem"} == {
        k: v for k, v in before.items() if k != "greffe.pem"
    }
    assert _verify(tmp_path / "ca.pem", tmp_path / "greffe.pem", "sslclient").returncode == 0
    init_dev_pki(tmp_path, force=True)
    renewed = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert all(renewed[name] != before[name] for name in before)


def test_cli_certs_init(tmp_path: Path) -> None:
    target = tmp_path / "dev"
    result = CliRunner().invoke(main, ["certs", "init", "--dir", str(target)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in target.iterdir()} >= CONTRACT_FILES


def test_operator_bundle_is_a_pkcs12_a_browser_imports(pki: DevPki) -> None:
    """operator.p12: the operator's key, certificate and the CA, under the documented password;
    OpenSSL (like NSS's pk12util in the browser tests) reads it."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    from gateway.devtools.pki import OPERATOR_P12_PASSWORD

    assert pki.operator_p12.stat().st_mode & 0o777 == 0o600
    bundle = pkcs12.load_pkcs12(pki.operator_p12.read_bytes(), OPERATOR_P12_PASSWORD.encode())
    assert bundle.cert is not None
    assert bundle.cert.certificate.public_bytes(Encoding.PEM) == pki.client("operator").cert.read_bytes()
    assert [c.certificate.subject for c in bundle.additional_certs] == [
        x509.load_pem_x509_certificate(pki.ca.cert.read_bytes()).subject
    ]
    opened = subprocess.run(
        ["openssl", "pkcs12", "-in", str(pki.operator_p12), "-passin", f"pass:{OPERATOR_P12_PASSWORD}",
         "-nokeys", "-clcerts"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    assert "CN=operator" in opened.stdout.replace(" = ", "=")
    wrong = pki.operator_p12.read_bytes()
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(wrong, b"not the password")
