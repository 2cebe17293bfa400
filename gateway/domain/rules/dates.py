"""Date rules: applicability of the generalisation, the 7-day deadline, consistent dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from gateway.domain.transmission import Transmission
from gateway.errors import Code, Issue

# décret 2022-259, art. 3: divorce decisions from 1 March 2022; every other title from 1 January 2023
DIVORCE_DECISIONS_FROM = date(2022, 3, 1)
OTHER_TITLES_FROM = date(2023, 1, 1)
# art. 1074-4 CPC and R. 582-4-1 CSS: transmitted within seven days
DEADLINE_DAYS = 7


def executory_since(t: Transmission) -> tuple[date, str]:
    """The day the title became executory, which starts the deadline, and the field that holds it.

    A decision or an approved agreement: its date (1074-4 CPC). A mutual-consent divorce: the
    notary's deposit attestation (R. 582-4-1 CSS, art. 229-1 C. civ.). A notarial deed: its date.
    A countersigned agreement: the day the greffe gave it the executory form.
    """
    title = t.title
    if title.kind == 3 and title.deposit_attestation is not None:
        return title.deposit_attestation.date, "title.deposit_attestation.date"
    if title.kind == 6 and title.executory_formula_date is not None:
        return title.executory_formula_date, "title.executory_formula_date"
    return title.date, "title.date"


def applicable_from_generalisation(t: Transmission, today: date) -> Iterator[Issue]:
    since, field = executory_since(t)
    if t.title.kind == 1 and t.title.is_divorce:
        start, what = DIVORCE_DECISIONS_FROM, "a court decision pronouncing a divorce"
    else:
        start, what = OTHER_TITLES_FROM, "this kind of title"
    if since < start:
        yield Issue(
            Code.BEFORE_GENERALISATION,
            field,
            f"intermediation applies to {what} from {start.isoformat()} (décret 2022-259, art. 3); "
            f"this title dates from {since.isoformat()}: the parents apply to the ODPF themselves",
        )


def transmitted_within_seven_days(t: Transmission, today: date) -> Iterator[Issue]:
    since, field = executory_since(t)
    days = (today - since).days
    if days > DEADLINE_DAYS:
        yield Issue(
            Code.LATE_TRANSMISSION,
            field,
            f"transmitted {days} days after {since.isoformat()}, beyond the {DEADLINE_DAYS}-day "
            "deadline (art. 1074-4 CPC, R. 582-4-1 CSS); accepted",
            severity="warning",
        )


def dates_consistent(t: Transmission, today: date) -> Iterator[Issue]:
    title = t.title
    if title.date > today:
        yield Issue(Code.INVALID_DATE, "title.date", "the title is dated in the future")
    attestation = title.deposit_attestation
    if attestation is not None:
        if attestation.date < title.date:
            yield Issue(
                Code.INVALID_DATE,
                "title.deposit_attestation.date",
                "the deposit attestation predates the agreement it attests",
            )
        if attestation.date > today:
            yield Issue(
                Code.INVALID_DATE,
                "title.deposit_attestation.date",
                "the deposit attestation is dated in the future",
            )
    formula = title.executory_formula_date
    if formula is not None:
        if formula < title.date:
            yield Issue(
                Code.INVALID_DATE,
                "title.executory_formula_date",
                "the agreement was made executory before it was signed",
            )
        if formula > today:
            yield Issue(
                Code.INVALID_DATE,
                "title.executory_formula_date",
                "the executory formula is dated in the future",
            )
    for role, parent in (("debtor", t.debtor), ("creditor", t.creditor)):
        if parent.birth_date >= title.date:
            yield Issue(
                Code.INVALID_DATE,
                f"{role}.birth_date",
                "a parent's date of birth must be before the title",
            )
    for i, child in enumerate(t.children):
        if child.birth_date is not None and child.birth_date > title.date:
            yield Issue(
                Code.INVALID_DATE,
                f"children[{i}].birth_date",
                "the child is born after the title",
            )
        if t.end_date is not None and t.end_date <= child.effective_date:
            yield Issue(
                Code.INVALID_DATE,
                "end_date",
                f"the end date {t.end_date.isoformat()} is not after the effective date "
                f"{child.effective_date.isoformat()} of child {i + 1}",
            )
        indexation = child.indexation
        if (
            indexation is not None
            and indexation.first_revaluation_date is not None
            and indexation.first_revaluation_date <= child.effective_date
        ):
            yield Issue(
                Code.INVALID_DATE,
                f"children[{i}].indexation.first_revaluation_date",
                "the first revaluation must come after the amount's effective date",
            )
