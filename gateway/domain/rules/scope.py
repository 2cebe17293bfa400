"""Scope rules: who may send which title, what is in scope, when intermediation is set aside."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from gateway.domain.transmission import Intermediation, SourceKind, Transmission
from gateway.errors import Code, Issue

# art. 373-2-2 I C. civ. (kinds of title); art. 1074-4 CPC (greffe), R. 582-4-1 CSS (avocat, notaire)
ALLOWED_KINDS: dict[SourceKind, frozenset[int]] = {
    SourceKind.GREFFE: frozenset({1, 2}),
    SourceKind.NOTAIRE: frozenset({4}),
    SourceKind.AVOCAT: frozenset({3, 6}),
}
TITLE_KIND_NAMES = {
    1: "court decision",
    2: "agreement approved by the judge",
    3: "mutual-consent divorce agreement deposited with a notary",
    4: "notarial deed",
    5: "agreement made executory by the ODPF",
    6: "countersigned agreement made executory by the greffe",
}

# Spousal support and compensatory payments are out of scope: only a child's maintenance is.
_NOT_CHILD_SUPPORT = re.compile(
    r"prestation\s+compensatoire|devoir\s+de\s+secours|contribution\s+aux\s+charges\s+du\s+mariage",
    re.IGNORECASE,
)
_CHILD_SUPPORT = re.compile(r"enfant|entretien|[ée]ducation|pension\s+alimentaire", re.IGNORECASE)


def title_kind_matches_source(t: Transmission, today: date) -> Iterator[Issue]:
    kind = t.title.kind
    if kind == 5:
        # art. L. 582-2 CSS: the ODPF makes these executory itself; no professional transmits them
        yield Issue(
            Code.TITLE_KIND_NOT_ALLOWED,
            "title.kind",
            "title kind 5 (agreement made executory by the ODPF, L. 582-2 CSS) is internal to the "
            "ODPF and is never transmitted by a court registry, lawyer or notary",
        )
    elif kind not in ALLOWED_KINDS[t.source]:
        allowed = ", ".join(str(k) for k in sorted(ALLOWED_KINDS[t.source]))
        name = TITLE_KIND_NAMES.get(kind, "unknown kind")
        yield Issue(
            Code.TITLE_KIND_NOT_ALLOWED,
            "title.kind",
            f"a {t.source.value} may not transmit a title of kind {kind} ({name}); "
            f"allowed kinds: {allowed} (art. 1074-4 CPC, R. 582-4-1 CSS)",
        )


def child_support_in_money(t: Transmission, today: date) -> Iterator[Issue]:
    # art. 373-2-2 I C. civ.: only a contribution to a child's maintenance and education fixed in money
    if _NOT_CHILD_SUPPORT.search(t.title.nature) and not _CHILD_SUPPORT.search(t.title.nature):
        yield Issue(
            Code.NOT_CHILD_SUPPORT,
            "title.nature",
            "the title fixes spousal support or a compensatory payment, not a contribution to a "
            "child's maintenance: it is outside intermediation (art. 373-2-2 I C. civ.)",
        )


def intermediation_not_excluded(t: Transmission, today: date) -> Iterator[Issue]:
    if t.intermediation is Intermediation.IN_PLACE:
        return
    if t.intermediation is Intermediation.JOINT_REFUSAL and t.violence_alleged:
        # art. 373-2-2 II last para. C. civ.: the parents' joint refusal does not apply when violence
        # is alleged, so intermediation stays in place; an agent is told the refusal was set aside.
        # (Refusing the title would drop the very families the rule protects.)
        yield Issue(
            Code.JOINT_REFUSAL_SET_ASIDE,
            "intermediation",
            "the title records a joint refusal of intermediation, but threats or violence are "
            "alleged: the refusal cannot apply (art. 373-2-2 II last paragraph C. civ.); accepted "
            "with intermediation in place",
            severity="warning",
        )
        return
    how = (
        "by joint refusal of both parents"
        if t.intermediation is Intermediation.JOINT_REFUSAL
        else "by the judge in a specially reasoned decision"
    )
    yield Issue(
        Code.INTERMEDIATION_EXCLUDED,
        "intermediation",
        f"intermediation is set aside {how} (art. 373-2-2 II C. civ.): the title is not transmitted",
    )


def required_by_title_kind(t: Transmission, today: date) -> Iterator[Issue]:
    title = t.title
    if title.kind == 3 and title.deposit_attestation is None:
        # R. 582-4-1 CSS: a mutual-consent divorce comes with the notary's deposit attestation
        yield Issue(
            Code.MISSING_FIELD,
            "title.deposit_attestation",
            "a mutual-consent divorce agreement (kind 3) needs the notary's deposit attestation",
        )
    if title.kind == 6 and title.executory_formula_date is None:
        yield Issue(
            Code.MISSING_FIELD,
            "title.executory_formula_date",
            "a countersigned agreement (kind 6) needs the date the greffe made it executory",
        )
    if title.kind != 3 and title.deposit_attestation is not None:
        yield Issue(
            Code.FIELD_NOT_ALLOWED,
            "title.deposit_attestation",
            "a deposit attestation only goes with a mutual-consent divorce agreement (kind 3)",
        )
    if title.kind != 6 and title.executory_formula_date is not None:
        yield Issue(
            Code.FIELD_NOT_ALLOWED,
            "title.executory_formula_date",
            "an executory formula date only goes with a countersigned agreement (kind 6)",
        )
