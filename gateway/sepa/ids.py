"""Deterministic SEPA identifiers: MsgId, PmtInfId, EndToEndId and mandate references.

Every identifier is a pure function of business keys, so a re-run of the same period writes the
same ids (golden files need no masking, banks reject a second file with a known MsgId, and a
dossier's month always has the same EndToEndId, which the bank reports quote back; reconciliation
finds the debit by the id stored with it, docs/payment-cycle.md):

    MsgId       = "DD" | "CT"  YYYYMMDD(of the period/date)  "-"  H(run id, kind, day)[:16]
    PmtInfId    = "PI-"  H(MsgId, batch key)[:12]  "-"  batch key (SEQ-YYYYMMDD | YYYYMMDD)
    EndToEndId  = kind  YYYYMM  "-"  dossier id  ("-" attempt when > 1)   a gateway dossier id
                = kind  YYYYMM  "-"  H(dossier id, kind, period, attempt)[:24]   any other id
    MandateId   = "ARIPA-"  H(dossier id)[:24]  ("-" version when > 1)

H is SHA-256 in upper-case hexadecimal (C-speed `hexdigest`; base32 in Python 3.11 is pure
Python and cost 5 us per id at national scale): the result is in the SEPA identifier set, at
most 35 characters, never starts/ends with `/` nor contains `//` (EPC130-08 AT-01/AT-10,
IG §1.5). 24 hex digits are 96 bits: a collision among millions of dossiers is negligible
(birthday bound ~ 10^-17 for 10^6 ids).

A gateway dossier id (`DOS-` and 16 base-32 characters, gateway.canonical.dossier) is written
into the EndToEndId as it is: the ids of one month then sort like the dossiers, so the run, which
issues its debits in dossier order, appends to the debits' key index instead of writing at a
random page of it for each debit (bench/README.md: the national run), and anyone holding a bank
report sees which dossier a line belongs to. The two forms cannot meet: the first has 29 to 35
characters and a `-` after the dossier id's `DOS`, the second 33 characters and hexadecimal digits
only after the period.

The EndToEndId deliberately does not contain the run id: the same dossier and month get the same
EndToEndId in any run, which is what makes "the same debit twice" detectable downstream.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Literal

Kind = Literal["DD", "CT"]

# gateway.canonical.dossier.dossier_id_for: "DOS-" + base-32 of 10 bytes
GATEWAY_PREFIX, GATEWAY_BODY_LENGTH, GATEWAY_BODY_ALPHABET = "DOS-", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
GATEWAY_DOSSIER_ID = re.compile(rf"{GATEWAY_PREFIX}[{GATEWAY_BODY_ALPHABET}]{{{GATEWAY_BODY_LENGTH}}}")


def _digest(*parts: str, length: int) -> str:
    # "\x1f" (unit separator) cannot appear in the parts' own text, so no ambiguity.
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length].upper()


def period_key(period: str) -> str:
    """Validate a `YYYY-MM` period and return its compact `YYYYMM` form."""
    year, dash, month = period[:4], period[4:5], period[5:]
    if dash != "-" or len(period) != 7 or not (year + month).isdigit():
        raise ValueError(f"period must be YYYY-MM, not {period!r}")
    if not 1 <= int(month) <= 12:
        raise ValueError(f"period month out of range in {period!r}")
    return year + month


def message_id(run_id: str, kind: Kind, day: date) -> str:
    """MsgId of one file (27 characters), e.g. `DD20261101-26EC836B13069CEF`."""
    return f"{kind}{day:%Y%m%d}-{_digest(run_id, kind, day.isoformat(), length=16)}"


def payment_info_id(msg_id: str, sequence: str | None, day: date) -> str:
    """PmtInfId of one batch: debits per (sequence, date), credits per date (≤ 33 characters)."""
    key = f"{sequence}-{day:%Y%m%d}" if sequence else f"{day:%Y%m%d}"
    return f"PI-{_digest(msg_id, key, length=12)}-{key}"


def end_to_end_id(dossier_id: str, kind: Kind, period: str, attempt: int = 1) -> str:
    """EndToEndId of one dossier's debit or payout for a `YYYY-MM` period (at most 35
    characters): the gateway dossier id itself after the kind and period, any other id hashed.

    `attempt` > 1 is for a deliberate re-presentation after a reject; it changes the id."""
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    if GATEWAY_DOSSIER_ID.fullmatch(dossier_id) and attempt < 100_000:
        tail = "" if attempt == 1 else f"-{attempt}"
        return f"{kind}{period_key(period)}-{dossier_id}{tail}"
    extra = () if attempt == 1 else (str(attempt),)
    return f"{kind}{period_key(period)}-{_digest(dossier_id, kind, period, *extra, length=24)}"


def mandate_reference(dossier_id: str, version: int = 1) -> str:
    """Unique mandate reference (UMR, EPC130-08 AT-01) of a dossier, ≤ 35 characters.

    A new version is only needed when a new mandate replaces the old one (then the old
    reference goes into the amendment details); a changed account keeps the reference."""
    if version < 1:
        raise ValueError("mandate version starts at 1")
    base = f"ARIPA-{_digest(dossier_id, 'mandate', length=24)}"
    return base if version == 1 else f"{base}-{version}"
