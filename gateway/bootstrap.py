"""The one composition root: settings -> the real store, signer, archive and services."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.archive.store import Archive
from gateway.config import Settings
from gateway.errors import Code, ConfigurationError
from gateway.infra.bank_channel import BankChannel, FolderChannel, HttpChannel
from gateway.private import private_dir, private_file
from gateway.sepa import rules as sepa_rules
from gateway.sepa.model import Fund, PostalAddress
from gateway.services.intake import IntakeServices
from gateway.signing.cms import Signer
from gateway.store import SqlStore, open_sql_store


@dataclass
class Gateway:
    """Everything the commands and the HTTP service share; close it when done."""

    settings: Settings
    store: SqlStore
    signer: Signer
    archive: Archive
    intake: IntakeServices

    def close(self) -> None:
        try:
            if self.archive.size:
                self.archive.checkpoint()
        finally:
            self.archive.close()
            self.store.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bank_channel(settings: Settings) -> BankChannel:
    """HTTP upload when GATEWAY_BANK_UPLOAD_URL is set, else the outbound folder."""
    if settings.bank_upload_url:
        return HttpChannel(settings.bank_upload_url)
    return FolderChannel(settings.effective_outbound_dir)


def fund_address(settings: Settings) -> PostalAddress | None:
    """The fund's own postal address from GATEWAY_CREDITOR_ADDRESS_* (None when the town is
    empty), refused at start-up with its EPC 2025 code when it is not structured or hybrid."""
    street, number, postcode = (
        settings.creditor_address_street or None,
        settings.creditor_address_building_number or None,
        settings.creditor_address_postcode or None,
    )
    lines = tuple(settings.creditor_address_lines)
    if not settings.creditor_address_town.strip():
        if street or number or lines:
            raise ConfigurationError(
                "the fund's address has a street or lines but no town: set GATEWAY_CREDITOR_ADDRESS_TOWN "
                "(an address of free lines only is refused by the EPC 2025 rulebooks)",
                code=Code.SEPA_ADDRESS_UNSTRUCTURED,
                field="creditor_address_town",
            )
        return None
    address = sepa_rules.normalize_address(
        PostalAddress(
            country=settings.creditor_address_country.strip(),
            town=settings.creditor_address_town.strip(),
            postcode=postcode,
            street=street,
            building_number=number,
            lines=lines,
        )
    )
    issues = list(sepa_rules.address_rule(address, "creditor_address"))
    if issues:
        first = issues[0]
        part = first.field.split(".")[-1].split("[")[0]  # town, lines[1] -> lines, ...
        raise ConfigurationError(
            f"GATEWAY_CREDITOR_ADDRESS_{part.upper()}: {first.message}",
            code=first.code,
            field=f"creditor_address_{part}",
        )
    return address


def fund(settings: Settings) -> Fund:
    """The fund as SEPA party: creditor of the debits (ICS), debtor of the payouts, with its
    postal address (written where a party's bank is outside the EEA)."""
    return Fund(
        settings.creditor_name,
        settings.creditor_iban,
        settings.creditor_bic,
        settings.creditor_id,
        fund_address(settings),
    )


def build(settings: Settings) -> Gateway:
    """Open the configured store (migrated to the latest schema), signer and archive."""
    fund_address(settings)  # a malformed fund address is refused at start-up, not at the run
    private_dir(settings.data_dir)  # titles, dossiers and SEPA files: the service user's alone
    if settings.database_url is None:  # SQLite copies the database file's mode to its -wal/-shm
        private_file(settings.data_dir / "gateway.sqlite3")
    signer = Signer.from_settings(settings)
    store = open_sql_store(settings.effective_database_url)
    archive = Archive(
        store,
        settings.effective_archive_dir / "blobs",
        signer=signer,
        checkpoint_every=settings.archive_checkpoint_every,
    )
    if (settings.effective_archive_dir / "journal.log").exists() and not archive.size:
        store.close()
        raise ConfigurationError(
            f"{settings.effective_archive_dir} holds an archive in the old folder layout: move it into "
            "the database with `gateway archive migrate --from <that folder>` (docs/archive.md)",
            field="archive_dir",
        )
    intake = IntakeServices(store=store, signer=signer, archive=archive, max_bytes=settings.max_payload_bytes)
    return Gateway(settings, store, signer, archive, intake)
