"""The SEPA runs as one service: the monthly collection (pain.008) and the payouts (pain.001).

Holds what both runs share, given once by the composition root (gateway.bootstrap): the store,
the fund as SEPA party, the signer, the archive, the bank channel, the staging folder and the
clock. `gateway sepa debits|credits` and the demo call it; the runs themselves are
gateway.services.collection.run_debits and gateway.services.payout.run_credits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from gateway.payments.indices import IndexTable
from gateway.sepa.model import Fund, Pain001Version, Pain008Version
from gateway.services.collection import RunReport, run_debits
from gateway.services.payout import run_credits
from gateway.services.ports import Archive, BankChannel, Clock, PaymentsStore, Signer


def _ignore(_n: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class SepaRuns:
    store: PaymentsStore
    fund: Fund
    signer: Signer
    archive: Archive
    channel: BankChannel
    staging_dir: Path
    clock: Clock

    def debits(
        self,
        period: str,
        *,
        version: Pain008Version = Pain008Version.V08,
        progress: Callable[[int], None] = _ignore,
        base_indices: IndexTable | None = None,
    ) -> RunReport:
        """Collect `period` (YYYY-MM): at most one debit per dossier and month, ever."""
        return run_debits(
            self.store, period=period, fund=self.fund, created_at=self.clock(), staging_dir=self.staging_dir,
            signer=self.signer, archive=self.archive, channel=self.channel, version=version,
            progress=progress, base_indices=base_indices,
        )  # fmt: skip

    def credits(
        self,
        execution_date: date,
        *,
        version: Pain001Version = Pain001Version.V09,
        progress: Callable[[int], None] = _ignore,
    ) -> RunReport:
        """Pay out every settled, unpaid debit collected before `execution_date`."""
        return run_credits(
            self.store, execution_date=execution_date, fund=self.fund, created_at=self.clock(),
            staging_dir=self.staging_dir, signer=self.signer, archive=self.archive,
            channel=self.channel, version=version, progress=progress,
        )  # fmt: skip
