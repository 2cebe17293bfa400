"""Signed checkpoints: C2SP tlog-checkpoint signed notes, plus a detached CMS over the same text.

A checkpoint commits the gateway to the first `size` journal entries (c2sp.org/tlog-checkpoint):

    gateway.ifpa.local/archive                      origin (also the note key name)
    1234                                            tree size
    3q2+7w...=                                      base64 RFC 9162 root hash
    time 2026-11-02T09:30:00.000000Z                extension line: when it was signed
                                                    (blank line)
    — gateway.ifpa.local/archive <base64(key ID || signature)>

Note signature (c2sp.org/signed-note): type 0x02, ECDSA P-256 with SHA-256 (ASN.1 DER signature
over the note text, as github.com/transparency-dev/witness does), made with the gateway's signing
key; key ID = SHA-256(DER SubjectPublicKeyInfo)[:4]. The note key is thus bound to the gateway's
X.509 signing certificate: each checkpoint also carries a detached CMS signature of the note text
(everything before the blank line) that embeds that certificate, so an outsider verifies it with
`openssl cms -verify -binary -inform DER -in N.p7s -content N.txt -CAfile ca.pem -purpose any`
and then the note signature with the public key of the certificate CMS vouched for.

`checkpoints.jsonl` holds one canonical JSON line per checkpoint: {"cms": base64 DER, "note": text}.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.journal import canonical_json, format_time, parse_time
from gateway.errors import ConfigurationError
from gateway.signing.cms import InvalidSignature, Signer, verify_detached

DEFAULT_ORIGIN = "gateway.ifpa.local/archive"
SIGNATURE_TYPE_ECDSA = 0x02  # c2sp.org/signed-note "Signature types"
EM_DASH = "\u2014"


def key_id(public_key: ec.EllipticCurvePublicKey) -> bytes:
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).digest()[:4]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed tree head: the archive's first `size` entries have this `root`."""

    origin: str
    size: int
    root: bytes
    time: datetime
    note: str  # the whole signed note
    cms: bytes  # detached CMS SignedData over `text`

    @property
    def text(self) -> str:
        """The signed note text: origin, size, root, extension lines, each ending in LF."""
        return self.note.split("\n\n", 1)[0] + "\n"

    def to_line(self) -> bytes:
        return canonical_json({"cms": base64.b64encode(self.cms).decode(), "note": self.note})

    @classmethod
    def from_line(cls, line: bytes, *, where: str) -> Checkpoint:
        try:
            raw = json.loads(line)
            note, cms = raw["note"], base64.b64decode(raw["cms"], validate=True)
            if not isinstance(note, str):
                raise TypeError("note")
        except (ValueError, KeyError, TypeError) as exc:
            raise ArchiveCorrupt(f"{where}: malformed checkpoint record", field=where) from exc
        return cls.from_note(note, cms, where=where)

    @classmethod
    def from_note(cls, note: str, cms: bytes, *, where: str) -> Checkpoint:
        text, sep, _signatures = note.partition("\n\n")
        lines = text.split("\n")
        try:
            if not sep or len(lines) < 4 or not lines[3].startswith("time "):
                raise ValueError("layout")
            origin, size_text, root_text = lines[0], lines[1], lines[2]
            size = int(size_text)
            if str(size) != size_text or size < 0:
                raise ValueError("tree size")  # tlog-checkpoint: decimal, no leading zeroes
            root = base64.b64decode(root_text, validate=True)
            if len(root) != 32:
                raise ValueError("root hash")
            moment = parse_time(lines[3][5:])
        except ValueError as exc:
            raise ArchiveCorrupt(f"{where}: malformed checkpoint note ({exc})", field=where) from exc
        return cls(origin, size, root, moment, note, cms)


def make_checkpoint(signer: Signer, *, origin: str, size: int, root: bytes, time: datetime) -> Checkpoint:
    if not isinstance(signer.key, ec.EllipticCurvePrivateKey):
        raise ConfigurationError(
            "checkpoint notes are signed with ECDSA (signed-note type 0x02): use an EC signing key",
            field="signer",
        )
    if not origin or any(c.isspace() for c in origin) or "+" in origin:
        raise ConfigurationError(f"bad checkpoint origin {origin!r}", field="origin")
    text = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\ntime {format_time(time)}\n"
    signature = signer.sign_raw(text.encode())
    blob = key_id(signer.key.public_key()) + signature
    note = f"{text}\n{EM_DASH} {origin} {base64.b64encode(blob).decode()}\n"
    return Checkpoint(origin, size, root, time, note, signer.sign_detached(text.encode()))


def verify_checkpoint(
    checkpoint: Checkpoint, *, trust_anchors: Sequence[x509.Certificate], where: str
) -> x509.Certificate:
    """Check the CMS signature (chain valid at the checkpoint's time) and the note signature."""
    text = checkpoint.text.encode()
    try:
        verified = verify_detached(checkpoint.cms, text, trust_anchors=trust_anchors, at=checkpoint.time)
    except InvalidSignature as exc:
        raise ArchiveCorrupt(f"{where}: CMS signature: {exc.message}", field=where) from exc
    public_key = verified.signer.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise ArchiveCorrupt(f"{where}: the signer key is not ECDSA", field=where)
    wanted_id = key_id(public_key)
    signatures = checkpoint.note.partition("\n\n")[2]
    for line in signatures.splitlines():
        name, _, encoded = line.removeprefix(f"{EM_DASH} ").rpartition(" ")
        if not line.startswith(EM_DASH) or name != checkpoint.origin:
            continue  # signed-note: ignore signatures from unknown keys
        try:
            blob = base64.b64decode(encoded, validate=True)
        except ValueError:
            continue
        if blob[:4] != wanted_id:
            continue
        try:
            public_key.verify(blob[4:], text, ec.ECDSA(hashes.SHA256()))
        except _CryptoInvalidSignature as exc:
            raise ArchiveCorrupt(f"{where}: note signature does not verify", field=where) from exc
        return verified.signer
    raise ArchiveCorrupt(f"{where}: no note signature by the gateway key", field=where)
