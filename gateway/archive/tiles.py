"""c2sp.org/tlog-tiles paths: `tile/<L>/<N>[.p/<W>]` (hash tiles) and `tile/entries/<N>[.p/<W>]`.

<L> is a decimal level 0..63 without leading zeroes; <N> the tile index in zero-padded 3-digit
path elements, all but the last prefixed with `x` (1234067 -> `x001/x234/067`); `.p/<W>` marks a
partial tile of W (1..255) hashes or entries. A full tile is 256 wide.
"""

from __future__ import annotations

import re

from gateway.errors import NotFound

FULL = 256
_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


def encode_index(index: int) -> str:
    digits = f"{index:03d}"
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + p for p in parts[:-1]), parts[-1]])


def tile_path(level: int | None, index: int, width: int = FULL) -> str:
    """The path under the log's prefix; `level` None for an entry bundle."""
    head = "entries" if level is None else str(level)
    tail = "" if width == FULL else f".p/{width}"
    return f"tile/{head}/{encode_index(index)}{tail}"


def parse_tile_path(path: str) -> tuple[int | None, int, int]:
    """(level or None for entries, index, width) of a path after `tile/`; NotFound if malformed."""
    parts = path.split("/")
    head, rest = parts[0], parts[1:]
    width = FULL
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        width = int(rest[-1]) if _WIDTH.fullmatch(rest[-1]) and int(rest[-1]) < FULL else 0
        rest = [*rest[:-2], rest[-2][:-2]]
    valid = (
        (head == "entries" or (_LEVEL.fullmatch(head) is not None and int(head) <= 63))
        and bool(rest)
        and all(len(p) == 4 and p[0] == "x" and p[1:].isdigit() for p in rest[:-1])
        and len(rest[-1]) == 3
        and rest[-1].isdigit()
        and width > 0
    )
    if not valid:
        raise NotFound("not a c2sp.org/tlog-tiles path", field="tile")
    index = int("".join(p.removeprefix("x") for p in rest))
    return (None if head == "entries" else int(head)), index, width
