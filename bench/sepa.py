"""Benchmark: N synthetic SDD debits through the gateway's pain.008 writer (or sepaxml 2.7).

    python bench/sepa.py --transactions 1000000 --out /tmp/bench [--lib gateway|sepaxml]
                         [--no-validate] [--no-sign]

gateway: EPC rules + streaming write (pain.008.001.08) + streaming XSD validation (libxml2) +
detached CMS signature (RFC 5652, the key of a gateway.signing.cms.Signer with an ephemeral
self-signed P-256 certificate, the file hashed in chunks: see sign_file_detached).
sepaxml: the same data through sepaxml.SepaDD (pain.008.001.02, its default), validation off
(its xmlschema validation aborts beyond ~55k debits, docs/payment-cycle.md "SEPA files").

Prints one JSON line: {"transactions", "seconds", "peak_rss_mb", "file", ...}.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.sepa import ids
from gateway.sepa.model import (
    DirectDebit,
    Fund,
    MessageHeader,
    SequenceType,
)

FUND = Fund("CAF DEMO ARIPA", "FR7630006000011234567890189", "AGRIFRPP", "FR72ZZZ123456")
PERIOD = "2026-11"
# (sequence, collection date) batches: the 1st/10th/15th moved to TARGET days, FRST ~5 %
KEYS = [
    (SequenceType.FRST, date(2026, 11, 2)),
    (SequenceType.RCUR, date(2026, 11, 2)),
    (SequenceType.RCUR, date(2026, 11, 10)),
    (SequenceType.RCUR, date(2026, 11, 16)),
]
SHARES = (5, 45, 30, 20)


def french_iban(n: int) -> str:
    """A valid French IBAN (RIB key and ISO 13616 check digits) for account number n.

    Check digits by modular arithmetic on the parts rather than on a 29-digit string:
    bban * 10^6 + 152700 ("FR00" as digits), mod 97 (ISO 7064, as schwifty checks it)."""
    bank, branch, account = 30006, 1 + n % 997, n
    rib_key = 97 - ((89 * bank + 15 * branch + 3 * account) % 97)
    bban_mod = (bank * _E18 + branch * _E13 + account * 100 + rib_key) % 97
    check = 98 - (bban_mod * _E6_MOD + _FR00_MOD) % 97
    return f"FR{check:02d}{bank:05d}{branch:05d}{account:011d}{rib_key:02d}"


_E18, _E13 = 10**18, 10**13
_E6_MOD, _FR00_MOD = 10**6 % 97, 152700 % 97


def synthetic(n: int) -> Iterator[DirectDebit]:
    """Deterministic debits as a store returns them, grouped by batch key (as the schedule
    produces them). Rows carry identifiers already: gateway.sepa.ids derives them once per
    dossier and period when the schedule records the debit, not each time a file is written,
    so here they are formatted from the row number in the same shape (33 / 30 characters);
    deriving them with SHA-256 on every read would double the source's cost (README)."""
    signed = date(2026, 1, 15)
    prefix = f"DD{ids.period_key(PERIOD)}-"
    remittance = f"Pension alimentaire {PERIOD} dossier D"
    index = 0
    for (sequence, day), share in zip(KEYS, SHARES, strict=True):
        count = n * share // 100 if (sequence, day) != KEYS[-1] else n - index
        for _ in range(count):
            yield DirectDebit(
                f"{prefix}{index:024X}",
                5_000 + index % 50_000,
                f"ARIPA-{index:024X}",
                signed,
                sequence,
                day,
                f"Parent debiteur {index}",
                french_iban(index),
                "AGRIFRPP" if index % 3 else None,
                None,
                f"{remittance}{index:09d}",
            )
            index += 1


def _signer() -> object:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from gateway.signing.cms import Signer

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench signer")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return Signer(cert=cert, key=key)


# --- detached CMS over a file of any size, in constant memory -------------------------------
# gateway.signing.cms.Signer.sign_detached(bytes) needs the whole file in memory (cryptography's
# PKCS7SignatureBuilder hashes the data itself): 700 MB at 1,000,000 debits. The same RFC 5652
# SignedData (SHA-256, signed attributes contentType/signingTime/messageDigest, signer
# certificate embedded, no content) is built here around a digest computed in 1 MiB chunks,
# and signed with the Signer's key. Checked with `openssl cms -verify -binary` (bench/README).


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        rest = arc
        chunk = [rest & 0x7F]
        rest >>= 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body.extend(reversed(chunk))
    return _der(0x06, bytes(body))


def _seq(*parts: bytes) -> bytes:
    return _der(0x30, b"".join(parts))


def _set(*parts: bytes) -> bytes:
    return _der(0x31, b"".join(sorted(parts)))  # DER: SET OF sorted by encoding


def _int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


_SHA256 = "2.16.840.1.101.3.4.2.1"


