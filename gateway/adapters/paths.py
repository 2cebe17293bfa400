"""Field paths: canonical paths (`children[1].monthly_amount`) translated into a source's own paths.

The rules report canonical paths, 0-based; a sender must read the path of its own document:
`Enfants/Enfant[2]/MontantMensuel` (XPath-like, 1-based, no namespace prefix) for the XML sources,
`enfants[1].montant_mensuel` (0-based) for the avocat JSON. Each adapter holds one flat table of
templates where `[]` stands for an index; unknown paths are returned unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class PathTable:
    """Canonical path template -> source path template; `index_base` is 1 for XML, 0 for JSON."""

    entries: Mapping[str, str]
    index_base: int

    def translate(self, canonical: str) -> str:
        indices = [int(i) for i in _INDEX.findall(canonical)]
        template = self.entries.get(_INDEX.sub("[]", canonical))
        if template is None or template.count("[]") != len(indices):
            return canonical
        head, *rest = template.split("[]")
        return head + "".join(f"[{i + self.index_base}]{part}" for i, part in zip(indices, rest, strict=True))


def nest(canonical: str, source: str, table: Mapping[str, str], sep: str) -> dict[str, str]:
    """The entries of `table` placed under `canonical` -> `source` (e.g. a Parent under `debtor`)."""
    nested = {canonical: source}
    nested.update({f"{canonical}.{key}": f"{source}{sep}{value}" for key, value in table.items()})
    return nested


def json_path(parts: Iterable[str | int]) -> str:
    """`("enfants", 1, "montant_mensuel")` -> `enfants[1].montant_mensuel`; the document is ``""``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def join(base: str, name: str, sep: str = "/") -> str:
    return f"{base}{sep}{name}" if base else name
