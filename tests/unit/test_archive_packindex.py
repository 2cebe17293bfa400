"""The pack index's building blocks: the chunked merge, the runs' canonical blocks, run files."""

from __future__ import annotations

import os
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.archive.packindex import (
    ENTRY,
    SPAN,
    STRIDE,
    Run,
    canonical_runs,
    filter_probes,
    merge_chunks,
    write_run,
)


def chunked(entries: list[bytes], cuts: random.Random) -> list[list[bytes]]:
    chunks, at = [], 0
    while at < len(entries):
        size = cuts.randint(1, 9)
        chunks.append(entries[at : at + size])
        at += size
    return chunks


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(min_size=2, max_size=2), max_size=60),
    st.lists(st.binary(min_size=2, max_size=2), max_size=60),
    st.integers(0, 2**32),
)
def test_merge_chunks_is_a_sorted_merge_whatever_the_chunking(
    a: list[bytes], b: list[bytes], seed: int
) -> None:
    cuts = random.Random(seed)
    left, right = sorted(a), sorted(b)
    merged = [
        e for chunk in merge_chunks(iter(chunked(left, cuts)), iter(chunked(right, cuts))) for e in chunk
    ]
    assert merged == sorted(a + b)


def test_canonical_runs_are_the_binary_decomposition_of_the_complete_blocks() -> None:
    assert canonical_runs(SPAN - 1) == []
    assert canonical_runs(SPAN * 6 + 5) == [(0, SPAN * 4), (SPAN * 4, SPAN * 6)]
    assert canonical_runs(SPAN * 7) == [(0, SPAN * 4), (SPAN * 4, SPAN * 6), (SPAN * 6, SPAN * 7)]


def test_a_run_written_in_chunks_finds_every_entry_and_its_samples_and_filter_match(tmp_path: Path) -> None:
    entries = sorted(ENTRY.pack(os.urandom(32), 0, 56 * i, 10) for i in range(1000))
    run = write_run(tmp_path, 0, 1000, chunked(entries, random.Random(3)), fsync=False)
    try:
        assert list(run.entries()) == entries
        assert list(run.samples) == [int.from_bytes(e[:8], "big") for e in entries[::STRIDE]]
        bloom = bytearray(len(run.bloom))
        for entry in entries:
            for bit in filter_probes(entry, run.mask):
                bloom[bit >> 3] |= 1 << (bit & 7)
        assert bytes(bloom) == run.bloom
        assert all(run.find(e[:32]) == e for e in entries)
        assert sum(run.find(os.urandom(32)) is not None for _ in range(1000)) == 0
    finally:
        run.close()
    assert Run.open(tmp_path / "nothing.run", 0, 1000) is None
