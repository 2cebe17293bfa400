"""The monthly collection run: which debits are due, one pain.008 file, signed, archived and sent.

`gateway sepa debits --period YYYY-MM` calls `run_debits`. In one transaction it pages through the
accepted dossiers, takes each one whose debtor signed a mandate (gateway.services.mandates: a dossier
still in force without one is listed as waiting, `mandate-pending`, never debited), schedules the
period's debit
(gateway.payments.schedule), records it (one row per dossier and period: a second run of the same
period finds nothing new) and streams the file from those rows; the file is then validated against
the official XSD and signed before the transaction commits, so a run leaves either a complete,
valid, signed file and its debits, or neither. Archive, the file's record (outbox) and the
`file.emitted` event are in the transaction; the bank channel gets the recorded file after the
commit (`gateway.services.emission.hand_off`). A dossier whose data the EPC rules refuse (e.g. a holder name
with characters outside the SEPA set that cannot be transliterated) is left out and reported, not
allowed to stop the run.

The amount is the sum of the children's dues for the month (gateway.payments.dues: each child from
its own effective date, revalued, prorated for a month covered in part). A dossier whose month needs
an index value nobody has is held (`index-missing`): not debited, listed in `held`, and debited by a
later run of the same month once the index is imported. Each revaluation a debit applies for the
first time is recorded and published (`pension.revalued`, gateway.services.revalued).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import Any

from gateway.domain.money import to_cents
from gateway.errors import Code, Issue
from gateway.payments.calendar import next_business_day
from gateway.payments.dues import ChildDue, DossierTerms, child_dues, dossier_terms, month_bounds, terms_dues
from gateway.payments.indices import IndexSource, IndexTable, shipped_table
from gateway.payments.mandates import DebtorAccount, Mandate
from gateway.payments.profile import Decoder, InForceMemo, ProfileOutdated, debtor_address
from gateway.payments.revaluation import Clause, IndexMissing
from gateway.payments.schedule import Collectable, due_debit, scheduled_day
from gateway.payments.span import span_basis, steady_span
from gateway.sepa import addresses
from gateway.sepa import rules as sepa_rules
from gateway.sepa.batches import Batch, Plan
from gateway.sepa.countries import SEPA, bank_outside_eea
from gateway.sepa.ids import message_id as make_message_id
from gateway.sepa.ids import payment_info_id
from gateway.sepa.model import (
    Amendment,
    DirectDebit,
    Fund,
    MessageHeader,
    Pain008Version,
    SequenceType,
    WriteSummary,
)
from gateway.sepa.pain008 import write_pain008_planned
from gateway.services.emission import emit_and_record, hand_off, hand_off_pending
from gateway.services.ports import (
    Archive,
    BankChannel,
    CollectionReads,
    DossierRow,
    EventRepository,
    IndicesRepository,
    PaymentsRepository,
    PaymentsStore,
    Signer,
)
from gateway.services.records import STATUS_SIGNED, CollectionRow, DebitRow, FileDebit, MandateRow, SpanRow
from gateway.services.revalued import record_revaluations

Progress = Callable[[int], None]
MANDATE_PENDING, NO_PAYOUT_ACCOUNT = str(Code.MANDATE_PENDING), str(Code.NO_PAYOUT_ACCOUNT)
WAITING_SHOWN = 100  # dossier ids kept per reason in a run's summary (all: `gateway mandates pending`)


@dataclass
class Waiting:
    """Dossiers a run left waiting for one reason: how many, and the first ones."""

    count: int = 0
    dossiers: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "dossiers": self.dossiers}


@dataclass
class RunReport:
    """What a run did, for the command line and the tests."""

    message_id: str | None = None
    file: Path | None = None
    count: int = 0
    total_cents: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    refused: list[Issue] = field(default_factory=list)
    held: list[Issue] = field(default_factory=list)  # months held: an index value is missing
    revalued: int = 0  # `pension.revalued` events published
    channel_ref: str | None = None
    waiting: dict[str, Waiting] = field(default_factory=dict)
    exact_path: int = 0  # dossiers read from their canonical JSON (no collection profile)
    from_spans: int = 0  # debits issued in SQL from steady spans (gateway.payments.span)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def hold(self, dossier_id: str, missing: IndexMissing) -> None:
        self.held.append(Issue(missing.code, f"dossiers[{dossier_id}].{missing.field}", missing.message))
        self.skip("held: index missing")

    def wait(self, reason: str, dossier_id: str) -> None:
        """`dossier_id` waits for something the back-office records (`mandate-pending`,
        `no-payout-account`): listed by reason in the run's summary."""
        found = self.waiting.setdefault(reason, Waiting())
        found.count += 1
        if len(found.dossiers) < WAITING_SHOWN:
            found.dossiers.append(dossier_id)


