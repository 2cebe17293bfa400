"""What a source transmitted, source-neutral: the model every adapter produces and the rules check.

A `Transmission` keeps what the rules need and the canonical dossier drops (the declared totals, a
joint refusal, amounts as sent), so that one set of rules serves the three sources. Amounts are
`Decimal` exactly as sent (the rules refuse more than two decimals); the dossier turns them into
integer cents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class SourceKind(StrEnum):
    GREFFE = "greffe"
    AVOCAT = "avocat"
    NOTAIRE = "notaire"


class Intermediation(StrEnum):
    """What the title says of intermediation (art. 373-2-2 II C. civ.)."""

    IN_PLACE = "MISE_EN_PLACE"
    JOINT_REFUSAL = "REFUS_CONJOINT"
    SET_ASIDE_BY_JUDGE = "ECARTEE_JUGE"


class IndexationMode(StrEnum):
    """Revaluation clause of the title, per child (art. 1074-4 II 6° CPC)."""

    SILENT = "silent"
    EXCLUDED = "excluded"
    INDEXED = "indexed"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who transmits: a court registry, a notary's office or a lawyer (R. 582-4-1 1° CSS)."""

    name: str
    code: str | None = None  # court code, CRPCEN of the office, or the lawyer's bar
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class DepositAttestation:
    """The notary's deposit attestation of a mutual-consent divorce agreement (kind 3)."""

    notary: str
    crpcen: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class Title:
    """The executory title (art. 373-2-2 I C. civ.; 1074-4 II 3° and 4° CPC)."""

    kind: int
    nature: str
    date: dt.date
    is_divorce: bool | None = None
    court: str | None = None
    minute_number: str | None = None
    deposit_attestation: DepositAttestation | None = None
    executory_formula_date: dt.date | None = None
    reinstatement: bool = False


@dataclass(frozen=True, slots=True)
class Place:
    """A place of birth: commune, INSEE code if known, ISO 3166 alpha-2 country."""

    commune: str
    country: str
    insee_code: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    lines: tuple[str, ...]
    postal_code: str
    commune: str
    country: str


@dataclass(frozen=True, slots=True)
class BankAccount:
    """Bank details from a RIB (R. 582-4-1 CSS): holder, IBAN, optional BIC, date on the RIB."""

    holder: str
    iban: str
    rib_date: dt.date
    bic: str | None = None


@dataclass(frozen=True, slots=True)
class Parent:
    """A parent (art. 1074-4 II 1°, 7°, 8° CPC)."""

    birth_name: str
    first_names: tuple[str, ...]
    birth_date: dt.date
    birth_place: Place
    usage_name: str | None = None
    nir: str | None = None
    agricultural_scheme: bool | None = None
    address: Address | None = None
    phone: str | None = None
    email: str | None = None
    bank_account: BankAccount | None = None


@dataclass(frozen=True, slots=True)
class Indexation:
    """Revaluation of a child's amount (art. 1074-4 II 6° CPC)."""

    mode: IndexationMode
    index_type: str | None = None
    index_value: Decimal | None = None
    first_revaluation_date: dt.date | None = None
    rounding: str | None = None


@dataclass(frozen=True, slots=True)
class Child:
    """A child covered by the title, with the monthly amount and its effective date (II 1°, 5°)."""

    birth_name: str
    first_names: tuple[str, ...]
    monthly_amount: Decimal
    effective_date: dt.date
    birth_date: dt.date | None = None
    birth_place: Place | None = None
    indexation: Indexation | None = None  # greffe only


@dataclass(frozen=True, slots=True)
class Attachment:
    """A document sent with the title; its bytes go to the archive, the dossier keeps a digest."""

    kind: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Transmission:
    """One transmission of a title by a source, as the rules see it."""

    source: SourceKind
    sender: Sender
    reference: str
    title: Title
    intermediation: Intermediation
    violence_alleged: bool
    debtor: Parent
    creditor: Parent
    children: tuple[Child, ...]
    declared_children_count: int
    declared_monthly_total: Decimal
    end_date: dt.date | None = None
    bank_details_consent: bool | None = None
    attachments: tuple[Attachment, ...] = field(default=())
