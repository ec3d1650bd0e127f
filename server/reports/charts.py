"""Charts as accessible inline SVG, drawn on the server: no chart library in the browser.

Each chart has ``role="img"``, a ``<title>`` and a ``<desc>`` that states every value, and prints its values as
text beside the bars, so it reads without colour and prints in black and white.
"""

from __future__ import annotations

from html import escape

from server.reports.figures import tone
from server.reports.labels import CHANNEL_LABELS, OUTCOME_LABELS
from server.reports.schema import Report

__all__ = ["chart", "contacts_chart", "outcomes_chart", "success_chart"]

MONTHS = ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"]
INK, ACCENT, GOOD, MUTED = "#14213d", "#1d4ed8", "#0b6e4f", "#4a5568"
# Outcome bars say what they mean: kept green, a move amber, lost red, no contact grey (the value is written too).
TONES = {"good": GOOD, "fair": "#b45309", "bad": "#b91c1c", "neutral": "#718096"}


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %".replace(".", ",")


def _frame(width: int, height: int, title: str, desc: str, body: str, ident: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{ident}-t {ident}-d" font-family="system-ui, sans-serif" font-size="14">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>{body}</svg>'
    )


def _bars(rows: list[tuple[str, int]], title: str, ident: str, color: str | list[str]) -> str:
    """Horizontal bars with the value written after each bar."""
    width, label_w, row_h, top = 740, 410, 30, 10
    height = top * 2 + row_h * max(1, len(rows))
    peak = max([value for _, value in rows] + [1])
    span = width - label_w - 70
    colors = color if isinstance(color, list) else [color] * len(rows)
    body = []
    for i, (label, value) in enumerate(rows):
        y = top + i * row_h
        bar = round(span * value / peak)
        shown = f"{value:,}".replace(",", ".")  # German thousands separator
        body.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" fill="{INK}">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 5}" width="{bar}" height="{row_h - 10}" fill="{colors[i]}" rx="3"/>'
            f'<text x="{label_w + bar + 6}" y="{y + 19}" fill="{INK}" font-weight="600">{shown}</text>'
        )
    desc = "; ".join(f"{label}: {value}" for label, value in rows) or "keine Daten"
    return _frame(width, height, title, desc, "".join(body), ident)


def contacts_chart(report: Report) -> str:
    rows = [(CHANNEL_LABELS[c], report.contacts[c]) for c in CHANNEL_LABELS]
    return _bars(rows, f"Kontakte nach Kontaktart ({report.contacts_total} insgesamt)", "contacts", ACCENT)


def outcomes_chart(report: Report) -> str:
    rows = [(OUTCOME_LABELS[o], report.outcomes[o]) for o in OUTCOME_LABELS]
    colors = [TONES[tone(o)] for o in OUTCOME_LABELS]
    return _bars(rows, f"Abgeschlossene Fälle nach Ergebnis ({report.closed_cases} insgesamt)", "outcomes", colors)


def success_chart(report: Report) -> str:
    """The share of closed cases whose tenancy was kept, per month, as columns (0 to 100 %), with the number of
    closed cases under each month."""
    months = report.months
    width, left, bottom, top = 640, 44, 46, 16
    height = 260
    plot_h = height - top - bottom
    step = (width - left - 10) / max(1, len(months))
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="{MUTED}"/>'
        f'<text x="{left - 6}" y="{top + 5}" text-anchor="end" fill="{MUTED}" font-size="12">100 %</text>'
        f'<text x="{left - 6}" y="{top + plot_h / 2 + 4:.0f}" text-anchor="end" fill="{MUTED}" '
        f'font-size="12">50 %</text>'
        f'<line x1="{left}" y1="{top + plot_h / 2:.0f}" x2="{width - 10}" y2="{top + plot_h / 2:.0f}" '
        f'stroke="#d7dde4" stroke-dasharray="4 4"/>'
    ]
    for i, month in enumerate(months):
        x = left + i * step + step * 0.18
        bar_w = step * 0.64
        label = MONTHS[int(month.month[5:]) - 1]
        if len({m.month[:4] for m in months}) > 1:
            label += f" {month.month[2:4]}"
        if month.kept_rate is not None:
            bar_h = plot_h * month.kept_rate
            body.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
                f'fill="{GOOD}" rx="2"/>'
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - bar_h - 4:.1f}" text-anchor="middle" '
                f'fill="{INK}" font-size="11">{_percent(month.kept_rate)}</text>'
            )
        body.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="{INK}" '
            f'font-size="12">{escape(label)}</text>'
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 32}" text-anchor="middle" fill="{MUTED}" '
            f'font-size="11">n={month.closed}</text>'
        )
    desc = "; ".join(f"{m.month}: {_percent(m.kept_rate)} von {m.closed} abgeschlossenen Fällen" for m in months)
    title = f"Wohnung erhalten, nach Monat des Abschlusses (gesamt {_percent(report.kept_rate)})"
    return _frame(width, height, title, desc, "".join(body), "success")


CHARTS = {"contacts": contacts_chart, "outcomes": outcomes_chart, "success": success_chart}


def chart(name: str, report: Report) -> str | None:
    draw = CHARTS.get(name)
    return None if draw is None else draw(report)