def remittance(dossier_id: str, period: str) -> str:
    # No personal data: the dossier id and the month are enough for the debtor and the bank.
    return f"PENSION ALIMENTAIRE {period} DOSSIER {dossier_id}"


def signed(mandate: MandateRow | None) -> MandateRow | None:
    """The mandate if the debtor signed it: a pending one (the title's bank details, the parents'
    consent of art. R. 582-4-1 CSS) is never debited (EPC016: the debtor signs before the first
    collection, AT-25)."""
    if mandate is None or mandate.status != STATUS_SIGNED or mandate.signed_on is None:
        return None
    return mandate


def collectable(
    dossier: DossierRow, data: dict[str, Any], mandate: MandateRow, dues: tuple[ChildDue, ...] | None = None
) -> Collectable:
    """The dossier as the schedule needs it. With the month's `dues`, the amount is their sum and
    the dates are theirs (the dues already stop at the end date); a pension that starts after the
    month's collection day is collected on its first day rather than before it is owed."""
    start = min(date.fromisoformat(c["effective_date"]) for c in data["children"])
    if dues:
        return collectable_of(dossier.dossier_id, mandate, dues, start)
    total = 0 if dues is not None else to_cents(Decimal(data["monthly_total"]))
    end = date.fromisoformat(data["end_date"]) if data["end_date"] and dues is None else None
    return _collectable(dossier.dossier_id, mandate, total, start, end)


def collectable_of(
    dossier_id: str, mandate: MandateRow, dues: tuple[ChildDue, ...], default_start: date | None = None
) -> Collectable:
    """`collectable` from the month's dues (at least one), which carry their dates (`owed_from`;
    `default_start`, the title's first effective date, for dues that do not)."""
    total = sum(d.due_cents for d in dues)
    start = min((d.owed_from for d in dues if d.owed_from is not None), default=default_start)
    if start is None:
        raise ValueError("dues without dates need the title's effective date")
    found = _collectable(dossier_id, mandate, total, start, None)
    period = dues[0].period
    if start.year == int(period[:4]) and start.month == int(period[5:7]):  # it starts this month
        nominal = scheduled_day(period, found)
        if nominal < start:
            found = replace(found, collection_day=start.day)
    return found


def _collectable(
    dossier_id: str, mandate: MandateRow, total: int, start: date, end: date | None
) -> Collectable:
    if mandate.signed_on is None:
        raise ValueError("only a signed mandate is collected on")
    amendment = Amendment(**mandate.pending_amendment) if mandate.pending_amendment else None
    return Collectable(
        dossier_id=dossier_id,
        monthly_total_cents=total,
        collection_day=mandate.collection_day,
        effective_date=start,
        end_date=end,
        mandate=Mandate(
            mandate.reference,
            mandate.signed_on,
            DebtorAccount(mandate.debtor_name, mandate.iban, mandate.bic),
        ),
        first_collection_done=mandate.first_collection_done,
        chosen_day=mandate.chosen_day,
        amendment=amendment,
    )


def amendment_json(amendment: Amendment | None) -> str | None:
    return json.dumps(asdict(amendment)) if amendment is not None else None


def direct_debit(row: DebitRow) -> DirectDebit:
    """The pain.008 transaction of a recorded debit (the row holds everything the file says)."""
    return file_direct_debit(FileDebit._make(_FILE_COLUMNS(row)))