def sign_file_detached(path: Path, signer: object, now: datetime) -> bytes:
    """RFC 5652 detached SignedData over the file at `path`, read in 1 MiB chunks."""
    import hashlib

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.serialization import Encoding

    from gateway.signing.cms import Signer

    assert isinstance(signer, Signer)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    attributes = [
        _seq(_oid("1.2.840.113549.1.9.3"), _set(_oid("1.2.840.113549.1.7.1"))),  # contentType
        _seq(
            _oid("1.2.840.113549.1.9.5"),  # signingTime
            _set(_der(0x17, now.astimezone(UTC).strftime("%y%m%d%H%M%SZ").encode())),
        ),
        _seq(_oid("1.2.840.113549.1.9.4"), _set(_der(0x04, digest.digest()))),  # messageDigest
    ]
    signed_attrs = b"".join(sorted(attributes))
    if isinstance(signer.key, ec.EllipticCurvePrivateKey):
        signature = signer.key.sign(_der(0x31, signed_attrs), ec.ECDSA(hashes.SHA256()))
        algorithm = _seq(_oid("1.2.840.10045.4.3.2"))  # ecdsa-with-SHA256
    else:
        signature = signer.key.sign(_der(0x31, signed_attrs), padding.PKCS1v15(), hashes.SHA256())
        algorithm = _seq(_oid("1.2.840.113549.1.1.11"), b"\x05\x00")  # sha256WithRSA
    signer_info = _seq(
        _int(1),
        _seq(signer.cert.issuer.public_bytes(), _int(signer.cert.serial_number)),
        _seq(_oid(_SHA256)),
        _der(0xA0, signed_attrs),
        algorithm,
        _der(0x04, signature),
    )
    certificates = b"".join(c.public_bytes(Encoding.DER) for c in (signer.cert, *signer.chain))
    signed_data = _seq(
        _int(1),
        _set(_seq(_oid(_SHA256))),
        _seq(_oid("1.2.840.113549.1.7.1")),  # id-data, content detached
        _der(0xA0, certificates),
        _set(signer_info),
    )
    return _seq(_oid("1.2.840.113549.1.7.2"), _der(0xA0, signed_data))


def sign(path: Path) -> Path:
    """Detached CMS signature file next to `path` (`.p7s`)."""
    out = path.with_suffix(path.suffix + ".p7s")
    out.write_bytes(sign_file_detached(path, _signer(), datetime.now(UTC)))
    return out


def run_gateway(n: int, out_dir: Path, *, validate: bool, do_sign: bool) -> dict[str, object]:
    from gateway.sepa.model import Pain008Version
    from gateway.sepa.pain008 import write_pain008
    from gateway.sepa.xsd import ValidatingSink

    path = out_dir / f"gateway-pain008-{n}.xml"
    header = MessageHeader(ids.message_id("bench", "DD", date(2026, 11, 1)), datetime.now(UTC))
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if validate:
        # validated while written, by libxml2 in a thread (no GIL) on the second core
        with ValidatingSink(path, Pain008Version.V08.value) as sink:
            write_pain008(sink, header, FUND, lambda: synthetic(n))
        timings["write_and_validate_s"] = time.perf_counter() - t0
    else:
        write_pain008(path, header, FUND, lambda: synthetic(n))
        timings["write_s"] = time.perf_counter() - t0
    if do_sign:
        t2 = time.perf_counter()
        sign(path)
        timings["sign_s"] = time.perf_counter() - t2
    return {"file": str(path), **{k: round(v, 2) for k, v in timings.items()}}


def run_sepaxml(n: int, out_dir: Path) -> dict[str, object]:
    from sepaxml import SepaDD

    config = {
        "name": FUND.name,
        "IBAN": FUND.iban,
        "BIC": FUND.bic,
        "batch": True,
        "creditor_id": FUND.creditor_id,
        "currency": "EUR",
    }
    sepa = SepaDD(config, schema="pain.008.001.02", clean=True)
    for debit in synthetic(n):
        sepa.add_payment(
            {
                "name": debit.debtor_name,
                "IBAN": debit.debtor_iban,
                "BIC": debit.debtor_bic or "NOTPROVIDED",
                "amount": debit.amount_cents,
                "type": debit.sequence.value,
                "collection_date": debit.collection_date,
                "mandate_id": debit.mandate_id,
                "mandate_date": debit.mandate_signed_on,
                "description": debit.remittance or "",
                "endtoend_id": debit.end_to_end_id,
            }
        )
    path = out_dir / f"sepaxml-pain008-{n}.xml"
    path.write_bytes(sepa.export(validate=False))
    return {"file": str(path)}


def _import_everything(lib: str) -> None:
    """Load the modules (and lazily built tables) the run will use."""
    if lib == "sepaxml":
        import sepaxml  # noqa: F401

        return
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: F401

    import gateway.signing.cms  # noqa: F401
    from gateway.sepa import libxml2, pain008, xsd  # noqa: F401

    libxml2.available()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--transactions", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--lib", choices=("gateway", "sepaxml"), default="gateway")
    parser.add_argument("--no-validate", action="store_true")
    parser.add_argument("--no-sign", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # Imports are a one-time cost per process, not per debit: timed apart, for both libraries.
    loading = time.perf_counter()
    _import_everything(args.lib)
    import_s = time.perf_counter() - loading
    start = time.perf_counter()
    if args.lib == "gateway":
        extra = run_gateway(
            args.transactions,
            args.out,
            validate=not args.no_validate,
            do_sign=not args.no_sign,
        )
    else:
        extra = run_sepaxml(args.transactions, args.out)
    seconds = time.perf_counter() - start
    # KiB on Linux; validation runs in a thread of this process, so this is the whole peak
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = usage.ru_maxrss
    result = {
        "transactions": args.transactions,
        "seconds": round(seconds, 2),
        "import_s": round(import_s, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        # CPU seconds (user + system, all threads): comparable across a shared machine's load
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "lib": args.lib,
        "validated": args.lib == "gateway" and not args.no_validate,
        "signed": args.lib == "gateway" and not args.no_sign,
        **extra,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
