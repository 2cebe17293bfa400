"""Every content rule, each with a bad input: the code, the canonical field path, a clear message."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from gateway.domain import rules
from gateway.domain.transmission import (
    DepositAttestation,
    Indexation,
    IndexationMode,
    Intermediation,
    SourceKind,
    Title,
    Transmission,
)
from gateway.errors import Issue
from tests.unit.domain import factories as f


def issues(t: Transmission, today: date = f.TODAY) -> list[Issue]:
    return rules.check(t, today)


def codes(t: Transmission, today: date = f.TODAY) -> set[tuple[str, str]]:
    return {(i.code, i.field) for i in issues(t, today) if i.severity == "error"}


@pytest.mark.parametrize("t", [f.greffe(), f.notaire(), f.avocat()], ids=["greffe", "notaire", "avocat"])
def test_valid_transmissions_pass(t: Transmission) -> None:
    assert issues(t) == []


@pytest.mark.parametrize(
    ("t", "kind"),
    [
        (f.greffe(), 4),
        (f.greffe(), 3),
        (f.notaire(), 1),
        (f.notaire(), 6),
        (f.avocat(), 2),
        (f.avocat(), 4),
    ],
)
def test_source_may_not_send_that_kind(t: Transmission, kind: int) -> None:
    bad = f.with_title(t, kind=kind, deposit_attestation=None, executory_formula_date=None)
    assert ("title-kind-not-allowed", "title.kind") in codes(bad)


@pytest.mark.parametrize("t", [f.greffe(), f.notaire(), f.avocat()])
def test_nobody_sends_kind_5(t: Transmission) -> None:
    found = [i for i in issues(f.with_title(t, kind=5, deposit_attestation=None)) if i.field == "title.kind"]
    assert found[0].code == "title-kind-not-allowed"
    assert "L. 582-2" in found[0].message


@pytest.mark.parametrize("mode", [Intermediation.JOINT_REFUSAL, Intermediation.SET_ASIDE_BY_JUDGE])
def test_intermediation_set_aside_is_not_transmitted(mode: Intermediation) -> None:
    assert ("intermediation-excluded", "intermediation") in codes(f.greffe(intermediation=mode))


def test_violence_sets_a_joint_refusal_aside_and_intermediation_stays() -> None:
    # art. 373-2-2 II last paragraph C. civ.: the joint refusal does not apply when violence is
    # alleged; accepted (no error) with the warning joint-refusal-set-aside for an agent
    title = f.greffe(intermediation=Intermediation.JOINT_REFUSAL, violence_alleged=True)
    assert codes(title) == set()
    found = issues(title)
    assert [(i.code, i.field, i.severity) for i in found] == [
        ("joint-refusal-set-aside", "intermediation", "warning")
    ]
    assert "373-2-2 II" in found[0].message
    assert all(i.code != "violence-with-joint-refusal" for i in found)  # the code is retired


def test_a_joint_refusal_without_violence_still_sets_intermediation_aside() -> None:
    title = f.notaire(intermediation=Intermediation.JOINT_REFUSAL)
    assert ("intermediation-excluded", "intermediation") in codes(title)


def test_violence_flag_with_intermediation_in_place_is_fine() -> None:
    assert issues(f.greffe(violence_alleged=True)) == []


def test_judge_set_aside_with_violence_is_excluded_not_contradictory() -> None:
    bad = f.greffe(intermediation=Intermediation.SET_ASIDE_BY_JUDGE, violence_alleged=True)
    assert codes(bad) == {("intermediation-excluded", "intermediation")}


def test_divorce_decision_before_1_march_2022() -> None:
    old = f.with_title(f.greffe(), date=date(2022, 2, 28))
    assert ("before-generalisation", "title.date") in codes(old)
    ok = f.with_title(f.greffe(), date=date(2022, 3, 1))
    assert ("before-generalisation", "title.date") not in codes(ok)


def test_other_decision_before_2023() -> None:
    other = f.with_title(f.greffe(), is_divorce=False, nature="ordonnance", date=date(2022, 12, 31))
    assert ("before-generalisation", "title.date") in codes(other)
    assert ("before-generalisation", "title.date") not in codes(f.with_title(other, date=date(2023, 1, 1)))


def test_mutual_consent_divorce_counts_from_its_deposit() -> None:
    t = f.avocat()
    attestation = DepositAttestation("Me Dupont", "44021", date(2022, 12, 20))
    old = f.with_title(t, date=date(2022, 12, 1), deposit_attestation=attestation)
    assert ("before-generalisation", "title.deposit_attestation.date") in codes(old)


def test_late_transmission_is_a_warning_only() -> None:
    late = f.with_title(f.greffe(), date=date(2026, 11, 10))
    found = issues(late)
    assert [(i.code, i.field, i.severity) for i in found] == [("late-transmission", "title.date", "warning")]
    assert "13 days" in found[0].message


def test_seven_days_is_on_time() -> None:
    assert issues(f.with_title(f.greffe(), date=date(2026, 11, 16))) == []


def test_deadline_of_countersigned_agreement_runs_from_executory_formula() -> None:
    t = f.with_title(
        f.avocat(),
        kind=6,
        nature="convention de médiation homologuée",
        deposit_attestation=None,
        date=date(2026, 10, 1),
        executory_formula_date=date(2026, 11, 20),
    )
    assert issues(t) == []
    late = f.with_title(t, executory_formula_date=date(2026, 11, 2))
    assert [(i.code, i.field) for i in issues(late)] == [
        ("late-transmission", "title.executory_formula_date")
    ]


def test_kind_3_needs_deposit_attestation_and_kind_6_its_formula_date() -> None:
    assert ("missing-field", "title.deposit_attestation") in codes(
        f.with_title(f.avocat(), deposit_attestation=None)
    )
    six = f.with_title(f.avocat(), kind=6, deposit_attestation=None)
    assert ("missing-field", "title.executory_formula_date") in codes(six)


def test_fields_of_other_kinds_are_refused() -> None:
    bad = f.with_title(f.greffe(), executory_formula_date=date(2026, 11, 19))
    assert ("field-not-allowed", "title.executory_formula_date") in codes(bad)


def test_spousal_support_is_out_of_scope() -> None:
    bad = f.with_title(f.greffe(), nature="prestation compensatoire")
    assert ("not-child-support", "title.nature") in codes(bad)


def test_children_count_mismatch() -> None:
    assert ("totals-mismatch", "totals.children_count") in codes(f.greffe(declared_children_count=3))


def test_total_amount_mismatch() -> None:
    found = list(issues(f.greffe(declared_monthly_total=Decimal("270.00"))))
    assert [(i.code, i.field) for i in found] == [("totals-mismatch", "totals.monthly_total")]
    assert "270.50" in found[0].message


@pytest.mark.parametrize("amount", ["0.00", "-10.00", "150.005", "25000.00"])
def test_invalid_child_amount(amount: str) -> None:
    t = f.greffe(
        children=(f.child(amount),), declared_children_count=1, declared_monthly_total=Decimal(amount)
    )
    assert ("invalid-amount", "children[0].monthly_amount") in codes(t)


def test_invalid_date_end_before_effect() -> None:
    assert ("invalid-date", "end_date") in codes(f.greffe(end_date=date(2026, 10, 31)))
    assert ("invalid-date", "end_date") in codes(f.greffe(end_date=date(2026, 11, 1)))
    assert codes(f.greffe(end_date=date(2033, 6, 1))) == set()


def test_invalid_date_child_born_after_title() -> None:
    kids = (f.child(birth_date=date(2026, 11, 19)), f.child("120.50"))
    assert ("invalid-date", "children[0].birth_date") in codes(f.greffe(children=kids))


def test_invalid_date_title_in_future() -> None:
    assert ("invalid-date", "title.date") in codes(f.with_title(f.greffe(), date=date(2026, 11, 24)))


def test_invalid_date_attestation_before_agreement() -> None:
    attestation = DepositAttestation("Me Dupont", "44021", date(2026, 11, 9))
    bad = f.with_title(f.avocat(), deposit_attestation=attestation)
    assert ("invalid-date", "title.deposit_attestation.date") in codes(bad)


def test_invalid_date_parent_born_after_title() -> None:
    bad = f.greffe(creditor=f.creditor(birth_date=date(2026, 11, 20)))
    assert ("invalid-date", "creditor.birth_date") in codes(bad)


def test_indexation_needs_index_and_first_date() -> None:
    kid = f.child(indexation=Indexation(IndexationMode.INDEXED))
    t = f.greffe(children=(kid, f.child("120.50")))
    assert {
        ("missing-field", "children[0].indexation.index_type"),
        ("missing-field", "children[0].indexation.index_value"),
        ("missing-field", "children[0].indexation.first_revaluation_date"),
    } <= codes(t)


def test_indexation_complete_passes() -> None:
    ix = Indexation(IndexationMode.INDEXED, "INSEE-001763852", Decimal("118.52"), date(2027, 11, 1), "euro")
    assert issues(f.greffe(children=(f.child(indexation=ix), f.child("120.50")))) == []


def test_invalid_iban_checksum() -> None:
    bad = f.notaire(debtor=f.debtor(bank_account=f.account(iban="FR7630006000011234567890188")))
    found = [i for i in issues(bad) if i.code == "invalid-iban"]
    assert [i.field for i in found] == ["debtor.bank_account.iban"]
    assert "checksum" in found[0].message
    assert "FR76" not in found[0].message  # the IBAN itself is never echoed


def test_iban_outside_sepa_zone() -> None:
    bad = f.notaire(creditor=f.creditor(bank_account=f.account(iban="BR1800360305000010009795493C1")))
    assert ("invalid-iban", "creditor.bank_account.iban") in codes(bad)


def test_invalid_bic() -> None:
    bad = f.notaire(creditor=f.creditor(bank_account=f.account(bic="AGRI1RPP")))
    assert ("invalid-bic", "creditor.bank_account.bic") in codes(bad)


def test_rib_too_old() -> None:
    bad = f.notaire(debtor=f.debtor(bank_account=f.account(rib_date=date(2026, 8, 22))))
    assert ("rib-too-old", "debtor.bank_account.rib_date") in codes(bad)
    edge = f.notaire(debtor=f.debtor(bank_account=f.account(rib_date=date(2026, 8, 23))))
    assert codes(edge) == set()


def test_rib_in_future() -> None:
    bad = f.notaire(debtor=f.debtor(bank_account=f.account(rib_date=date(2026, 11, 24))))
    assert ("invalid-date", "debtor.bank_account.rib_date") in codes(bad)


@pytest.mark.parametrize("consent", [None, False])
def test_bank_details_need_consent(consent: bool | None) -> None:
    found = codes(f.notaire(bank_details_consent=consent))
    assert ("bank-details-without-consent", "debtor.bank_account") in found
    assert ("bank-details-without-consent", "creditor.bank_account") in found


def test_parents_must_be_distinct() -> None:
    same = f.greffe(creditor=f.debtor(first_names=("PAUL", "Henri")))
    assert ("parents-not-distinct", "creditor") in codes(same)


def test_invalid_nir() -> None:
    bad = f.greffe(debtor=f.debtor(nir="185044410912345"))
    assert ("invalid-nir", "debtor.nir") in codes(bad)


def test_nir_must_match_birth_date() -> None:
    # a NIR with a valid key but born in 1995-10 while the parent is born in 1985-04
    bad = f.greffe(debtor=f.debtor(nir="295109912611193"))
    found = [i for i in issues(bad) if i.code == "invalid-nir"]
    assert found
    assert "year of birth" in found[0].message


def test_missing_executory_copy_is_a_warning() -> None:
    found = issues(f.greffe(attachments=()))
    assert [(i.code, i.severity) for i in found] == [("missing-attachment", "warning")]


def test_every_issue_is_reported_not_only_the_first() -> None:
    bad = f.greffe(
        declared_children_count=5,
        end_date=date(2026, 1, 1),
        title=Title(kind=4, nature="jugement", date=date(2026, 11, 18), is_divorce=True),
    )
    found = codes(bad)
    assert {"title-kind-not-allowed", "totals-mismatch", "invalid-date"} <= {c for c, _ in found}


def test_notaire_without_rib_document_gets_a_warning() -> None:
    t = f.notaire(attachments=f.notaire().attachments[:1])
    assert [(i.code, i.severity) for i in issues(t)] == [("missing-attachment", "warning")]


def test_greffe_source_kind_matrix_allows_approved_agreement() -> None:
    t = f.with_title(f.greffe(), kind=2, nature="convention homologuée", is_divorce=False)
    assert issues(replace(t, source=SourceKind.GREFFE)) == []