_SEQUENCES = {s.value: s for s in SequenceType}
_FILE_COLUMNS = attrgetter(*FileDebit._fields)


def file_direct_debit(debit: FileDebit) -> DirectDebit:
    """The pain.008 transaction of the columns of a recorded debit its file says, built
    positionally (1,000,000 a month, read by `PaymentsRepository.file_debits`)."""
    e2e, cents, mandate, signed, sequence, day, name, iban, bic, address, dossier, period, amendment = debit
    return DirectDebit(
        e2e, cents, mandate, signed, _SEQUENCES[sequence], day, name, iban, bic,
        addresses.from_json(address) if address is not None else None,
        remittance(dossier, period),
        Amendment(**json.loads(amendment)) if amendment else None,
    )  # fmt: skip


def party_address(data: dict[str, Any], party: str, iban: str, bic: str | None) -> str | None:
    """The party's address from its title, as stored JSON, only when the EPC 2025 rules require
    it (its bank is in a non-EEA SEPA country); a missing one is then refused by the rules."""
    if not bank_outside_eea(iban, bic):
        return None
    return addresses.to_json(addresses.hybrid_address(data[party].get("address")))


class _Dues:
    """A dossier's dues for the month and its debtor's address: from its profile (the fast path:
    decoded terms, amounts in force memoized), or, for a dossier without a profile this gateway
    reads, from its canonical JSON through `child_dues` itself (the exact path). Both give the
    same dues (gateway.payments.profile, property-tested; tests/integration/sepa/test_profile_runs.py)."""

    def __init__(self, payments: PaymentsRepository, period: str, indices: IndexSource) -> None:
        self._payments, self._period, self._indices = payments, period, indices
        self._decoder, self._in_force = Decoder(), InForceMemo()
        self.exact = 0  # dossiers read from their JSON

    @property
    def in_force(self) -> InForceMemo:
        return self._in_force

    def of(self, row: CollectionRow) -> tuple[tuple[ChildDue, ...], str | None, DossierTerms]:
        """(dues, debtor address JSON, the dossier's terms); raises `IndexMissing` for a month
        held."""
        if row.terms is not None:
            try:
                terms = self._decoder.decode(row.terms)
            except ProfileOutdated:
                pass
            else:
                dues = terms_dues(terms, self._period, self._indices, self._in_force)
                return dues, row.debtor_address, terms
        self.exact += 1
        found = self._payments.dossier(row.dossier_id)
        assert found is not None, "the page query returned it"
        data = json.loads(found.canonical_json)
        terms = dossier_terms(data)
        return child_dues(data, self._period, self._indices), debtor_address(data), terms


