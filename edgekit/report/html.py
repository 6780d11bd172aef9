"""The report as one self-contained interactive HTML page (plotly, its JavaScript inlined).

Inlined rather than loaded from a CDN: the page is opened on laptops in the field, offline.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edgekit.report.atomic import write_text
from edgekit.report.figures import Axis, Curve, TradeOff, marker_area, padded_limits
from edgekit.report.plots import CURVE_PANELS, MEETS_COLOURS, MEETS_LABELS
from edgekit.report.table import is_number_cell

_PLOT_CONFIG = {"displaylogo": False, "responsive": True}
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left; }
td.num { text-align: right; }
th { background: #f3f5f7; }
.note { color: #555; } .meta { color: #777; font-size: 0.85rem; }
.chart { margin: 1rem 0; }
"""


@dataclass(frozen=True)
class Page:
    """Everything the page shows: text around the charts, tables as cells, chart data."""

    title: str
    meta: str
    notes: tuple[str, ...]
    tables: tuple[tuple[str, list[str], list[list[str]]], ...]
    trade_offs: tuple[TradeOff, ...]
    curves: tuple[Curve, ...]
    parallel_labels: tuple[str, ...]
    parallel_axes: tuple[Axis, ...]


def write_html_report(page: Page, path: Path) -> Path:
    """One .html file holding plotly.js and every chart; written to a temp name, then renamed."""
    from plotly.offline import get_plotlyjs

    charts = [_trade_off_figure(t) for t in page.trade_offs if t.points]
    if page.curves:
        charts.append(_curves_figure(page.curves))
    if page.parallel_labels:
        charts.append(_parallel_figure(page.parallel_labels, page.parallel_axes))

    body = [f"<h1>{html.escape(page.title)}</h1>", f"<p class='meta'>{html.escape(page.meta)}</p>"]
    body += [f"<p class='note'>{html.escape(note)}</p>" for note in page.notes]
    for caption, headers, cells in page.tables:
        body += [f"<h2>{html.escape(caption)}</h2>", _html_table(headers, cells)]
    body += ["<h2>Charts</h2>", *(_chart_div(fig, i) for i, fig in enumerate(charts))]
    document = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(page.title)}</title><style>{_STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )

    return write_text(path, document)


def _trade_off_figure(trade_off: TradeOff):
    import plotly.graph_objects as go

    figure = go.Figure()
    for meets in (True, False, None):
        points = [p for p in trade_off.points if p.meets is meets]
        if not points:
            continue
        figure.add_trace(
            go.Scatter(
                x=[p.x for p in points],
                y=[p.y for p in points],
                mode="markers+text",
                name=MEETS_LABELS[meets],
                text=[p.label for p in points],
                textposition="top right",
                hovertext=[p.hover for p in points],
                hoverinfo="text",
                marker={
                    "size": [math.sqrt(marker_area(p.min_recall)) for p in points],
                    "color": MEETS_COLOURS[meets],
                    "opacity": 0.85,
                    "line": {
                        "color": ["black" if p.on_front else "white" for p in points],
                        "width": [2 if p.on_front else 1 for p in points],
                    },
                },
            )
        )
    front = trade_off.front()
    figure.add_trace(
        go.Scatter(
            x=[p.x for p in front],
            y=[p.y for p in front],
            mode="lines",
            line={"shape": "hv", "dash": "dash", "color": "#264653"},
            name="Pareto front",
            hoverinfo="skip",
        )
    )
    if trade_off.min_accuracy is not None:
        figure.add_hline(
            y=trade_off.min_accuracy,
            line={"dash": "dot", "color": "#999999"},
            annotation_text=f"min accuracy {trade_off.min_accuracy:.0%}",
        )
    if trade_off.max_x is not None:
        figure.add_vline(x=trade_off.max_x, line={"dash": "dot", "color": "#999999"})
    (x_range, y_range) = padded_limits(trade_off) or ((None, None), (None, None))
    figure.update_layout(
        title=trade_off.title + " - point size: min recall",
        xaxis={"title": trade_off.x_title, "range": list(x_range)},
        yaxis={"title": trade_off.y_title, "tickformat": ".0%", "range": list(y_range)},
        template="plotly_white",
        height=520,
    )
    return figure


