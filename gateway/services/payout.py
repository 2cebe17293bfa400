"""The payout run: pay each creditor parent what was actually collected, by SEPA credit transfer.

`gateway sepa credits --date YYYY-MM-DD` calls `run_credits`. A payout covers one settled debit
(never one merely issued: the fund pays what it received, docs/payment-cycle.md "Payouts") collected
before the execution date, the day after at the earliest; one payout per debit, ever. It goes to
the creditor's payout account as the back-office recorded it (gateway.services.mandates), never to
the bank details a title brought: a dossier without one is listed (`no-payout-account`) and paid
by the first run after the account is recorded. The file is pain.001 with purpose ALMY,
validated, signed, archived and sent like the collection file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gateway.sepa import addresses
from gateway.sepa import rules as sepa_rules
from gateway.sepa.countries import bank_outside_eea
from gateway.sepa.ids import end_to_end_id, payment_info_id
from gateway.sepa.ids import message_id as make_message_id
from gateway.sepa.model import CreditTransfer, Fund, MessageHeader, Pain001Version
from gateway.sepa.pain001 import write_pain001
from gateway.services.collection import NO_PAYOUT_ACCOUNT, Progress, RunReport, party_address, remittance
from gateway.services.emission import emit_and_record, hand_off, hand_off_pending
from gateway.services.ports import Archive, BankChannel, PaymentsRepository, PaymentsStore, Signer
from gateway.services.records import CreditRow, PayoutAccountRow


def credit_transfer(row: CreditRow) -> CreditTransfer:
    """The pain.001 transaction of a recorded payout (the row holds everything the file says)."""
    return CreditTransfer(
        end_to_end_id=row.end_to_end_id,
        amount_cents=row.amount_cents,
        execution_date=row.execution_date,
        creditor_name=row.creditor_name,
        creditor_iban=row.creditor_iban,
        creditor_bic=row.creditor_bic,
        creditor_address=addresses.from_json(row.creditor_address),
        remittance=remittance(row.dossier_id, row.period),
    )


def _creditor_address(payments: PaymentsRepository, dossier_id: str, account: PayoutAccountRow) -> str | None:
    """The creditor's address from the title, only for a payout account outside the EEA (EPC 2025:
    then required); the dossier is read only in that rare case."""
    if not bank_outside_eea(account.iban, account.bic):
        return None
    dossier = payments.dossier(dossier_id)
    data: dict[str, Any] = json.loads(dossier.canonical_json) if dossier is not None else {"creditor": {}}
    return party_address(data, "creditor", account.iban, account.bic)


def run_credits(
    store: PaymentsStore,
    *,
    execution_date: date,
    fund: Fund,
    created_at: datetime,
    staging_dir: Path,
    signer: Signer,
    archive: Archive,
    channel: BankChannel,
    version: Pain001Version = Pain001Version.V09,
    progress: Progress = lambda _n: None,
) -> RunReport:
    """Pay out every settled, unpaid debit collected before `execution_date`: what the bank
    actually credited (`debit_progress.collected_cents`), which is the instructed amount unless a
    report said otherwise."""
    hand_off_pending(store, channel)  # a file an earlier run recorded but never handed over
    report = RunReport()
    label = execution_date.isoformat()
    with store.transaction() as uow:
        payments = uow.payments
        run = payments.count_files("pain.001", label) + 1
        msg_id = make_message_id(f"{label}#{run}", "CT", created_at.date())
        for page in payments.settled_unpaid_pages(until=date.fromordinal(execution_date.toordinal() - 1)):
            rows: list[CreditRow] = []
            accounts = uow.mandates.payout_accounts([debit.dossier_id for debit, _ in page])
            for debit, collected in page:
                progress(1)
                if collected <= 0:
                    report.skip("nothing collected")
                    continue
                account = accounts.get(debit.dossier_id)
                if account is None:
                    report.skip(NO_PAYOUT_ACCOUNT)
                    report.wait(NO_PAYOUT_ACCOUNT, debit.dossier_id)
                    continue
                row = CreditRow(
                    end_to_end_id=end_to_end_id(debit.dossier_id, "CT", debit.period),
                    dossier_id=debit.dossier_id,
                    debit_end_to_end_id=debit.end_to_end_id,
                    period=debit.period,
                    amount_cents=collected,
                    creditor_name=account.holder,
                    creditor_iban=account.iban,
                    creditor_bic=account.bic,
                    execution_date=execution_date,
                    message_id=msg_id,
                    payment_info_id=payment_info_id(msg_id, None, execution_date),
                    status="issued",
                    created_at=created_at,
                    creditor_address=_creditor_address(payments, debit.dossier_id, account),
                )
                refused = sepa_rules.check_credit(
                    sepa_rules.normalize_credit(credit_transfer(row)),
                    f"dossiers[{debit.dossier_id}]",
                )
                if refused:
                    report.refused.extend(refused)
                    report.skip("refused by the EPC rules")
                    continue
                rows.append(row)
                report.count += 1
                report.total_cents += row.amount_cents
            payments.add_credits(rows)
        if report.count == 0:
            return report

        def source() -> Iterator[CreditTransfer]:
            return map(credit_transfer, payments.credits_of_message(msg_id))

        staging_dir.mkdir(parents=True, exist_ok=True)
        path = staging_dir / f"{msg_id}.xml"
        summary = write_pain001(path, MessageHeader(msg_id, created_at), fund, source, version=version)
        emit_and_record(
            path, summary, uow=uow, payments=payments, kind="pain.001", label=label,
            event={"execution_date": label}, created_at=created_at,
            signer=signer, archive=archive,
        )  # fmt: skip
    # committed: now, and only now, the bank gets the recorded file (gateway.services.emission, outbox)
    report.message_id, report.file = msg_id, path
    report.channel_ref = hand_off(store, channel, msg_id)
    return report