def _issue_debits(
    payments: PaymentsRepository,
    reads: CollectionReads,
    *,
    period: str,
    msg_id: str,
    now: datetime,
    report: RunReport,
    progress: Progress,
    indices: IndexSource,
    indices_repo: IndicesRepository,
    events: EventRepository,
    basis: str,
) -> None:
    """Schedule and record the period's debits of the dossiers `issue_spans` did not take, a page
    of dossiers at a time; each revaluation a debit applies for the first time is recorded and
    published (gateway.services.revalued); each debit's steady span is stored for the next runs."""
    dues_of = _Dues(payments, period, indices)
    batch_ids: dict[tuple[str, date], str] = {}
    for page in reads.pages(period, skip_message=msg_id):
        progress(len(page))
        rows: list[DebitRow] = []
        spans: list[SpanRow] = []
        changed: list[str] = []
        revalued: list[tuple[str, tuple[ChildDue, ...], tuple[Clause, ...]]] = []
        for found in page:
            dossier_id = found.dossier_id
            if found.issued:
                report.skip("already issued for the period")
                continue
            mandate = signed(found.mandate)
            try:
                dues, address, terms = dues_of.of(found)
            except IndexMissing as missing:
                if mandate is None:  # something is owed, whatever its amount: the mandate first
                    report.skip(MANDATE_PENDING)
                    report.wait(MANDATE_PENDING, dossier_id)
                else:
                    report.hold(dossier_id, missing)
                continue
            if mandate is None:
                if dues:
                    report.skip(MANDATE_PENDING)
                    report.wait(MANDATE_PENDING, dossier_id)
                else:
                    report.skip("nothing due this period")
                continue
            due = due_debit(period, collectable_of(dossier_id, mandate, dues)) if dues else None
            if due is None:
                report.skip("nothing due this period")
                continue
            key = (due.sequence.value, due.collection_date)
            batch_id = batch_ids.get(key)
            if batch_id is None:
                batch_id = batch_ids[key] = payment_info_id(msg_id, *key)
            row = DebitRow(
                end_to_end_id=due.end_to_end_id,
                dossier_id=dossier_id,
                period=period,
                amount_cents=due.amount_cents,
                collection_date=due.collection_date,
                sequence=due.sequence.value,
                mandate_reference=mandate.reference,
                mandate_signed_on=due.mandate.signed_on,
                debtor_name=mandate.debtor_name,
                debtor_iban=mandate.iban,
                debtor_bic=mandate.bic,
                amendment=amendment_json(due.amendment),
                message_id=msg_id,
                payment_info_id=batch_id,
                status="issued",
                reason=None,
                created_at=now,
                debtor_address=address if bank_outside_eea(mandate.iban, mandate.bic) else None,
            )
            debit = sepa_rules.normalize_debit(direct_debit(row))
            clean = sepa_rules.debit_is_clean(debit)  # the fast path: full check only when needed
            refused = [] if clean else sepa_rules.check_debit(debit, f"dossiers[{dossier_id}]")
            if refused:
                report.refused.extend(refused)
                report.skip("refused by the EPC rules")
                continue
            rows.append(row)
            if not mandate.first_collection_done or mandate.pending_amendment:
                changed.append(dossier_id)  # FRST or amendment sent: the mandate moves on
            report.count += 1
            report.total_cents += due.amount_cents
            if any(d.index is not None for d in dues):
                revalued.append((dossier_id, dues, tuple(c.clause for c in terms.children)))
            span = steady_span(terms, period, dues, indices, dues_of.in_force)
            if span is not None and span.amount_cents > 0 and mandate.signed_on is not None:
                spans.append(
                    SpanRow(
                        dossier_id, span.first, span.last, span.amount_cents, basis, mandate.reference,
                        mandate.signed_on, mandate.debtor_name, mandate.iban, mandate.bic,
                        mandate.collection_day, mandate.chosen_day, row.debtor_address,
                    )
                )  # fmt: skip
            if not found.has_payout_account:  # collected; its payout will wait
                report.wait(NO_PAYOUT_ACCOUNT, dossier_id)
        payments.add_debits(rows)
        payments.mark_collected(changed, now)
        reads.save_spans(spans)
        report.revalued += _record_revaluations(
            reads, indices_repo, events, revalued, indices=indices, at=now
        )
    report.exact_path = dues_of.exact


def _record_revaluations(
    reads: CollectionReads,
    indices_repo: IndicesRepository,
    events: EventRepository,
    revalued: list[tuple[str, tuple[ChildDue, ...], tuple[Clause, ...]]],
    *,
    indices: IndexSource,
    at: datetime,
) -> int:
    """Record and publish the revaluations a page's debits apply for the first time. One query
    finds those recorded already (every month after the first of a revaluation year)."""
    if not revalued:
        return 0
    recorded = reads.recorded_revaluations([dossier_id for dossier_id, _, _ in revalued])
    published = 0
    for dossier_id, dues, clauses in revalued:
        if all(d.index is None or (dossier_id, d.child, d.index.revalued_on) in recorded for d in dues):
            continue
        published += record_revaluations(
            indices_repo, events, dossier_id=dossier_id, clauses=clauses, dues=dues,
            indices=indices, at=at,
        )  # fmt: skip
    return published


