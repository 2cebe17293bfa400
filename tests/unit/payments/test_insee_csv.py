"""INSEE's CSV export of a series read into index values; anything else refused whole, with one
`index-file-invalid` error naming the line. The fixture `data/valeurs_mensuelles.csv` has the
layout of the export (header block, semicolons, quoted cells, newest first) and the real values of
series 001763852 the shipped table sources (2023-12 left empty: not sourced)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from gateway.payments.indices import series_key, shipped_table
from gateway.payments.insee_csv import IndexFileInvalid, parse_insee_csv

FIXTURE = Path(__file__).parent / "data" / "valeurs_mensuelles.csv"
HEADER = (
    '"Libellé";"Indice des prix à la consommation - Base 2015 - Ensemble des ménages - France - '
    'Ensemble hors tabac";"Codes"\n"idBank";"001763852";""\n"Dernière mise à jour";"15/11/2024 08:45";""\n'
    '"Période";"";""\n'
)


def test_the_fixture_reads_as_one_monthly_series() -> None:
    (series,) = parse_insee_csv(FIXTURE.read_bytes(), source="valeurs_mensuelles.csv")
    assert series.series == "INSEE-001763852"
    assert series.label.endswith("Ensemble hors tabac")
    assert [v.period for v in series.values][:2] == ["2023-01", "2023-02"]
    assert len(series.values) == 21  # 2023-12 has no value: skipped, not zero
    assert "2023-12" not in {v.period for v in series.values}
    assert series.values[0].source == "valeurs_mensuelles.csv (INSEE export, updated 15/11/2024 08:45)"
    # and the same numbers as the shipped table's
    shipped = shipped_table()
    for value in series.values:
        assert shipped.value(value.series, value.period) == value.value


def test_a_byte_order_mark_and_two_series_side_by_side() -> None:
    text = (
        '\ufeff"Libellé";"Série A";"Codes";"Série B";"Codes"\n'
        '"idBank";"001763852";"";"001759970";""\n'
        '"Dernière mise à jour";"15/11/2024 08:45";"";"15/11/2024 08:45";""\n'
        '"Période";"";"";"";""\n'
        '"2024-10";"118.83";"A";"119.89";"A"\n'
    )
    first, second = parse_insee_csv(text.encode(), source="two.csv")
    assert (first.series, first.values[0].value) == ("INSEE-001763852", Decimal("118.83"))
    assert (second.series, second.values[0].value) == ("INSEE-001759970", Decimal("119.89"))


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (b"", "line 1", "Libell"),
        (b'{"series": "001763852"}', "line 1", "Libell"),
        ('"Libellé";"x";"Codes"\n"idBank";"001763852";""\n"2024-01";"1";"A"\n'.encode(), "file", "Période"),
        ('"Libellé";"x";"Codes"\n"Période";"";""\n"2024-01";"1";"A"\n'.encode(), "file", "idBank"),
        (HEADER.replace("001763852", "1763852").encode(), "line 2", "nine digits"),
        ((HEADER + '"2024-T1";"118.40";"A"\n').encode(), "line 5", "YYYY-MM"),
        ((HEADER + '"2024-01";"cent";"A"\n').encode(), "line 5", "decimal"),
        ((HEADER + '"2024-01";"-1.5";"A"\n').encode(), "line 5", "positive"),
        ((HEADER + '"2024-01";"NaN";"A"\n').encode(), "line 5", "positive"),
        ((HEADER + '"2024-02";"118.15";"A"\n"2024-02";"118.15";"A"\n').encode(), "line 6", "twice"),
        ((HEADER + '"2024-01";"117.16"\n').encode(), "line 5", "columns"),
        ((HEADER + '"2024-01";"";""\n').encode(), "file", "no published value"),
        ((HEADER + '"2024-01";"117,16";"A"\n').encode("latin-1"), "file", "UTF-8"),
    ],
)
def test_bad_files_are_refused_whole_with_one_line(data: bytes, field: str, words: str) -> None:
    with pytest.raises(IndexFileInvalid) as caught:
        parse_insee_csv(data, source="bad.csv")
    err = caught.value
    assert (err.code, err.field) == ("index-file-invalid", field)
    assert words in err.message
    assert "\n" not in err.message


def test_series_names() -> None:
    assert series_key("001763852") == "INSEE-001763852"
    assert series_key(" insee 001763852 ") == "INSEE-001763852"
    assert series_key("INSEE-001763852") == "INSEE-001763852"
    assert series_key("IPC ménages urbains") == "IPC ménages urbains"
