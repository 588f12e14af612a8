"""Chart figures for plotly.js: plain dictionaries (``data`` and ``layout``) sent as JSON.

The pages draw them with plotly.js, served by govbot from the installed ``plotly``
package (:mod:`govbot.web.dashboard.assets`); no figure is drawn by hand.

plotly.js reads the text of labels as a small HTML dialect (``<a href>``, ``<b>``, ...),
so every label that comes from a spec (an operation's path) is HTML-escaped first
(:func:`label`): plotly shows the entities as the characters they stand for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from collections.abc import Sequence
from typing import Any

from govbot.web.queries import TrendPoint

COLORS = {
    "error": "#c0392b",
    "warning": "#d68910",
    "info": "#2e86c1",
    "external": "#1e8449",
    "external-admin": "#7d3c98",
    "internal": "#717d7e",
}
_LAYOUT: dict[str, Any] = {
    "margin": {"l": 48, "r": 16, "t": 8, "b": 40},
    "height": 280,
    "legend": {"orientation": "h", "y": -0.2},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "font": {"size": 12},
}


def label(text: str) -> str:
    """Untrusted text as a plotly label: shown as is, never read as markup."""
    return html.escape(text, quote=False)


def _iso(value: dt.datetime | dt.date) -> str:
    return value.isoformat()


def health_trend(
    points: Sequence[TrendPoint], *, operations: bool = True, until: dt.datetime | None = None
) -> dict[str, Any]:
    """Findings by severity (lines) and, on a second axis, external/internal operations.

    The lines are steps: a merged state holds until the next one. With ``until`` (now)
    the last state is drawn up to it, so an API merged once is a line, not a lone dot.
    """
    if points and until is not None and until > points[-1].at:
        points = [*points, dataclasses.replace(points[-1], at=until)]
    xs = [_iso(p.at) for p in points]
    data: list[dict[str, Any]] = []
    for name, key in (("errors", "error"), ("warnings", "warning"), ("info", "info")):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "line": {"shape": "hv", "color": COLORS[key]},
                "name": name,
                "x": xs,
                "y": [getattr(p, key) for p in points],
            }
        )
    layout = {
        **_LAYOUT,
        "xaxis": {"type": "date"},
        "yaxis": {"title": {"text": "findings"}, "rangemode": "tozero"},
    }
    if operations:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hv", "dash": "dot", "color": COLORS["external"]},
                "name": "external operations",
                "x": xs,
                "y": [p.external + p.external_admin for p in points],
                "yaxis": "y2",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hv", "dash": "dot", "color": COLORS["internal"]},
                "name": "internal operations",
                "x": xs,
                "y": [p.internal for p in points],
                "yaxis": "y2",
            }
        )
        layout["yaxis2"] = {
            "title": {"text": "operations"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        }
        layout["margin"] = {**_LAYOUT["margin"], "r": 56}
    return {"data": data, "layout": layout}


def sunset_timeline(items: Sequence[tuple[str, dt.date]], today: dt.date) -> dict[str, Any]:
    """Deprecated operations placed at their sunset date, with today marked."""
    past = [(op, d) for op, d in items if d < today]
    near = [(op, d) for op, d in items if d >= today]
    data = []
    for name, group, color in (
        ("sunset passed", past, COLORS["error"]),
        ("sunset ahead", near, COLORS["warning"]),
    ):
        if not group:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "marker": {"size": 10, "color": color, "symbol": "diamond"},
                "x": [_iso(d) for _, d in group],
                "y": [label(op) for op, _ in group],
                "hovertemplate": "%{y}<br>sunset %{x}<extra></extra>",
            }
        )
    height = max(160, min(900, 60 + 22 * len(items)))
    layout = {
        **_LAYOUT,
        "height": height,
        "margin": {"l": 220, "r": 16, "t": 8, "b": 40},
        "xaxis": {"type": "date"},
        "yaxis": {"automargin": True, "type": "category"},
        "shapes": [
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": _iso(today),
                "x1": _iso(today),
                "y0": 0,
                "y1": 1,
                "line": {"color": "#34495e", "dash": "dash"},
            }
        ],
        "annotations": [
            {
                "x": _iso(today),
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": "today",
                "showarrow": False,
                "yanchor": "bottom",
            }
        ],
    }
    return {"data": data, "layout": layout}
