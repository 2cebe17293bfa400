"""INSEE's CSV export of a series (the "Télécharger" button of a series page of the BDM, file
`valeurs_mensuelles.csv`), read into index values (`gateway indices import FILE`).

The export is UTF-8, semicolon-separated, every cell quoted, with a header block then one line per
period, most recent first; a file may hold several series side by side (a label and a codes column
each):

    "Libellé";"Indice des prix à la consommation - Base 2015 - ... - Ensemble hors tabac";"Codes"
    "idBank";"001763852";""
    "Dernière mise à jour";"15/01/2026 08:45";""
    "Période";"";""
    "2025-12";"121.10";"A"
    "2025-11";"120.95";"A"

A period without a value (announced, not yet published) is skipped. Anything else that does not
fit (another layout, a quarterly or yearly series, a value that is not a positive number, the
same month twice) refuses the whole file with one `index-file-invalid` error naming the line: an
index table is never half imported.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from gateway.errors import Code, GatewayError
from gateway.payments.indices import IndexValue, is_period

_IDBANK = re.compile(r"^\d{9}$")
MAX_BYTES = 5 * 1024 * 1024  # a monthly series since 1990 is ~10 kB; refuse anything absurd


class IndexFileInvalid(GatewayError):
    """The file is not an INSEE series export the gateway can import."""

    default_code = Code.INDEX_FILE_INVALID


@dataclass(frozen=True, slots=True)
class ImportedSeries:
    series: str  # INSEE-<idBank>
    label: str
    values: tuple[IndexValue, ...]


def _refuse(message: str, line: int | None = None) -> IndexFileInvalid:
    return IndexFileInvalid(message, field=f"line {line}" if line is not None else "file")


def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise _refuse(f"the file is over {MAX_BYTES // (1024 * 1024)} MiB: not a series export")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse("the file is not UTF-8 (INSEE exports are)") from None


def _header(rows: list[list[str]]) -> tuple[dict[str, list[str]], int]:
    """The header block (`Libellé`, `idBank`, ... up to `Période`) and the first data row's index."""
    if not rows or not rows[0] or rows[0][0].strip() != "Libellé":
        raise _refuse('not an INSEE series export: the first line must start with "Libellé"', 1)
    header: dict[str, list[str]] = {}
    for number, row in enumerate(rows, start=1):
        key = row[0].strip() if row else ""
        if key == "Période":
            return header, number
        header[key.casefold()] = row
    raise _refuse('not an INSEE series export: no "Période" line ends the header')


def parse_insee_csv(data: bytes, *, source: str) -> tuple[ImportedSeries, ...]:
    """Every monthly series of the export, with its values; `source` names the file in each value."""
    rows = list(csv.reader(io.StringIO(_text(data)), delimiter=";"))
    header, start = _header(rows)
    labels, ids = header.get("libellé", []), header.get("idbank")
    if ids is None:
        raise _refuse('not an INSEE series export: no "idBank" line in the header')
    width = len(labels)
    if width < 2 or any(len(row) != width for row in (ids, rows[start - 1])):
        raise _refuse("the header lines do not have the same number of columns", start)
    # columns: 0 = the period, then (value, codes) per series; "Codes" columns carry no idBank
    columns = [c for c in range(1, width) if labels[c].strip() != "Codes"]
    updated = header.get("dernière mise à jour", ["", ""])[1:2] or [""]
    found: dict[int, list[IndexValue]] = {c: [] for c in columns}
    names: dict[int, str] = {}
    for column in columns:
        idbank = ids[column].strip()
        if not _IDBANK.match(idbank):
            raise _refuse(f"column {column + 1}: an idBank is nine digits", 2)
        names[column] = f"INSEE-{idbank}"
    note = f"{source} (INSEE export, updated {updated[0].strip() or 'date not given'})"
    seen: set[str] = set()
    for number, row in enumerate(rows[start:], start=start + 1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            raise _refuse(f"expected {width} columns, found {len(row)}", number)
        period = row[0].strip()
        if not is_period(period):
            raise _refuse("the period is not a month YYYY-MM (only monthly series are imported)", number)
        if period in seen:
            raise _refuse(f"the month {period} appears twice", number)
        seen.add(period)
        for column in columns:
            cell = row[column].strip()
            if not cell:
                continue  # announced, not published yet
            try:
                value = Decimal(cell)
            except InvalidOperation:
                raise _refuse(f"column {column + 1}: the value is not a decimal number", number) from None
            if not value.is_finite() or value <= 0:
                raise _refuse(f"column {column + 1}: an index value is a positive number", number)
            found[column].append(IndexValue(names[column], period, value, note))
    series = tuple(
        ImportedSeries(names[c], labels[c].strip(), tuple(sorted(found[c], key=lambda v: v.period)))
        for c in columns
    )
    if not any(s.values for s in series):
        raise _refuse("the file holds no published value")
    return series
