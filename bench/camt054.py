"""Benchmark: a synthetic camt.054.001.08 of N entries, streamed, validated and reconciled.

    python bench/camt054.py [--entries 1000000] [--work DIR] [--keep]

1. writes N booked entries (one transaction each: credits, 3 % of them returned by a DBIT entry
   with reason AM04, 0.1 % credits for unknown references) to a camt.054.001.08 file, streamed
   (its time is printed apart, `generate_seconds`);
2. builds the expected debits in a compact book (open addressing over flat arrays: a million
   `ExpectedDebit` objects in dicts would need several hundred MB);
3. times `gateway.sepa.reports.read_report` through `gateway.payments.reconcile.Reconciler.run`,
   every outcome consumed: hardened iterparse, elements cleared as read, and the official XSD
   checked by a second process over the same file (gateway.sepa.reports.stream).

Prints one JSON line: {"entries", "seconds", "peak_rss_mb", ...}. `seconds` is step 3 (wall);
`reconcile_cpu_seconds` its CPU time in this process; `peak_rss_mb` this process's peak over all
steps; `validator_peak_rss_mb` the validating child's own peak; `total_peak_rss_mb` their sum.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.payments.reconcile import DebitState, DebitStatus, ExpectedDebit, Reconciler
from gateway.sepa.reports import read_report

MSG = "DD20261105-BENCH000000000001"
PMTINF = "PI-BENCH00000001-RCUR-20261105"
PERIOD = "2026-11"
IBAN = "FR7630006000011234567890189"
_STATES = list(DebitState)


def e2e(n: int) -> str:
    return "DD202611-" + hashlib.sha256(f"bench-{n}".encode()).hexdigest()[:24].upper()


def amount(n: int) -> int:
    return 5000 + (n * 7919) % 45000  # 50.00 to 499.99 €


class CompactDebitBook:
    """A `DebitBook` for millions of debits: keys sorted in an array, states in a bytearray."""

    def __init__(self, count: int) -> None:
        # Open addressing over flat arrays: key = first 64 bits of the id's hash part, tail = the
        # next 32 (together the 96 bits of gateway.sepa.ids); a sorted list of tuples would cost
        # ~160 MB at build time for a million debits.
        self.mask = (1 << (2 * count).bit_length()) - 1
        self.table = array("i", [-1]) * (self.mask + 1)
        self.keys = array("Q", bytes(8 * count))
        self.tails = array("I", bytes(4 * count))
        for n in range(count):
            digest = e2e(n)[9:]
            key, tail = int(digest[:16], 16), int(digest[16:], 16)
            self.keys[n], self.tails[n] = key, tail
            slot = key & self.mask
            while self.table[slot] >= 0:
                slot = (slot + 1) & self.mask
            self.table[slot] = n
        self.states = bytearray(count)
        self.collected = array("q", bytes(8 * count))
        self.returned = array("q", bytes(8 * count))
        self.reasons: dict[int, str] = {}
        self.reports: set[str] = set()
        self._last: tuple[str, int | None] = ("", None)

    def _find(self, end_to_end_id: str) -> int | None:
        if self._last[0] == end_to_end_id:  # get() then status() ask for the same id
            return self._last[1]
        found = None
        if len(end_to_end_id) == 33 and end_to_end_id.startswith("DD202611-"):
            try:
                key, tail = int(end_to_end_id[9:25], 16), int(end_to_end_id[25:], 16)
            except ValueError:
                key, tail = -1, -1
            slot = key & self.mask if key >= 0 else -1
            while slot >= 0:
                n = self.table[slot]
                if n < 0:
                    break
                if self.keys[n] == key and self.tails[n] == tail:
                    found = n
                    break
                slot = (slot + 1) & self.mask
        self._last = (end_to_end_id, found)
        return found

    def get(self, end_to_end_id: str) -> ExpectedDebit | None:
        n = self._find(end_to_end_id)
        if n is None:
            return None
        return ExpectedDebit(end_to_end_id, f"bench-{n}", PERIOD, amount(n), MSG, PMTINF)

    def of_payment(self, msg_id: str, pmtinf_id: str | None) -> Iterable[ExpectedDebit]:
        return []  # the bench file carries one transaction per entry, always with its EndToEndId

    def status(self, end_to_end_id: str) -> DebitStatus:
        n = self._find(end_to_end_id)
        if n is None:
            return DebitStatus()
        return DebitStatus(_STATES[self.states[n]], self.collected[n], self.returned[n], self.reasons.get(n))

    def update(self, debit: ExpectedDebit, status: DebitStatus) -> None:
        n = int(debit.dossier_id[6:])
        self.states[n] = _STATES.index(status.state)
        self.collected[n] = status.collected_cents
        self.returned[n] = status.returned_cents
        if status.reason is not None:
            self.reasons[n] = status.reason

    def report_seen(self, key: str) -> bool:
        return key in self.reports

    def remember_report(self, key: str) -> None:
        self.reports.add(key)


def _entry(ref: str, cents: int, end_to_end_id: str, debit: bool) -> str:
    side = "DBIT" if debit else "CRDT"
    sub = "UPDD" if debit else "ESDD"
    value = f"{cents // 100}.{cents % 100:02d}"
    reason = "<RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf>" if debit else ""
    return (
        f'<Ntry><NtryRef>{ref}</NtryRef><Amt Ccy="EUR">{value}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
        f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-11-05</Dt></BookgDt><ValDt><Dt>2026-11-05</Dt></ValDt>"
        f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RDDT</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f"<NtryDtls><TxDtls><Refs><MsgId>{MSG}</MsgId><PmtInfId>{PMTINF}</PmtInfId>"
        f'<EndToEndId>{end_to_end_id}</EndToEndId></Refs><Amt Ccy="EUR">{value}</Amt>'
        f"<CdtDbtInd>{side}</CdtDbtInd>{reason}</TxDtls></NtryDtls></Ntry>\n"
    )


def write_camt054(path: Path, entries: int) -> None:
    """N entries: every debit credited once, then 3 % of them returned, 0.1 % unknown credits."""
    returns = entries * 3 // 100
    unknown = entries // 1000
    credits = entries - returns - unknown
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>'
            "<GrpHdr><MsgId>BENCH-NTF-0001</MsgId><CreDtTm>2026-11-05T18:00:00+01:00</CreDtTm></GrpHdr>"
            "<Ntfctn><Id>BENCH-NTF-0001-1</Id>"
            f"<Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>\n"
        )
        for n in range(credits):
            out.write(_entry(f"C{n}", amount(n), e2e(n), debit=False))
        for n in range(returns):
            out.write(_entry(f"R{n}", amount(n), e2e(n), debit=True))
        for n in range(unknown):
            out.write(_entry(f"U{n}", 1000, e2e(10**9 + n), debit=False))
        out.write("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n")


class ChildPeak:
    """Samples the peak RSS (VmHWM) of this process's children, e.g. the XSD validator.

    `RUSAGE_CHILDREN` cannot tell it: Linux keeps the RSS a child had between fork and exec, i.e.
    a copy of the parent's, as its max RSS; VmHWM of the child's own address space is the truth."""

    def __init__(self, every: float = 0.1) -> None:
        self.peak_kb = 0
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for task in Path("/proc/self/task").iterdir():
            try:
                pids = (task / "children").read_text().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._sample()

    def __enter__(self) -> ChildPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-camt054-"))
    work.mkdir(parents=True, exist_ok=True)
    path = work / "camt054-bench.xml"
    try:
        started = time.perf_counter()
        write_camt054(path, args.entries)
        generated = time.perf_counter() - started
        returns = args.entries * 3 // 100
        book = CompactDebitBook(args.entries - returns - args.entries // 1000)
        started = time.perf_counter()
        cpu_started = time.process_time()
        reconciler = Reconciler(book)
        count = 0
        with ChildPeak() as children:
            for _outcome in reconciler.run(read_report(path)):
                count += 1
        seconds = time.perf_counter() - started
        timed_cpu = time.process_time() - cpu_started
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        validator_kb = children.peak_kb
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        child_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(
            json.dumps(
                {
                    "entries": args.entries,
                    "seconds": round(seconds, 2),
                    "peak_rss_mb": round(peak_kb / 1024, 1),
                    "validator_peak_rss_mb": round(validator_kb / 1024, 1),
                    "total_peak_rss_mb": round((peak_kb + validator_kb) / 1024, 1),
                    "reconcile_cpu_seconds": round(timed_cpu, 1),
                    "cpu_seconds": round(cpu.ru_utime + cpu.ru_stime, 1),
                    "validator_cpu_seconds": round(child_cpu.ru_utime + child_cpu.ru_stime, 1),
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                    "outcomes": count,
                    "counts": dict(reconciler.summary.counts),
                    "file_mb": round(path.stat().st_size / 1e6, 1),
                    "generate_seconds": round(generated, 2),
                }
            )
        )
    finally:
        if not args.keep:
            if args.work is None:
                shutil.rmtree(work, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
