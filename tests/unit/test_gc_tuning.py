"""`gateway serve` tunes the garbage collector once its app is built (see bench/README.md "Intake")."""

from __future__ import annotations

import gc

import pytest
from pydantic import ValidationError

from gateway.config import Settings
from gateway.transport.http.wiring import tune_garbage_collector


def test_young_collections_are_rarer_and_start_up_objects_are_frozen() -> None:
    before = gc.get_threshold()
    try:
        tune_garbage_collector(12_345)
        assert gc.get_threshold() == (12_345, before[1], before[2])
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_the_threshold_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_GC_YOUNG_THRESHOLD", raising=False)
    assert Settings().gc_young_threshold == 20_000
    monkeypatch.setenv("GATEWAY_GC_YOUNG_THRESHOLD", "5000")
    assert Settings().gc_young_threshold == 5000
    monkeypatch.setenv("GATEWAY_GC_YOUNG_THRESHOLD", "10")
    with pytest.raises(ValidationError, match="gc_young_threshold"):
        Settings()
