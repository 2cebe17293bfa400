"""Benchmark: N synthetic SDD debits through the gateway's pain.008 writer (or sepaxml 2.7).

    python bench/sepa.py --transactions 1000000 --out /tmp/bench [--lib gateway|sepaxml]
                         [--source planned|two-pass] [--no-validate] [--no-sign]

gateway: EPC rules + streaming write (pain.008.001.08) + streaming XSD validation (libxml2) +
detached CMS signature (RFC 5652, `gateway.signing.cms.Signer.sign_detached_digest` with an ephemeral
self-signed P-256 certificate, over the SHA-256 computed while the file is written). The file is
written to its path as production writes it (`gateway.sepa.xmltext.to_sink`: `ValidatingSink` with
the digest). `--source planned` (the default, what the monthly run does): the batch counts and
control sums come from the source's "GROUP BY" (here: the amount column summed per batch, no row
built), then ONE pass checks every debit against the EPC rules, renders and writes it
(`write_pain008_planned`); `two-pass`: `write_pain008` reads the rows twice (rules and sums, then
rendering).
sepaxml: the same data through sepaxml.SepaDD (pain.008.001.02, its default), validation off
(its xmlschema validation aborts beyond ~55k debits, docs/payment-cycle.md "SEPA files").

Prints one JSON line: {"transactions", "seconds", "peak_rss_mb", "file", ...}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.sepa import ids
from gateway.sepa.model import (
    ByteSink,
    DirectDebit,
    Fund,
    MessageHeader,
    SequenceType,
)

if TYPE_CHECKING:
    from gateway.sepa.batches import Plan

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

    Check digits by modular arithmetic on the parts rather than on a 29-digit string, with small
    integers only: bban * 10^6 + 152700 ("FR00" as digits), mod 97 (ISO 7064, as schwifty
    checks it), each part's weight mod 97 precomputed (the same IBANs as before, 2x cheaper)."""
    branch = 1 + n % 997
    account = n % 97
    rib_key = 97 - (_RIB_BANK + 15 * branch + 3 * account) % 97
    bban_mod = (_BANK_E18 + _BRANCH_E13[branch] + 3 * account + rib_key) % 97  # 100 = 3 (mod 97)
    check = 98 - (bban_mod * _E6_MOD + _FR00_MOD) % 97
    return f"FR{_TWO_DIGITS[check]}{_BANK_BRANCH[branch]}{n:011d}{_TWO_DIGITS[rib_key]}"


_E6_MOD, _FR00_MOD = 10**6 % 97, 152700 % 97
_RIB_BANK = 89 * 30006
_BANK_E18 = 30006 * 10**18 % 97
_BRANCH_E13 = [branch * 10**13 % 97 for branch in range(998)]
_BANK_BRANCH = [f"30006{branch:05d}" for branch in range(998)]
_TWO_DIGITS = [f"{number:02d}" for number in range(100)]


def _batch_sizes(n: int) -> list[int]:
    sizes = [n * share // 100 for share in SHARES[:-1]]
    return [*sizes, n - sum(sizes)]


def amount_cents(index: int) -> int:
    """The amount of row `index` (the same expression as in `synthetic`)."""
    return 5_000 + index % 50_000


def synthetic_plan(n: int) -> Plan[tuple[str, date]]:
    """What the store's GROUP BY gives the monthly run (`gateway.services.collection`): per batch
    key, the number of debits and the sum of their amounts, read from the amount column without
    building a row; the writer recounts every batch as it writes (`totals-mismatch` otherwise).
    No synthetic debtor banks outside the EEA (French IBANs, a French BIC or none), so no batch
    needs the fund's address; the writer checks that too, debit by debit."""
    from gateway.sepa.batches import Batch, Plan

    batches: list[Batch[tuple[str, date]]] = []
    start = 0
    for key, size in zip(KEYS, _batch_sizes(n), strict=True):
        if size:  # as GROUP BY: no row, no group
            batches.append(Batch(key, size, sum(map(amount_cents, range(start, start + size)))))
        start += size
    return Plan(tuple(batches), n, sum(b.total_cents for b in batches), grouped=True)


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
    make = DirectDebit._make  # the named tuple's own constructor from all 13 fields, in C
    for (sequence, day), count in zip(KEYS, _batch_sizes(n), strict=True):
        for _ in range(count):
            row = f"{index:024X}"
            yield make(
                (
                    prefix + row,  # end_to_end_id
                    5_000 + index % 50_000,  # amount_cents
                    "ARIPA-" + row,  # mandate_id
                    signed,  # mandate_signed_on
                    sequence,
                    day,  # collection_date
                    f"Parent debiteur {index}",  # debtor_name
                    french_iban(index),  # debtor_iban
                    "AGRIFRPP" if index % 3 else None,  # debtor_bic
                    None,  # debtor_address
                    f"{remittance}{index:09d}",  # remittance
                    None,  # amendment
                    "EUR",  # currency
                )
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


def run_gateway(n: int, out_dir: Path, *, validate: bool, do_sign: bool, planned: bool) -> dict[str, object]:
    from gateway.sepa.pain008 import write_pain008, write_pain008_planned
    from gateway.signing.cms import Signer

    path = out_dir / f"gateway-pain008-{n}.xml"
    header = MessageHeader(ids.message_id("bench", "DD", date(2026, 11, 1)), datetime.now(UTC))
    timings: dict[str, float] = {}
    main_cpu = time.thread_time()
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        # validate: to its path, as production writes (validated while written, by libxml2 in a
        # thread without the GIL on the second core; the SHA-256 for the signature computed while
        # written too); otherwise to a plain buffered file
        out: ByteSink | Path = path if validate else stack.enter_context(path.open("wb", buffering=1 << 20))
        if planned:
            plan = synthetic_plan(n)
            timings["plan_s"] = time.perf_counter() - t0
            summary = write_pain008_planned(out, header, FUND, plan, synthetic(n))
        else:
            summary = write_pain008(out, header, FUND, lambda: synthetic(n))
    timings["write_and_validate_s" if validate else "write_s"] = time.perf_counter() - t0
    if do_sign:
        t2 = time.perf_counter()
        signer = _signer()
        assert isinstance(signer, Signer)
        # detached CMS (RFC 5652) by the production signer, over the digest (constant memory)
        if summary.sha256 is not None:
            signature = signer.sign_detached_digest(bytes.fromhex(summary.sha256))
        else:
            signature = signer.sign_detached_file(path)
        path.with_suffix(path.suffix + ".p7s").write_bytes(signature)
        timings["sign_s"] = time.perf_counter() - t2
    # the main thread's own CPU: the critical path on a quiet 2-core machine when it exceeds the
    # validator's (the rest of cpu_s), whatever the load
    timings["main_thread_cpu_s"] = time.thread_time() - main_cpu
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
    parser.add_argument("--source", choices=("planned", "two-pass"), default="planned")
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
            planned=args.source == "planned",
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
        "source": args.source if args.lib == "gateway" else "rows",
        **extra,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
