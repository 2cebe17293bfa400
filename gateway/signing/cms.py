"""Detached CMS signatures (RFC 5652) over bytes, and the gateway's signing key (`Signer`).

Detached CMS signatures are made with `cryptography`'s PKCS7SignatureBuilder (SHA-256, DER, the signer
certificate embedded, binary mode so no MIME canonicalisation touches the bytes). Anyone can check one
with `openssl cms -verify -binary -inform DER -in SIG -content FILE -CAfile CA -purpose any`.
The builder needs the whole content in memory, so for big files (a national SEPA file is several
hundred MB) `sign_detached_file` hashes the file in chunks and `sign_detached_digest` encodes the same
SignedData itself from the digest (RFC 5652 §5: signed attributes content-type, signing-time and
message-digest, in DER SET OF order, signed as an explicit SET).

`cryptography` cannot verify CMS, so `verify_detached` re-implements the RFC 5652 §5.4/§5.6 checks
with a minimal DER reader and `cryptography` primitives: exactly one SignerInfo, SHA-256, signed
attributes present with the content-type and message-digest attributes, the signature over the DER
SET of signed attributes, and the signer certificate chained to the trusted CA by `cryptography`'s
X.509 path validator. Tests cross-check it against `openssl cms -verify`.

XML signed in place (XAdES-B-B) is gateway.signing.xades; `Signer.sign_xml` calls it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError
from lxml import etree

from gateway.errors import Code, ConfigurationError, GatewayError

if TYPE_CHECKING:  # only its type: signing a file needs no settings (and no pydantic at import)
    pass

Now = Callable[[], datetime]
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# RFC 5652 / RFC 5754 / RFC 5758 object identifiers
_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_DATA = "1.2.840.113549.1.7.1"
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
_OID_SHA256 = "2.16.840.1.101.3.4.2.1"
_OIDS_ECDSA = {"1.2.840.10045.4.3.2", "1.2.840.10045.2.1"}  # ecdsa-with-SHA256, id-ecPublicKey
_OIDS_RSA = {"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11"}  # rsaEncryption, sha256WithRSA


class InvalidSignature(GatewayError):
    """A signature does not verify: wrong bytes, wrong key, untrusted or invalid certificate."""

    default_code = Code.SIGNATURE_INVALID


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Signer:
    """The gateway's signing identity: a private key and its certificate (plus chain)."""

    cert: x509.Certificate
    key: SigningKey
    chain: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_files(cls, cert_path: Path, key_path: Path, *, password: bytes | None = None) -> Signer:
        """Load a PEM certificate (first one = signer, others = chain) and a PEM private key."""
        try:
            certs = x509.load_pem_x509_certificates(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=password)
        except FileNotFoundError as exc:
            raise ConfigurationError(
                f"signing certificate or key not found: {exc.filename} "
                "(run `gateway certs init` for a development one)",
                field="signer",
            ) from exc
        except (ValueError, TypeError) as exc:
            # never echo the key material or password: the exception text may carry neither
            raise ConfigurationError(
                f"cannot load the signing certificate {cert_path} or key {key_path}",
                field="signer",
            ) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ConfigurationError("the signing key must be EC or RSA", field="signer")
        if _spki(key.public_key()) != _spki(certs[0].public_key()):
            raise ConfigurationError(f"{key_path} is not the key of {cert_path}", field="signer")
        return cls(certs[0], key, tuple(certs[1:]))

    def sign_detached(self, data: bytes) -> bytes:
        """A detached CMS SignedData (DER) over `data`: SHA-256, signer certificate embedded."""
        # imported here: pkcs7 pulls in the email package, and signing a digest (a SEPA file,
        # `sign_detached_digest`) does not use it (a few ms of every command's start-up)
        from cryptography.hazmat.primitives.serialization import pkcs7

        builder = pkcs7.PKCS7SignatureBuilder().set_data(data)
        builder = builder.add_signer(self.cert, self.key, hashes.SHA256())
        for cert in self.chain:
            builder = builder.add_certificate(cert)
        return builder.sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )

    def sign_detached_file(self, path: Path, *, signing_time: datetime | None = None) -> bytes:
        """A detached CMS SignedData over the file at `path`, read in chunks (constant memory)."""
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        return self.sign_detached_digest(digest.digest(), signing_time=signing_time)

    def sign_detached_digest(self, sha256: bytes, *, signing_time: datetime | None = None) -> bytes:
        """A detached CMS SignedData (DER) for content whose SHA-256 is `sha256`.

        The same structure as `sign_detached`, minus the S/MIME capabilities attribute (a mail
        client's preferences, meaningless for a file); `openssl cms -verify` and `verify_detached`
        check both alike.
        """
        if len(sha256) != 32:
            raise ValueError("a SHA-256 digest is 32 bytes")
        moment = (signing_time or _utcnow()).astimezone(UTC)
        attributes = sorted(  # DER SET OF: members in the order of their encodings (X.690 §11.6)
            [
                _seq(_der_oid(_OID_CONTENT_TYPE), _der(0x31, _der_oid(_OID_DATA))),
                _seq(_der_oid(_OID_SIGNING_TIME), _der(0x31, _der_time(moment))),
                _seq(_der_oid(_OID_MESSAGE_DIGEST), _der(0x31, _der(0x04, sha256))),
            ]
        )
        signed_attrs = _der(0x31, b"".join(attributes))
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            value = self.key.sign(signed_attrs, ec.ECDSA(hashes.SHA256()))
            algorithm = _seq(_der_oid(_OID_ECDSA_SHA256))
        else:
            value = self.key.sign(signed_attrs, padding.PKCS1v15(), hashes.SHA256())
            algorithm = _seq(_der_oid(_OID_RSA_SHA256), _DER_NULL)
        sha256_alg = _seq(_der_oid(_OID_SHA256), _DER_NULL)
        der = serialization.Encoding.DER
        signer_info = _seq(
            _der_int(1),  # version 1: issuerAndSerialNumber (RFC 5652 §5.3)
            _seq(self.cert.issuer.public_bytes(), _der_int(self.cert.serial_number)),
            sha256_alg,
            b"\xa0" + signed_attrs[1:],  # [0] IMPLICIT SignedAttributes
            algorithm,
            _der(0x04, value),
        )
        signed_data = _seq(
            _der_int(1),
            _der(0x31, sha256_alg),
            _seq(_der_oid(_OID_DATA)),  # no eContent: detached
            _der(0xA0, b"".join(c.public_bytes(der) for c in (self.cert, *self.chain))),
            _der(0x31, signer_info),
        )
        return _seq(_der_oid(_OID_SIGNED_DATA), _der(0xA0, signed_data))

    def sign_raw(self, data: bytes) -> bytes:
        """A bare signature over `data` (ECDSA P-256/SHA-256 as ASN.1 DER, or RSA PKCS#1 v1.5)."""
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def sign_xml(self, element: etree._Element, *, now: Now = _utcnow) -> etree._Element:
        """Sign `element` in place (enveloped XAdES-B-B); returns the signed root element."""
        from gateway.signing.xades import sign_xml

        return sign_xml(element, self, now=now)