def _curves_figure(curves: Sequence[Curve]):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2, subplot_titles=[panel[0] for panel in CURVE_PANELS])
    labels = list(dict.fromkeys(c.label for c in curves))
    palette = figure.layout.template.layout.colorway or ("#1f77b4",)
    shown: set[str] = set()
    for column, (_, train_key, val_key) in enumerate(CURVE_PANELS, start=1):
        for curve in (c for c in curves if c.key in (train_key, val_key)):
            colour = palette[labels.index(curve.label) % len(palette)]
            figure.add_trace(
                go.Scatter(
                    x=curve.epochs,
                    y=curve.values,
                    mode="lines+markers",
                    name=curve.label,
                    legendgroup=curve.label,
                    showlegend=curve.label not in shown,
                    line={"color": colour, "dash": "solid" if curve.key == val_key else "dash"},
                    hovertemplate=f"{html.escape(curve.label)} {curve.key}<br>"
                    "epoch %{x}: %{y:.4f}<extra></extra>",
                ),
                row=1,
                col=column,
            )
            shown.add(curve.label)
    figure.update_xaxes(title_text="epoch", tickformat="d")
    figure.update_yaxes(tickformat=".0%", row=1, col=1)
    figure.update_layout(
        title="Training curves (val solid, train dashed)", template="plotly_white", height=460
    )
    return figure


def _parallel_figure(labels: Sequence[str], axes: Sequence[Axis]):
    # NOTE: plotly draws parcoords lines with WebGL (every other chart here is SVG). Chromium
    # without a GPU falls back to its software renderer (the browser test runs that way); in a
    # browser with WebGL disabled this one chart does not draw. The PNG has the same chart.
    import plotly.graph_objects as go

    dimensions = []
    for axis in axes:
        values = [math.log10(v) if axis.log and v > 0 else v for v in axis.values]
        dimension = {"label": axis.key, "values": values, "range": _range(values)}
        if axis.log:  # plotly has no log axis here: log10 values, ticks in plain numbers
            ticks = sorted(set(values))
            dimension |= {"tickvals": ticks, "ticktext": [f"{10**t:.3g}" for t in ticks]}
        elif axis.key in ("test_accuracy", "min_recall"):
            dimension["tickformat"] = ".1%"
        dimensions.append(dimension)
    accuracy = next(a.values for a in axes if a.key == "test_accuracy")
    low, high = _range(list(accuracy))
    figure = go.Figure(
        go.Parcoords(
            dimensions=dimensions,
            line={
                "color": list(accuracy),
                "cmin": low,
                "cmax": high,
                "colorscale": "Viridis",
                "showscale": True,
                "colorbar": {"title": {"text": "test accuracy"}},
            },
        )
    )
    figure.update_layout(
        title=f"Hyper-parameters and scores of {len(labels)} runs (colour: test accuracy)",
        height=460,
        margin={"l": 80, "r": 80, "t": 90},
    )
    return figure


def _range(values: Sequence[float]) -> list[float]:
    """Min to max; a constant axis (one run) gets room around its value instead of a guess."""
    low, high = min(values), max(values)
    if low == high:
        pad = abs(low) * 0.05 or 0.05
        return [low - pad, high + pad]
    return [low, high]


def _chart_div(figure, index: int) -> str:
    import plotly.io as pio

    div = pio.to_html(
        figure,
        include_plotlyjs=False,
        full_html=False,
        div_id=f"chart-{index}",
        config=_PLOT_CONFIG,
    )
    return f"<div class='chart'>{div}</div>"


def _html_table(headers: list[str], cells: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    rows = "".join("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in cells)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _html_cell(text: str) -> str:
    kind = " class='num'" if is_number_cell(text) else ""
    return f"<td{kind}>{html.escape(text)}</td>"
