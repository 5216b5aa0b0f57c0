"""Charts for the staff's reports, drawn on the server as inline SVG: no script, no CDN, and the
figures stay readable (each bar carries its value and a title for screen readers)."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, LABEL_WIDTH, VALUE_WIDTH, ROW, GAP = 720, 200, 90, 22, 6


def bar_chart(bars, *, title: str, value_text=str) -> SafeString:
    """Horizontal bars, one per ``(label, value)``, scaled to the largest value. `value_text`
    words a value beside its bar (a rate as a percentage, money with its symbol)."""
    bars = [(str(label), value or 0) for label, value in bars]
    if not bars:
        return format_html('<p class="help">Nothing to chart in this range.</p>')
    largest = max(value for _, value in bars) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(bars) * (ROW + GAP) + GAP
    rows = format_html_join(
        "",
        '<g transform="translate(0,{})"><title>{}: {}</title>'
        '<text x="{}" y="{}" text-anchor="end" font-size="13">{}</text>'
        '<rect x="{}" y="0" width="{}" height="{}" rx="2" fill="#007d7e"></rect>'
        '<text x="{}" y="{}" font-size="13">{}</text></g>',
        (
            (
                GAP + index * (ROW + GAP),
                label,
                value_text(value),
                LABEL_WIDTH - 8,
                ROW - 6,
                label if len(label) <= 28 else label[:27] + "…",
                LABEL_WIDTH,
                round(room * value / largest, 1),
                ROW,
                LABEL_WIDTH + round(room * value / largest, 1) + 6,
                ROW - 6,
                value_text(value),
            )
            for index, (label, value) in enumerate(bars)
        ),
    )
    return format_html(
        '<svg class="encore-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'style="max-width:{}px" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>{}</svg>",
        title,
        WIDTH,
        height,
        WIDTH,
        title,
        rows,
    )


def percent(value) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"