def span_days(period: str, msg_id: str) -> dict[int, tuple[date, str]]:
    """Per debit day (1-31: the title's day, else the debtor's choice), the collection date of a
    recurrent debit in `period` and its batch's PmtInfId: what `due_debit` gives a whole month
    (gateway.payments.schedule: the day clamped to the month, then the next TARGET business day)."""
    last = month_bounds(period)[1]
    found: dict[int, tuple[date, str]] = {}
    for day in range(1, 32):
        on = next_business_day(last.replace(day=min(day, last.day)))
        found[day] = (on, payment_info_id(msg_id, "RCUR", on))
    return found


def _write_file(
    payments: PaymentsRepository, path: Path, header: MessageHeader, fund: Fund, version: Pain008Version
) -> WriteSummary:
    """The file of the run's debits in one streamed pass: batch counts and control sums from the
    database (GROUP BY), each debit read, checked against the EPC rules and rendered once. A file
    a rule stops is deleted before anything else sees it, and the run's transaction rolls back."""
    batches = [
        Batch((seq, day), count, total, outside_eea)
        for seq, day, count, total, outside_eea in payments.message_batches(header.message_id, SEPA.non_eea)
    ]
    planned = Plan(
        batches=tuple(batches),
        count=sum(b.count for b in batches),
        total_cents=sum(b.total_cents for b in batches),
        grouped=True,
    )
    debits = map(file_direct_debit, payments.file_debits(header.message_id))
    try:
        return write_pain008_planned(path, header, fund, planned, debits, version=version)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def run_debits(
    store: PaymentsStore,
    *,
    period: str,
    fund: Fund,
    created_at: datetime,
    staging_dir: Path,
    signer: Signer,
    archive: Archive,
    channel: BankChannel,
    version: Pain008Version = Pain008Version.V08,
    progress: Progress = lambda _n: None,
    base_indices: IndexTable | None = None,
) -> RunReport:
    """Collect `period` (YYYY-MM): at most one debit per dossier and period, ever.

    `base_indices`: the index values under the imported ones (default: the shipped ones)."""
    hand_off_pending(store, channel)  # a file an earlier run recorded but never handed over
    report = RunReport()
    with store.transaction() as uow:
        uow.collection.hold_mandates()  # no mandate changes under the run (waits until it commits)
        payments = uow.payments
        run = payments.count_files("pain.008", period) + 1
        msg_id = make_message_id(f"{period}#{run}", "DD", created_at.date())
        indices_repo = uow.indices
        indices = indices_repo.index_source(base_indices)
        basis = span_basis(base_indices if base_indices is not None else shipped_table())
        with uow.collection.page_cache():
            # the dossiers whose steady span covers the month: one INSERT ... SELECT
            report.from_spans = report.count = uow.collection.issue_spans(
                period, message_id=msg_id, created_at=created_at, days=span_days(period, msg_id), basis=basis
            )
            _issue_debits(
                payments, uow.collection, period=period, msg_id=msg_id, now=created_at, report=report,
                progress=progress, indices=indices, indices_repo=indices_repo, events=uow.events,
                basis=basis,
            )  # fmt: skip
        if report.count == 0:
            return report

        staging_dir.mkdir(parents=True, exist_ok=True)
        path = staging_dir / f"{msg_id}.xml"
        summary = _write_file(payments, path, MessageHeader(msg_id, created_at), fund, version)
        if summary.count != report.count:  # the file is the run's debits, all of them
            path.unlink(missing_ok=True)
            raise RuntimeError(f"the file has {summary.count} debits, the run issued {report.count}")
        report.total_cents = summary.total_cents  # the spans' from the file's plan (GROUP BY)
        emit_and_record(
            path, summary, uow=uow, payments=payments, kind="pain.008", label=period,
            event={"period": period}, created_at=created_at,
            signer=signer, archive=archive,
        )  # fmt: skip
    # committed: now, and only now, the bank gets the recorded file (gateway.services.emission, outbox)
    report.message_id, report.file = msg_id, path
    report.channel_ref = hand_off(store, channel, msg_id)
    return report
