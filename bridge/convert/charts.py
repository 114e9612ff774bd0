"""Charts drawn on the server as SVG: no script, no style attribute (the pages' CSP allows neither), no
third-party request. Each chart is decoration beside a table that carries the same numbers; the SVG is
`aria-hidden` and its summary sits in the page's text."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 300, 100
BAR, TRACK = "#0b4f8a", "#e6e6e6"


def columns_svg(values: list[int], first: str = "", last: str = "") -> str:
    """Vertical bars, one per value (days, oldest first), scaled to the largest; the first and last labels
    under the axis. Scales to the width of its container, so it is readable at 390 px."""
    top = max(values, default=0) or 1
    step = WIDTH / max(len(values), 1)
    bars = "".join(
        f'<rect x="{i * step + step * 0.1:.2f}" y="{HEIGHT - value / top * HEIGHT:.2f}" width="{step * 0.8:.2f}" '
        f'height="{value / top * HEIGHT:.2f}" fill="{BAR}"/>'
        for i, value in enumerate(values) if value)
    labels = (f'<text x="0" y="{HEIGHT + 14}" font-size="11" fill="#545454">{escape(first)}</text>'
              f'<text x="{WIDTH}" y="{HEIGHT + 14}" font-size="11" fill="#545454" text-anchor="end">'
              f'{escape(last)}</text>') if first or last else ""
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 18}" width="100%" preserveAspectRatio="xMidYMid meet"'
            f' aria-hidden="true" focusable="false"><line x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}" '
            f'stroke="#767676"/>{bars}{labels}</svg>')


def bar_svg(value: int, top: int) -> str:
    """One horizontal bar for a table row: `value` of `top`."""
    share = 0 if not top else max(1, round(100 * value / top)) if value else 0
    return (f'<svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" width="100%" height="10" '
            f'aria-hidden="true" focusable="false"><rect x="0" y="0" width="100" height="6" fill="{TRACK}"/>'
            f'<rect x="0" y="0" width="{share}" height="6" fill="{BAR}"/></svg>')
