"""The console's small parts: language choice, CSRF tokens, masking, SVG charts."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gateway.console import csrf
from gateway.console.charts import Series, grouped_bars
from gateway.console.i18n import CATALOGUE, negotiate, translator
from gateway.console.masking import dossier_view, mask_iban, mask_nir

KEY = b"k" * 32
FP = "ab" * 32


def test_french_by_default_english_when_preferred() -> None:
    assert negotiate(None) == "fr"
    assert negotiate("") == "fr"
    assert negotiate("de-DE,de;q=0.9") == "fr"
    assert negotiate("en-US,en;q=0.9") == "en"
    assert negotiate("fr-FR,fr;q=0.9,en;q=0.8") == "fr"
    assert negotiate("en;q=0.5,fr;q=0.8") == "fr"
    assert negotiate("fr;q=0.5,en;q=0.8") == "en"
    assert negotiate("en, fr") == "en"  # equal quality: the first listed
    assert negotiate("en;q=0, fr;q=0") == "fr"
    assert negotiate("en;q=abc") == "fr"  # an unreadable quality counts as 0
    assert negotiate("*") == "fr"


def test_every_label_has_both_languages() -> None:
    for key, (fr, en) in CATALOGUE.items():
        assert fr.strip(), key
        assert en.strip(), key
    assert translator("en")("dashboard") == "Dashboard"
    assert translator("fr")("dashboard") == "Tableau de bord"
    assert translator("fr")("no-such-label") == "no-such-label"


def test_csrf_token_is_bound_to_the_key_and_the_certificate() -> None:
    token = csrf.new_token(KEY, FP)
    assert csrf.valid_for(KEY, token, FP)
    assert not csrf.valid_for(KEY, token, "cd" * 32)
    assert not csrf.valid_for(b"other", token, FP)
    assert csrf.check(KEY, cookie=token, submitted=token, fingerprint=FP)
    assert not csrf.check(KEY, cookie=token, submitted=None, fingerprint=FP)
    assert not csrf.check(KEY, cookie=None, submitted=token, fingerprint=FP)
    other = csrf.new_token(KEY, FP)
    assert other != token
    assert not csrf.check(KEY, cookie=token, submitted=other, fingerprint=FP)
    for bad in ("", ".", "abc", "abc.", ".abc", token.replace(".", "")):
        assert not csrf.valid_for(KEY, bad, FP)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=5, max_size=34))
def test_iban_mask_keeps_only_the_last_four(iban: str) -> None:
    masked = mask_iban(iban)
    assert masked.endswith(" " + iban[-4:]) or masked == iban[-4:]
    assert masked.replace(" ", "").replace("•", "") == iban[-4:]
    assert len(masked.replace(" ", "")) == len(iban)


def test_masks() -> None:
    assert mask_iban("FR14 2004 1010 0505 0001 3M02 606") == "••• •••• •••• •••• •••• •••• 2606"
    assert mask_iban(None) == ""
    assert mask_nir("185034410912379") == "••••••••••••379"
    view = dossier_view({"violence_alleged": True, "debtor": None, "creditor": None, "children": []})
    assert view["violence"] is True
    assert dossier_view({"children": []})["violence"] is False


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9)),
        min_size=1,
        max_size=30,
    )
)
def test_chart_bars_are_proportional_and_inside_the_plot(values: list[tuple[int, int]]) -> None:
    categories = [f"2026-{i:02d}<&>" for i in range(len(values))]
    svg = str(
        grouped_bars(
            chart_id="c",
            title="t <b>",
            categories=categories,
            series=[Series("a", [a for a, _ in values]), Series("b", [b for _, b in values])],
        )
    )
    root = etree.fromstring(svg.encode())  # well-formed: every label is escaped
    bars = root.findall("{http://www.w3.org/2000/svg}rect[@class='bar']")
    assert len(bars) == 2 * len(values)
    heights = [float(b.get("height", "nan")) for b in bars]
    peak = max(max(a, b) for a, b in values)
    tallest = max(heights)
    for bar, height in zip(bars, heights, strict=True):
        value = float(bar.get("data-value", "nan"))
        assert 0 <= height <= 220
        if peak:
            assert abs(height / tallest - value / peak) < 1e-3 or tallest == 0
    assert root.get("role") == "img"
    assert re.search(r"t <b>", root.findtext("{http://www.w3.org/2000/svg}title") or "")


def test_every_label_the_pages_use_is_in_the_catalogue() -> None:
    from pathlib import Path

    import gateway.console

    here = Path(gateway.console.__file__).parent
    sources = [p.read_text() for p in (here / "templates").glob("*.html")] + [
        (here / "routes.py").read_text()
    ]
    used = {key for text in sources for key in re.findall(r'\bt\("([a-z_]+)"\)', text)}
    assert used, "no label found: the pattern is wrong"
    assert used - set(CATALOGUE) == set()
