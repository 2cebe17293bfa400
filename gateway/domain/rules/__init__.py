"""The legal and banking rules of docs/rules.md, each a named rule with a stable code and a legal source.

`check(transmission, today)` runs every rule and returns every issue found (errors and warnings),
never only the first. Rules report canonical field paths (`children[1].monthly_amount`); the
adapter of the source translates them into paths of its own format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from gateway.domain.rules import amounts, bank, dates, parties, scope
from gateway.domain.transmission import Transmission
from gateway.errors import Issue

RuleFn = Callable[[Transmission, date], Iterable[Issue]]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    check: RuleFn


RULES: tuple[Rule, ...] = (
    Rule("title-kind-matches-source", scope.title_kind_matches_source),
    Rule("child-support-in-money", scope.child_support_in_money),
    Rule("intermediation-not-excluded", scope.intermediation_not_excluded),
    Rule("required-by-title-kind", scope.required_by_title_kind),
    Rule("applicable-from-generalisation", dates.applicable_from_generalisation),
    Rule("transmitted-within-seven-days", dates.transmitted_within_seven_days),
    Rule("dates-consistent", dates.dates_consistent),
    Rule("amounts-valid", amounts.amounts_valid),
    Rule("totals-match-children", amounts.totals_match_children),
    Rule("indexation-complete", amounts.indexation_complete),
    Rule("bank-details-valid", bank.bank_details_valid),
    Rule("bank-details-with-consent", bank.bank_details_with_consent),
    Rule("rib-recent", bank.rib_recent),
    Rule("parents-distinct", parties.parents_distinct),
    Rule("nir-valid", parties.nir_valid),
    Rule("documents-present", parties.documents_present),
)


def check(transmission: Transmission, today: date) -> list[Issue]:
    """Every issue every rule finds, in rule order."""
    found: list[Issue] = []
    for rule in RULES:
        found.extend(rule.check(transmission, today))
    return found
