"""Detached CMS and XAdES signatures, checked by the real `openssl cms` and `xmlsec1`."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from gateway.config import Settings
from gateway.devtools.pki import DevPki, init_dev_pki
from gateway.errors import ConfigurationError
from gateway.signing.cms import InvalidSignature, Signer, sign_xml, verify_detached, verify_xml

PAYLOAD = b"<TransmissionGreffe>\r\n  caf\xc3\xa9 \x00\xff binary-safe\n</TransmissionGreffe>"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    directory = tmp_path_factory.mktemp("pki")
    init_dev_pki(directory)
    return DevPki(directory)


@pytest.fixture(scope="module")
def signer(pki: DevPki) -> Signer:
    return Signer.from_settings(Settings(certs_dir=pki.directory))


def openssl_cms_verify(tmp: Path, signature: bytes, content: bytes, ca: Path) -> int:
    (tmp / "sig.der").write_bytes(signature)
    (tmp / "content.bin").write_bytes(content)
    done = subprocess.run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER",
            "-in", str(tmp / "sig.der"), "-content", str(tmp / "content.bin"),
            "-CAfile", str(ca), "-purpose", "any", "-out", "/dev/null",
        ],
        capture_output=True,
        check=False,
    )  # fmt: skip
    return done.returncode


def test_openssl_verifies_our_detached_signature(tmp_path: Path, pki: DevPki, signer: Signer) -> None:
    signature = signer.sign_detached(PAYLOAD)
    assert openssl_cms_verify(tmp_path, signature, PAYLOAD, pki.ca.cert) == 0
    # and also without `-purpose any`: the signer certificate suits S/MIME signing
    done = subprocess.run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "sig.der"),
            "-content", str(tmp_path / "content.bin"), "-CAfile", str(pki.ca.cert),
            "-out", "/dev/null",
        ],
        capture_output=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_openssl_refuses_a_changed_byte_or_a_wrong_ca(tmp_path: Path, pki: DevPki, signer: Signer) -> None:
    signature = signer.sign_detached(PAYLOAD)
    changed = bytearray(PAYLOAD)
    changed[5] ^= 0x01
    assert openssl_cms_verify(tmp_path, signature, bytes(changed), pki.ca.cert) != 0
    assert openssl_cms_verify(tmp_path, signature, PAYLOAD, pki.untrusted_ca.cert) != 0


def test_our_verifier_agrees_with_openssl(pki: DevPki, signer: Signer) -> None:
    signature = signer.sign_detached(PAYLOAD)
    verified = verify_detached(signature, PAYLOAD, ca_file=pki.ca.cert)
    assert verified.signer == signer.cert
    assert verified.signing_time is not None
    assert verified.signing_time.tzinfo == UTC
    changed = PAYLOAD[:-1] + b"!"
    with pytest.raises(InvalidSignature, match="message digest"):
        verify_detached(signature, changed, ca_file=pki.ca.cert)
    with pytest.raises(InvalidSignature, match="not trusted"):
        verify_detached(signature, PAYLOAD, ca_file=pki.untrusted_ca.cert)


def test_our_verifier_refuses_a_tampered_signature_value(pki: DevPki, signer: Signer) -> None:
    signature = bytearray(signer.sign_detached(PAYLOAD))
    # the ECDSA signature value is the last bytes of the SignerInfo, at the end of the DER
    signature[-3] ^= 0x40
    with pytest.raises(InvalidSignature) as caught:
        verify_detached(bytes(signature), PAYLOAD, ca_file=pki.ca.cert)
    assert caught.value.code == "signature-invalid"


def test_our_verifier_refuses_garbage_and_an_expired_chain(pki: DevPki, signer: Signer) -> None:
    with pytest.raises(InvalidSignature):
        verify_detached(b"\x30\x03\x02\x01\x00", PAYLOAD, ca_file=pki.ca.cert)
    with pytest.raises(InvalidSignature):
        verify_detached(b"", PAYLOAD, ca_file=pki.ca.cert)
    signature = signer.sign_detached(PAYLOAD)
    with pytest.raises(InvalidSignature, match="not trusted"):
        verify_detached(signature, PAYLOAD, ca_file=pki.ca.cert, at=datetime(2099, 1, 1, tzinfo=UTC))


def test_signer_with_a_foreign_key_is_a_configuration_error(pki: DevPki) -> None:
    with pytest.raises(ConfigurationError, match="not the key"):
        Signer.from_files(pki.signer.cert, pki.client("greffe").key)
    with pytest.raises(ConfigurationError, match="not found"):
        Signer.from_files(pki.directory / "missing.pem", pki.signer.key)


def _signed_document(signer: Signer) -> bytes:
    root = etree.fromstring(
        b'<DossierCanonique xmlns="urn:fr:ifpa:dossier:1"><Montant>150.00</Montant>'
        b"<Nom>Ma\xc3\xafa</Nom></DossierCanonique>"
    )
    fixed = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    signed = sign_xml(root, signer, now=lambda: fixed)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def xmlsec1_verify(tmp: Path, document: bytes, ca: Path) -> subprocess.CompletedProcess[str]:
    path = tmp / "signed.xml"
    path.write_bytes(document)
    return subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(ca), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_xmlsec1_verifies_our_xades_signature(tmp_path: Path, pki: DevPki, signer: Signer) -> None:
    document = _signed_document(signer)
    done = xmlsec1_verify(tmp_path, document, pki.ca.cert)
    assert done.returncode == 0, done.stderr
    assert "SignedInfo References (ok/all): 3/3" in done.stderr
    assert b"<xades:SigningTime>2026-11-02T09:30:00+00:00</xades:SigningTime>" in document
    verify_xml(document, ca_file=pki.ca.cert)


def test_xmlsec1_refuses_a_changed_value_or_a_wrong_ca(tmp_path: Path, pki: DevPki, signer: Signer) -> None:
    document = _signed_document(signer)
    changed = document.replace(b"150.00", b"150.01")
    assert xmlsec1_verify(tmp_path, changed, pki.ca.cert).returncode != 0
    assert xmlsec1_verify(tmp_path, document, pki.untrusted_ca.cert).returncode != 0
    with pytest.raises(InvalidSignature):
        verify_xml(changed, ca_file=pki.ca.cert)
    with pytest.raises(InvalidSignature):
        verify_xml(document, ca_file=pki.untrusted_ca.cert)
