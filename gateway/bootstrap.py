"""The one composition root: settings -> the real store, signer, archive, bank channel, clock and
the services built on them (docs/architecture.md).

Every entry point takes what it needs from `build(settings)`: the command line (each command, with
the settings its group read once: gateway.cli.current_settings), `gateway serve`
(gateway.transport.http.wiring), the delivery worker and the demo. Nothing below this module reads
settings: the signer, the archive and the bank channel are given their paths, keys and thresholds
here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from gateway.archive.store import Archive
from gateway.config import Settings
from gateway.console.services import ConsoleServices, csrf_key_from
from gateway.errors import Code, ConfigurationError
from gateway.infra.bank_channel import FolderChannel, HttpChannel
from gateway.infra.delivery import BackgroundDelivery, background_from_settings, worker_from_settings
from gateway.private import private_dir, private_file
from gateway.sepa import rules as sepa_rules
from gateway.sepa.model import Fund, PostalAddress
from gateway.services.delivery import DeliveryWorker
from gateway.services.feed import EventFeed
from gateway.services.intake import IntakeServices
from gateway.services.ledger import Ledgers
from gateway.services.mandates import Mandates
from gateway.services.ports import BankChannel, Clock, WebhookSender
from gateway.services.schedule import Schedules
from gateway.services.sepa_runs import SepaRuns
from gateway.signing.cms import Signer, load_trust_anchors
from gateway.store import SqlStore, open_sql_store
from gateway.store.wal import WalCheckpointer

# seconds between two WAL checkpoints (SQLite) of `gateway serve`, and of a batch command whose one
# big commit should be copied into the database file as soon as it lands (gateway.store.wal)
SERVER_CHECKPOINT_EVERY = 0.5
BATCH_CHECKPOINT_EVERY = 0.1


def utc_now() -> datetime:
    """The real clock (gateway.services.ports.Clock)."""
    return datetime.now(UTC)


@dataclass
class Gateway:
    """Everything the commands and the HTTP service share; close it when done."""

    settings: Settings
    store: SqlStore
    signer: Signer
    archive: Archive
    intake: IntakeServices
    channel: BankChannel
    clock: Clock = utc_now
    sepa: SepaRuns = field(init=False)
    ledgers: Ledgers = field(init=False)
    mandates: Mandates = field(init=False)
    schedules: Schedules = field(init=False)
    feed: EventFeed = field(init=False)
    _wal: WalCheckpointer | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.sepa = SepaRuns(
            store=self.store,
            fund=fund(self.settings),
            signer=self.signer,
            archive=self.archive,
            channel=self.channel,
            staging_dir=self.settings.data_dir / "staging",
            clock=self.clock,
        )
        self.ledgers = Ledgers(self.store, clock=self.clock)
        self.mandates = Mandates(self.store, clock=self.clock)
        self.schedules = Schedules(self.store)
        self.feed = EventFeed(self.store)

    def delivery_worker(self, *, sender: WebhookSender | None = None) -> DeliveryWorker:
        """The webhook worker of the configured subscriptions (`gateway deliver`)."""
        return worker_from_settings(
            self.settings, store=self.store, archive=self.archive, signer=self.signer, sender=sender
        )

    def background_delivery(self) -> BackgroundDelivery | None:
        """The worker `gateway serve` runs in a thread; None when there is nothing to deliver."""
        return background_from_settings(
            self.settings, store=self.store, archive=self.archive, signer=self.signer
        )

    def start_wal_checkpoints(self, *, every: float = SERVER_CHECKPOINT_EVERY) -> None:
        """On SQLite, checkpoint the write-ahead log in a thread, off the commit path, until close();
        nothing on PostgreSQL. `gateway serve` starts it after forking its validation processes
        (they need no thread of it); the batch commands (`gateway sepa debits|credits`, `gateway
        bank import`) start it with `every=BATCH_CHECKPOINT_EVERY` before their run, and close()
        waits for the copy of their last commit (gateway.store.wal)."""
        engine = self.store.engine
        if self._wal is None and engine.dialect.name == "sqlite":
            self._wal = WalCheckpointer(engine, every=every).start()

    def close(self) -> None:
        try:
            if self._wal is not None:
                self._wal.close()
        finally:
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


def signer_from(settings: Settings) -> Signer:
    """The gateway's signer from the configured certificate and key (and the key's password)."""
    password = settings.signer_key_password
    return Signer.from_files(
        settings.effective_signer_cert,
        settings.effective_signer_key,
        password=password.get_secret_value().encode() if password else None,
    )


def open_store(settings: Settings) -> SqlStore:
    """The configured store alone, migrated to the latest schema (for the commands that only read
    or write rows: no signer, no archive)."""
    private_dir(settings.data_dir)  # titles, dossiers and SEPA files: the service user's alone
    if settings.database_url is None:  # SQLite copies the database file's mode to its -wal/-shm
        private_file(settings.data_dir / "gateway.sqlite3")
    return open_sql_store(settings.effective_database_url)


def build_console(settings: Settings, gateway: Gateway) -> ConsoleServices:
    """The operators' console's services on the gateway's store, archive, signer and clock, with
    what it takes from the TLS settings: the client CA (the certificates a signature shown in the
    console must chain to) and the key of its CSRF tokens, derived from the TLS server key that
    every server process reads (`gateway serve --workers N` shares it)."""
    return ConsoleServices(
        store=gateway.store,
        archive=gateway.archive,
        signer=gateway.signer,
        trust_anchors=load_trust_anchors(settings.effective_client_ca),
        csrf_key=csrf_key_from(settings.effective_tls_key),
        clock=gateway.clock,
    )


def open_archive(
    settings: Settings,
    *,
    database: str | None = None,
    directory: Path | None = None,
    signed: bool = False,
) -> Archive:
    """The archive alone, on a connection of its own (close it), for `gateway archive ...`, which may
    name another one than the configured (a copy handed to an auditor, a restored backup): the log
    in the database at `database` and the big blobs under `directory`/blobs, each defaulting to the
    configured location; with the gateway's signer when `signed` (to sign a checkpoint).

    A database that cannot be opened is a ConfigurationError naming neither the URL nor the
    driver's message (either may hold a password)."""
    signer = signer_from(settings) if signed else None
    folder = directory if directory is not None else settings.effective_archive_dir
    url = database or settings.effective_database_url
    try:
        return Archive.open(url, folder / "blobs", signer=signer)
    except (SQLAlchemyError, OSError) as exc:
        raise ConfigurationError(
            f"cannot open the archive's database ({type(exc).__name__})", field="database"
        ) from exc


def build(settings: Settings, *, clock: Clock = utc_now) -> Gateway:
    """Open the configured store (migrated to the latest schema), signer and archive, and compose
    the services on them."""
    fund_address(settings)  # a malformed fund address is refused at start-up, not at the run
    signer = signer_from(settings)
    store = open_store(settings)
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
    intake = IntakeServices(
        store=store, signer=signer, archive=archive, clock=clock, max_bytes=settings.max_payload_bytes
    )
    return Gateway(settings, store, signer, archive, intake, bank_channel(settings), clock)
