"""Development PKI: a CA, TLS server, signer and per-role client certificates (docs/operations.md).

Never for production: production keys are mounted at run time (see certs/README.md). Keys are EC
P-256 (fast to generate, accepted by OpenSSL, xmlsec1 and Python's ssl module) and certificates use
ECDSA with SHA-256.

Besides the files of docs/operations.md, `ca-key.pem` and `untrusted-ca-key.pem` are written so that a later
run can issue a missing certificate (or a test can issue an extra one) under the same CA.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.errors import ConfigurationError

ORGANIZATION = "IFPA gateway dev"
#: role name (certificate CN and OU) -> file stem
CLIENT_ROLES: dict[str, str] = {
    "greffe": "greffe",
    "avocat": "avocat",
    "notaire": "notaire",
    "back-office": "backoffice",
    "operator": "operator",  # the fund's agents, in a browser (/console/)
}
#: The PKCS#12 bundle of the operator's certificate, key and CA, for a browser to import.
#: A development password, written in docs/console.md: the bundle is as secret as operator-key.pem.
OPERATOR_P12 = "operator.p12"
OPERATOR_P12_PASSWORD = "ifpa-dev"  # noqa: S105 - a documented development password
CA_DAYS = 3650
LEAF_DAYS = 825  # the CA/Browser Forum's former maximum; plenty for a dev setup

Now = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CertPair:
    """A certificate file and its private key file."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class DevPki:
    """Where `init_dev_pki` puts each file in a directory (docs/operations.md names)."""

    directory: Path

    @property
    def ca(self) -> CertPair:
        return self._pair("ca")

    @property
    def server(self) -> CertPair:
        return self._pair("server")

    @property
    def signer(self) -> CertPair:
        return self._pair("signer")

    @property
    def expired(self) -> CertPair:
        return self._pair("expired")

    @property
    def untrusted_ca(self) -> CertPair:
        return self._pair("untrusted-ca")

    @property
    def untrusted(self) -> CertPair:
        return self._pair("untrusted")

    def client(self, role: str) -> CertPair:
        """The client pair of a role: greffe, avocat, notaire or back-office."""
        return self._pair(CLIENT_ROLES[role])

    @property
    def operator_p12(self) -> Path:
        return self.directory / OPERATOR_P12

    def all_pairs(self) -> list[CertPair]:
        pairs = [self.ca, self.server, self.signer]
        pairs += [self.client(role) for role in CLIENT_ROLES]
        return [*pairs, self.expired, self.untrusted_ca, self.untrusted]

    def _pair(self, stem: str) -> CertPair:
        return CertPair(self.directory / f"{stem}.pem", self.directory / f"{stem}-key.pem")


@dataclass(frozen=True, slots=True)
class _Issuer:
    pair: CertPair
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey | None  # None: key file absent, nothing can be issued


def init_dev_pki(directory: Path, *, force: bool = False, now: Now = _utcnow) -> None:
    """Create the development PKI in `directory`; idempotent.

    Existing files are kept unless `force`: a missing certificate is issued again (reusing its key
    file when present), and nothing is written when everything is there. Private keys are mode 0600.
    """
    pki = DevPki(directory)
    directory.mkdir(parents=True, exist_ok=True)
    at = now()
    ca = _ensure_ca(pki.ca, "IFPA gateway dev CA", force=force, at=at)
    untrusted_ca = _ensure_ca(pki.untrusted_ca, "Untrusted test CA", force=force, at=at)
    # a renewed CA invalidates everything it signed
    force_leaves = force or ca.renewed
    _ensure_leaf(
        pki.server,
        ca.issuer,
        _name("localhost", "server"),
        _server_extensions(),
        force=force_leaves,
        at=at,
    )
    _ensure_leaf(
        pki.signer,
        ca.issuer,
        _name("IFPA gateway signer", "signer"),
        _signer_extensions(),
        force=force_leaves,
        at=at,
    )
    for role in CLIENT_ROLES:
        _ensure_leaf(
            pki.client(role),
            ca.issuer,
            _name(role, role),
            _client_extensions(),
            force=force_leaves,
            at=at,
        )
    _ensure_p12(pki.operator_p12, pki.client("operator"), ca.issuer.cert, force=force_leaves)
    # already expired, otherwise a valid greffe client certificate of the trusted CA
    _ensure_leaf(
        pki.expired,
        ca.issuer,
        _name("greffe", "greffe"),
        _client_extensions(),
        force=force_leaves,
        at=at,
        not_before=at - timedelta(days=30),
        not_after=at - timedelta(days=1),
    )
    _ensure_leaf(
        pki.untrusted,
        untrusted_ca.issuer,
        _name("greffe", "greffe"),
        _client_extensions(),
        force=force or untrusted_ca.renewed,
        at=at,
    )


