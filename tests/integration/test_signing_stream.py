"""Detached CMS signatures of big files from a streamed digest, checked by the real `openssl cms`."""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gateway.devtools.pki import DevPki, init_dev_pki
from gateway.signing.cms import InvalidSignature, Signer, _parse_signed_data, verify_detached


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    directory = tmp_path_factory.mktemp("pki")
    init_dev_pki(directory)
    return DevPki(directory)


@pytest.fixture(scope="module")
def signer(pki: DevPki) -> Signer:
    return Signer.from_files(pki.signer.cert, pki.signer.key)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "pain008.xml"
    block = os.urandom(1 << 20)
    with path.open("wb") as out:
        for i in range(6):  # 6 MB, several read chunks, binary bytes included
            out.write(block[i:] + block[:i])
    return path


def openssl_verify(
    signature: bytes, content: Path, ca: Path, tmp: Path
) -> subprocess.CompletedProcess[bytes]:
    (tmp / "sig.der").write_bytes(signature)
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp / "sig.der"),
         "-content", str(content), "-CAfile", str(ca), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True,
        check=False,
    )  # fmt: skip


def test_openssl_and_our_verifier_accept_a_streamed_file_signature(
    tmp_path: Path, pki: DevPki, signer: Signer, big_file: Path
) -> None:
    moment = datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC)
    signature = signer.sign_detached_file(big_file, signing_time=moment)
    done = openssl_verify(signature, big_file, pki.ca.cert, tmp_path)
    assert done.returncode == 0, done.stderr
    verified = verify_detached(signature, big_file.read_bytes(), ca_file=pki.ca.cert)
    assert verified.signing_time == moment
    assert verified.signer == signer.cert


def test_a_changed_byte_or_a_wrong_ca_fails(
    tmp_path: Path, pki: DevPki, signer: Signer, big_file: Path
) -> None:
    signature = signer.sign_detached_file(big_file)
    changed = tmp_path / "changed.xml"
    data = bytearray(big_file.read_bytes())
    data[3 << 20] ^= 0x01
    changed.write_bytes(bytes(data))
    assert openssl_verify(signature, changed, pki.ca.cert, tmp_path).returncode != 0
    with pytest.raises(InvalidSignature, match="message digest"):
        verify_detached(signature, bytes(data), ca_file=pki.ca.cert)
    untrusted = pki.directory / "untrusted-ca.pem"
    assert openssl_verify(signature, big_file, untrusted, tmp_path).returncode != 0
    with pytest.raises(InvalidSignature, match="not trusted"):
        verify_detached(signature, big_file.read_bytes(), ca_file=untrusted)


def test_same_structure_as_the_in_memory_signature(signer: Signer) -> None:
    data = b"<Document>\x00\xff</Document>"
    ours = _parse_signed_data(signer.sign_detached_digest(hashlib.sha256(data).digest()))
    theirs = _parse_signed_data(signer.sign_detached(data))
    assert ours.message_digest == theirs.message_digest == hashlib.sha256(data).digest()
    assert (ours.signer, ours.certs, ours.sig_alg) == (theirs.signer, theirs.certs, theirs.sig_alg)
    assert ours.signing_time is not None
    # DER SET OF order: content-type, signing-time, message-digest (sorted by their encodings)
    assert ours.signed_attrs[:2] == b"\x31\x69"


def test_generalized_time_after_2049_and_digest_length(signer: Signer, pki: DevPki) -> None:
    moment = datetime(2051, 1, 2, 3, 4, 5, tzinfo=UTC)
    signature = signer.sign_detached_digest(hashlib.sha256(b"x").digest(), signing_time=moment)
    assert _parse_signed_data(signature).signing_time == moment
    verify_detached(signature, b"x", ca_file=pki.ca.cert)
    with pytest.raises(ValueError, match="32 bytes"):
        signer.sign_detached_digest(b"short")


def test_an_rsa_signer_signs_files_too(tmp_path: Path, pki: DevPki, big_file: Path) -> None:
    ca_cert = x509.load_pem_x509_certificate(pki.ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca.key.read_bytes(), password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RSA signer")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    rsa_signer = Signer(cert, key)
    signature = rsa_signer.sign_detached_file(big_file)
    done = openssl_verify(signature, big_file, pki.ca.cert, tmp_path)
    assert done.returncode == 0, done.stderr
    verify_detached(signature, big_file.read_bytes(), ca_file=pki.ca.cert)
