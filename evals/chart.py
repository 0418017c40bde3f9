"""A small SVG bar chart of the pass rate by category, written by hand (no plotting library).

Horizontal bars, one per category, on a 0-100 % axis with grid lines at every 25 %, the rate
and the case count printed at the end of each bar. Plain SVG 1.1 with inline styles, so it
renders the same in a browser, on GitHub and in an image viewer.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

BAR_HEIGHT = 26
GAP = 10
LEFT = 130
WIDTH = 460
RIGHT = 110
TOP = 48
FONT = "font-family='Helvetica, Arial, sans-serif'"


def _colour(rate: float) -> str:
    if rate >= 0.9:
        return "#2e7d32"
    if rate >= 0.7:
        return "#f9a825"
    return "#c62828"


def pass_rate_chart(
    rates: dict[str, float], counts: dict[str, int] | None = None, *, title: str = "Pass rate"
) -> str:
    """The SVG document for ``rates`` (category -> pass rate in [0, 1])."""
    counts = counts or {}
    rows = list(rates.items())
    height = TOP + len(rows) * (BAR_HEIGHT + GAP) + 36
    total = LEFT + WIDTH + RIGHT
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{total}' height='{height}' "
        f"viewBox='0 0 {total} {height}' role='img' aria-label='{escape(title)}'>",
        f"<rect width='{total}' height='{height}' fill='#ffffff'/>",
        f"<text x='{LEFT}' y='24' {FONT} font-size='15' font-weight='bold' "
        f"fill='#212121'>{escape(title)}</text>",
    ]
    axis_bottom = TOP + len(rows) * (BAR_HEIGHT + GAP)
    for tick in (0, 25, 50, 75, 100):
        x = LEFT + WIDTH * tick / 100
        parts.append(
            f"<line x1='{x:.1f}' y1='{TOP - 6}' x2='{x:.1f}' y2='{axis_bottom}' "
            "stroke='#e0e0e0' stroke-width='1'/>"
        )
        parts.append(
            f"<text x='{x:.1f}' y='{axis_bottom + 16}' {FONT} font-size='11' fill='#616161' "
            f"text-anchor='middle'>{tick}%</text>"
        )
    for index, (name, rate) in enumerate(rows):
        rate = min(max(rate, 0.0), 1.0)
        y = TOP + index * (BAR_HEIGHT + GAP)
        bar = WIDTH * rate
        label = f"{100 * rate:.0f}%"
        if name in counts:
            label += f"  (n={counts[name]})"
        parts += [
            f"<text x='{LEFT - 8}' y='{y + BAR_HEIGHT * 0.68:.1f}' {FONT} font-size='13' "
            f"fill='#212121' text-anchor='end'>{escape(name)}</text>",
            f"<rect x='{LEFT}' y='{y}' width='{bar:.1f}' height='{BAR_HEIGHT}' rx='3' "
            f"fill='{_colour(rate)}'><title>{escape(name)}: {label}</title></rect>",
            f"<text x='{LEFT + bar + 6:.1f}' y='{y + BAR_HEIGHT * 0.68:.1f}' {FONT} "
            f"font-size='12' fill='#424242'>{escape(label)}</text>",
        ]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
