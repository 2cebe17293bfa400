"""The fuzz suite's short budget (issue 12): mutated titles of every source never make validation
raise anything but a gateway error (bench/fuzz.py runs the long budget, and over mutual TLS)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.fuzzing import check, draw, seeds

SOURCES = ["greffe", "notaire", "avocat"]


@pytest.mark.parametrize(("source", "name", "data"), seeds(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_seed_gets_a_gateway_answer(source: str, name: str, data: bytes) -> None:
    outcome = check(source, data)
    if name == "example":
        assert outcome == "accepted"


@pytest.mark.parametrize("source", SOURCES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False))
def test_mutated_titles_get_a_gateway_answer(source: str, rnd: random.Random) -> None:
    kind, data = draw(rnd, source)
    check(kind, data)