def _spki(key: Any) -> bytes:
    der: bytes = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """What a valid detached CMS signature tells: who signed, and when they said they did."""

    signer: x509.Certificate
    signing_time: datetime | None


def load_trust_anchors(ca_file: Path) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(ca_file.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read CA certificates from {ca_file}") from exc


def verify_detached(
    signature: bytes,
    data: bytes,
    *,
    ca_file: Path | None = None,
    trust_anchors: Sequence[x509.Certificate] = (),
    at: datetime | None = None,
) -> VerifiedSignature:
    """Check a detached CMS signature over `data` and its signer's chain to a trusted CA.

    The chain is validated at `at` (default: now; pass the archive's time for old evidence).
    Raises InvalidSignature on any failure.
    """
    anchors = list(trust_anchors) + (load_trust_anchors(ca_file) if ca_file else [])
    if not anchors:
        raise ConfigurationError("no trusted CA given to verify a signature")
    try:
        parsed = _parse_signed_data(signature)
    except (IndexError, ValueError) as exc:
        raise InvalidSignature(f"not a DER CMS SignedData: {exc}") from exc
    if not hmac.compare_digest(parsed.message_digest, hashlib.sha256(data).digest()):
        raise InvalidSignature("the content does not match the signed message digest")
    key = parsed.signer.public_key()
    try:
        if parsed.sig_alg in _OIDS_ECDSA and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(parsed.signature, parsed.signed_attrs, ec.ECDSA(hashes.SHA256()))
        elif parsed.sig_alg in _OIDS_RSA and isinstance(key, rsa.RSAPublicKey):
            key.verify(parsed.signature, parsed.signed_attrs, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise InvalidSignature(f"unsupported signature algorithm {parsed.sig_alg}")
    except _CryptoInvalidSignature as exc:
        raise InvalidSignature("the signature value does not verify") from exc
    _verify_chain(parsed.signer, parsed.certs, anchors, at or _utcnow())
    return VerifiedSignature(parsed.signer, parsed.signing_time)


def _verify_chain(
    leaf: x509.Certificate,
    bag: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    at: datetime,
) -> None:
    # the signer's EKU varies between CAs (emailProtection, documentSigning...), so only the CA
    # side follows the Web PKI profile; the key usage is checked below
    verifier = (
        PolicyBuilder()
        .store(Store(list(anchors)))
        .time(at)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all()
        )
        .build_client_verifier()
    )
    try:
        verifier.verify(leaf, [c for c in bag if c != leaf])
    except VerificationError as exc:
        raise InvalidSignature(f"the signer certificate is not trusted: {exc}") from exc
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise InvalidSignature("the signer certificate is not for signatures (keyUsage)")


# --- a minimal DER writer, enough for RFC 5652 SignedData --------------------------------------

_OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"
_OID_RSA_SHA256 = "1.2.840.113549.1.1.11"
_DER_NULL = b"\x05\x00"


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes((tag, size)) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + body


def _seq(*items: bytes) -> bytes:
    return _der(0x30, b"".join(items))


def _der_int(value: int) -> bytes:
    # two's complement, shortest form (X.690 §8.3)
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def _der_oid(dotted: str) -> bytes:
    first, second, *rest = (int(arc) for arc in dotted.split("."))
    body = bytearray([40 * first + second])
    for arc in rest:
        chunk, left = [arc & 0x7F], arc >> 7
        while left:
            chunk.append(0x80 | (left & 0x7F))
            left >>= 7
        body += bytes(reversed(chunk))
    return _der(0x06, bytes(body))


def _der_time(moment: datetime) -> bytes:
    # RFC 5652 §11.3: UTCTime from 1950 to 2049, GeneralizedTime otherwise
    if 1950 <= moment.year < 2050:
        return _der(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())
    return _der(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode())


# --- a minimal DER reader, enough for RFC 5652 SignedData --------------------------------------


@dataclass(frozen=True, slots=True)
class _Tlv:
    tag: int
    raw: bytes
    body: bytes


def _read_tlv(data: bytes, pos: int = 0) -> tuple[_Tlv, int]:
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag numbers are not used by CMS")
    length = data[pos + 1]
    start = pos + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise ValueError("indefinite or oversized length (BER, not DER)")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("truncated")
    return _Tlv(tag, data[pos:end], data[start:end]), end


def _one(data: bytes) -> _Tlv:
    tlv, end = _read_tlv(data)
    if end != len(data):
        raise ValueError("trailing bytes")
    return tlv


def _children(tlv: _Tlv) -> list[_Tlv]:
    items, pos = [], 0
    while pos < len(tlv.body):
        item, pos = _read_tlv(tlv.body, pos)
        items.append(item)
    return items


def _oid(tlv: _Tlv) -> str:
    if tlv.tag != 0x06 or not tlv.body:
        raise ValueError("expected an OBJECT IDENTIFIER")
    first = tlv.body[0]
    arcs = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in tlv.body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return ".".join(map(str, arcs))


def _expect(tlv: _Tlv, tag: int, what: str) -> _Tlv:
    if tlv.tag != tag:
        raise ValueError(f"expected {what}")
    return tlv


@dataclass(frozen=True, slots=True)
class _ParsedSignedData:
    signer: x509.Certificate
    certs: list[x509.Certificate]
    signed_attrs: bytes
    message_digest: bytes
    signing_time: datetime | None
    sig_alg: str
    signature: bytes


def _parse_signed_data(der: bytes) -> _ParsedSignedData:
    # RFC 5652 §3 ContentInfo, §5.1 SignedData, §5.3 SignerInfo
    content_info = _children(_expect(_one(der), 0x30, "ContentInfo"))
    if _oid(content_info[0]) != _OID_SIGNED_DATA:
        raise ValueError("not SignedData")
    signed_data = _children(_expect(_children(content_info[1])[0], 0x30, "SignedData"))
    encap = _children(_expect(signed_data[2], 0x30, "EncapsulatedContentInfo"))
    if _oid(encap[0]) != _OID_DATA:
        raise ValueError("content type is not id-data")
    if len(encap) != 1:
        raise ValueError("content is attached, a detached signature was expected")
    certs: list[x509.Certificate] = []
    signer_infos: _Tlv | None = None
    for item in signed_data[3:]:
        if item.tag == 0xA0:  # [0] IMPLICIT CertificateSet
            certs += [x509.load_der_x509_certificate(c.raw) for c in _children(item)]
        elif item.tag == 0x31:
            signer_infos = item
    if signer_infos is None or len(_children(signer_infos)) != 1:
        raise ValueError("exactly one SignerInfo expected")
    info = _children(_children(signer_infos)[0])
    signer = _find_signer(info[1], certs)
    if _oid(_children(info[2])[0]) != _OID_SHA256:
        raise ValueError("digest algorithm is not SHA-256")
    attrs_tlv = _expect(info[3], 0xA0, "signed attributes")
    attrs: dict[str, list[_Tlv]] = {}
    for attr in _children(attrs_tlv):
        oid_tlv, values = _children(attr)
        name = _oid(oid_tlv)
        if name in attrs:
            raise ValueError(f"attribute {name} repeated")  # RFC 5652 §5.3
        attrs[name] = _children(values)
    content_type = attrs.get(_OID_CONTENT_TYPE)
    digest = attrs.get(_OID_MESSAGE_DIGEST)
    if not content_type or _oid(content_type[0]) != _OID_DATA:
        raise ValueError("content-type attribute missing or not id-data")
    if not digest or len(digest) != 1:
        raise ValueError("message-digest attribute missing")
    signing_time = attrs.get(_OID_SIGNING_TIME)
    return _ParsedSignedData(
        signer=signer,
        certs=certs,
        # RFC 5652 §5.4: the signature covers the DER of the attributes as an explicit SET OF
        signed_attrs=b"\x31" + attrs_tlv.raw[1:],
        message_digest=_expect(digest[0], 0x04, "OCTET STRING").body,
        signing_time=_asn1_time(signing_time[0]) if signing_time else None,
        sig_alg=_oid(_children(info[4])[0]),
        signature=_expect(info[5], 0x04, "signature OCTET STRING").body,
    )


def _find_signer(sid: _Tlv, certs: list[x509.Certificate]) -> x509.Certificate:
    if sid.tag == 0x30:  # IssuerAndSerialNumber
        issuer, serial = _children(sid)
        number = int.from_bytes(_expect(serial, 0x02, "serial").body, "big", signed=True)
        for cert in certs:
            if cert.serial_number == number and cert.issuer.public_bytes() == issuer.raw:
                return cert
    elif sid.tag == 0x80:  # [0] SubjectKeyIdentifier
        for cert in certs:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            except x509.ExtensionNotFound:
                continue
            if ski.value.digest == sid.body:
                return cert
    raise ValueError("the signer certificate is not embedded")


def _asn1_time(tlv: _Tlv) -> datetime:
    text = tlv.body.decode("ascii")
    if tlv.tag == 0x17:  # UTCTime, RFC 5280 §4.1.2.5.1
        parsed = datetime.strptime(text, "%y%m%d%H%M%SZ")  # noqa: DTZ007 - Z checked by format
    elif tlv.tag == 0x18:
        parsed = datetime.strptime(text, "%Y%m%d%H%M%SZ")  # noqa: DTZ007
    else:
        raise ValueError("signing time is not a Time")
    return parsed.replace(tzinfo=UTC)
