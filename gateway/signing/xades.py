"""XML signed in place: XMLDSig/XAdES-B-B with `signxml`'s XAdES signer.

XAdES-B-B: enveloped XMLDSig, C14N 1.1, SHA-256, the signing certificate in KeyInfo, SigningTime
and SigningCertificateV2 in SignedProperties. It verifies with
`xmlsec1 --verify --trusted-pem ca.pem FILE`. The key is the gateway's (gateway.signing.cms.Signer).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from gateway.signing.cms import InvalidSignature, Now, Signer


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _xades_signer_class() -> Any:
    from signxml.util import xades_tag
    from signxml.xades.xades import XAdESSigner

    class _Timed(XAdESSigner):
        """signxml stamps SigningTime with the wall clock; the gateway injects its clock."""

        def __init__(self, now: Now, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._now = now

        def add_signing_time(
            self, signed_signature_properties: Any, sig_root: Any, signing_settings: Any
        ) -> None:
            element = etree.SubElement(
                signed_signature_properties,
                xades_tag("SigningTime"),  # type: ignore[no-untyped-call]
                nsmap=self.namespaces,
            )
            element.text = self._now().astimezone(UTC).isoformat(timespec="seconds")

    return _Timed


def sign_xml(element: etree._Element, signer: Signer, *, now: Now = _utcnow) -> etree._Element:
    """Enveloped XAdES-B-B signature of `element` (returns the signed root element)."""
    from signxml.algorithms import DigestAlgorithm, SignatureConstructionMethod, SignatureMethod

    method = (
        SignatureMethod.ECDSA_SHA256
        if isinstance(signer.key, ec.EllipticCurvePrivateKey)
        else SignatureMethod.RSA_SHA256
    )
    xades = _xades_signer_class()(
        now,
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        # signxml's XAdES digests SignedProperties before it is in the tree: with exclusive C14N
        # the namespace context then differs and the digest never verifies; C14N 1.1 is fine
        c14n_algorithm="http://www.w3.org/2006/12/xml-c14n11",
    )
    signed: etree._Element = xades.sign(
        element, key=signer.key, cert=[signer.cert, *signer.chain], always_add_key_value=False
    )
    return signed


def verify_xml(
    document: bytes | etree._Element, *, ca_file: Path, at: datetime | None = None
) -> etree._Element:
    """Verify an enveloped XAdES signature against `ca_file`; returns the signed element."""
    from signxml.exceptions import InvalidInput
    from signxml.exceptions import InvalidSignature as XmlInvalid
    from signxml.xades.xades import XAdESSignatureConfiguration, XAdESVerifier

    config = XAdESSignatureConfiguration(verification_time=at) if at else None
    kwargs: dict[str, Any] = {"ca_pem_file": str(ca_file)}
    if config is not None:
        kwargs["expect_config"] = config
    try:
        result = XAdESVerifier().verify(document, **kwargs)
    except (XmlInvalid, InvalidInput) as exc:
        raise InvalidSignature(f"XML signature does not verify: {exc}") from exc
    first = result[0] if isinstance(result, list) else result
    signed = first.signed_xml
    if signed is None:
        raise InvalidSignature("XML signature covers no element")
    return signed