@dataclass(frozen=True, slots=True)
class _CaState:
    issuer: _Issuer
    renewed: bool


def _ensure_ca(pair: CertPair, common_name: str, *, force: bool, at: datetime) -> _CaState:
    if not force and pair.cert.exists():
        key_or_none = _load_key(pair.key) if pair.key.exists() else None
        return _CaState(_Issuer(pair, _load_cert(pair.cert), key_or_none), renewed=False)
    key = _load_key(pair.key) if (not force and pair.key.exists()) else _new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - timedelta(minutes=5))
        .not_valid_after(at + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(pair.key, key, overwrite=force)
    _write_file(pair.cert, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return _CaState(_Issuer(pair, cert, key), renewed=True)


def _ensure_leaf(
    pair: CertPair,
    issuer: _Issuer,
    subject: x509.Name,
    extensions: list[tuple[x509.ExtensionType, bool]],
    *,
    force: bool,
    at: datetime,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> None:
    if not force and pair.cert.exists() and pair.key.exists():
        return
    if issuer.key is None:
        raise ConfigurationError(
            f"{issuer.pair.key} is missing: cannot issue {pair.cert}; "
            "run `gateway certs init --force` to renew the whole development PKI",
            field=str(issuer.pair.key),
        )
    if not force and pair.key.exists():
        key = _load_key(pair.key)
        write_key = False
    else:
        key = _new_key()
        write_key = True
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or at - timedelta(minutes=5))
        .not_valid_after(not_after or at + timedelta(days=LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    cert = builder.sign(issuer.key, hashes.SHA256())
    if write_key:
        _write_key(pair.key, key, overwrite=True)
    _write_file(pair.cert, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


def _ensure_p12(path: Path, pair: CertPair, ca: x509.Certificate, *, force: bool) -> None:
    """The operator's certificate, key and CA in one PKCS#12 file a browser imports.

    Written again whenever the pair is newer than the bundle (a renewed certificate). PBES2 with
    AES-256 and PBKDF2-SHA256 (`BestAvailableEncryption`), which NSS, OpenSSL 3 and browsers read.
    """
    if not force and path.exists() and path.stat().st_mtime >= pair.cert.stat().st_mtime:
        return
    bundle = pkcs12.serialize_key_and_certificates(
        name=b"IFPA gateway operator (dev)",
        key=_load_key(pair.key),
        cert=_load_cert(pair.cert),
        cas=[ca],
        encryption_algorithm=serialization.BestAvailableEncryption(OPERATOR_P12_PASSWORD.encode()),
    )
    _write_file(path, bundle, mode=0o600)


def _name(common_name: str, unit: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, content_commitment: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _server_extensions() -> list[tuple[x509.ExtensionType, bool]]:
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    return [
        (san, False),
        (_key_usage(content_commitment=False), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
    ]


def _client_extensions() -> list[tuple[x509.ExtensionType, bool]]:
    return [
        (_key_usage(content_commitment=False), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
    ]


def _signer_extensions() -> list[tuple[x509.ExtensionType, bool]]:
    # emailProtection lets `openssl cms -verify` accept it under its default smime_sign purpose
    return [
        (_key_usage(content_commitment=True), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False),
    ]


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError as exc:
        raise ConfigurationError(f"{path} is not a PEM certificate", field=str(path)) from exc


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{path} is not an unencrypted PEM key", field=str(path)) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigurationError(f"{path} is not an EC private key", field=str(path))
    return key


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey, *, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        return
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_file(path, pem, mode=0o600)


def _write_file(path: Path, data: bytes, *, mode: int) -> None:
    # write-then-rename: a crash never leaves a half-written key or certificate
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
