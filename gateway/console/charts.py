"""Bar charts drawn on the server as SVG: no script, no library, readable by a screen reader.

`grouped_bars` draws, for each category, one bar per series. The SVG has `role="img"`, a `<title>`
and a `<desc>` that says every value, and each bar its own `<title>` (a tooltip); the pages give
the same numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Colours with a contrast ratio of at least 3:1 against white (WCAG 1.4.11 for graphics).
PALETTE = ("#1f5fa8", "#b3261e", "#2e7d32", "#6a3d9a")


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ") if value == int(value) else f"{value:,.2f}".replace(",", " ")


def grouped_bars(
    *,
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    width: int = 640,
    height: int = 220,
    counts: bool = False,
) -> Markup:
    """An SVG grouped bar chart of `series` (one value per category); `counts`: whole-number ticks."""
    left, right, top, bottom = 56, 12, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((v for s in series for v in s.values), default=0.0))
    if counts:
        peak = float(-(-int(peak) // 4) * 4)  # four steps of a whole number
    slots = max(len(categories), 1)
    slot_w = plot_w / slots
    bar_w = max(min(slot_w * 0.8 / max(len(series), 1), 40.0), 1.0)
    parts: list[str] = []
    description = "; ".join(
        f"{category}: " + ", ".join(f"{s.name} {_number(s.values[i])}" for s in series)
        for i, category in enumerate(categories)
    )
    parts.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-d">{escape(description)}</desc>'
    )
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#cccccc"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#333333">'
            f"{escape(_number(value))}</text>"
        )
    for i, category in enumerate(categories):
        x0 = left + i * slot_w + (slot_w - bar_w * len(series)) / 2
        for j, s in enumerate(series):
            value = s.values[i]
            h = plot_h * value / peak
            x = x0 + j * bar_w
            y = top + plot_h - h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}" data-series="{escape(s.name)}" '
                f'data-category="{escape(category)}" data-value="{value}">'
                f"<title>{escape(category)} — {escape(s.name)} : {escape(_number(value))}</title></rect>"
            )
        if slots <= 14 or i % max(slots // 12, 1) == 0:
            parts.append(
                f'<text x="{left + i * slot_w + slot_w / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle" font-size="11" fill="#333333">{escape(category)}</text>'
            )
    for j, s in enumerate(series):
        x = left + j * 150
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{height - 5}" font-size="11" fill="#333333">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped
