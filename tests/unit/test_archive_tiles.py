"""c2sp.org/tlog-tiles paths: encoding of tile indexes and parsing of what a client asks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.archive.tiles import encode_index, parse_tile_path, tile_path
from gateway.errors import NotFound


def test_the_spec_examples() -> None:
    assert encode_index(1234067) == "x001/x234/067"  # c2sp.org/tlog-tiles, "Merkle Tree"
    assert encode_index(0) == "000"
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert tile_path(None, 1000, 3) == "tile/entries/x001/000.p/3"
    assert parse_tile_path("0/x001/x234/067") == (0, 1234067, 256)
    assert parse_tile_path("entries/001.p/44") == (None, 1, 44)


@given(
    level=st.one_of(st.none(), st.integers(0, 63)), index=st.integers(0, 10**12), width=st.integers(1, 256)
)
def test_paths_round_trip(level: int | None, index: int, width: int) -> None:
    assert parse_tile_path(tile_path(level, index, width).removeprefix("tile/")) == (level, index, width)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "0",
        "0/1",
        "0/0001",
        "00/000",
        "64/000",
        "0/x1/000",
        "0/001/000",
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/01",
        "y/000",
        "0/000.p",
    ],
)
def test_malformed_paths_are_not_found(path: str) -> None:
    with pytest.raises(NotFound) as caught:
        parse_tile_path(path)
    assert caught.value.field == "tile"
