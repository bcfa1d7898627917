"""Answered visuals → Plotly figure JSON (``{"data": [traces], "layout": {...}}``) for ``Plotly.newPlot``.

Plain dictionaries: the browser draws with plotly.js, so nothing here imports the plotly package. Every
aggregate already comes from SQL (``visual_sql.py``): histogram bins become a gap-less bar trace, box-plot
quartiles a pre-computed box trace, pivot totals a row and a column of a table trace, a scatter's trend line a
line over the points' x range. Measure formats (d3-format, as written in the YAML) become tick formats and hover
templates. A visual without rows is a figure with a "No data" annotation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from lakeport.dashboards.model import VisualData, VisualError

PLOTLY_JS = ("package_data", "plotly.min.js")  # in the installed ``plotly`` package


def plotly_js_path() -> Path | None:
    """The installed plotly package's own ``plotly.min.js`` (what the console serves and exports inline: no CDN),
    or None when the package is not installed."""
    try:
        found = resources.files("plotly").joinpath(*PLOTLY_JS)
    except ModuleNotFoundError:
        return None
    path = Path(str(found))
    return path if path.is_file() else None


NULL_LABEL = "(null)"  # how a missing dimension value is shown
TOTAL_LABEL = "Total"
DONUT_HOLE = 0.45
MAX_MARKER_PX = 40  # the largest scatter marker's diameter


@dataclass(frozen=True)
class Theme:
    paper: str
    plot: str
    font: str
    grid: str
    colors: tuple[str, ...]
    scale: str  # a plotly.js colorscale name (heat maps, numeric scatter colors)
    family: str = "Inter, 'Segoe UI', Helvetica, Arial, sans-serif"


_THEMES: dict[str, Theme] = {
    "default": Theme("#ffffff", "#ffffff", "#1f2933", "#e4e7eb",
                     ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"),
                     "Blues"),
    "classic": Theme("#ffffff", "#f7f7f7", "#222222", "#dddddd",
                     ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"),
                     "YlGnBu", "Georgia, 'Times New Roman', serif"),
    "midnight": Theme("#0b1526", "#0f1d33", "#e6edf7", "#23344f",
                      ("#4cc9f0", "#f72585", "#b5e48c", "#ffd166", "#7209b7", "#4895ef", "#ff8fab", "#90e0ef"),
                      "Viridis"),
    "seaside": Theme("#f4fbfd", "#ffffff", "#14324a", "#d3e8ef",
                     ("#0077b6", "#00b4d8", "#48cae4", "#f4a261", "#2a9d8f", "#e76f51", "#90e0ef", "#264653"),
                     "Teal"),
    "rainier": Theme("#fbfaf7", "#ffffff", "#2d3a2e", "#e2e0d8",
                     ("#3a5a40", "#a3b18a", "#588157", "#dda15e", "#bc6c25", "#6c584c", "#344e41", "#ccd5ae"),
                     "Greens"),
    "dark": Theme("#111111", "#1b1b1b", "#eeeeee", "#333333",
                  ("#8ab4f8", "#f28b82", "#fdd663", "#81c995", "#c58af9", "#78d9ec", "#fcad70", "#ff8bcb"),
                  "Plasma"),
}  # fmt: skip


def _theme(name: str) -> Theme:
    return _THEMES.get(name, _THEMES["default"])


def theme_layout(theme: str) -> dict[str, Any]:
    """A layout's colors, fonts and background for one of ``definition.THEMES`` (unknown names: default)."""
    t = _theme(theme)
    axis = {"gridcolor": t.grid, "zerolinecolor": t.grid, "linecolor": t.grid, "automargin": True}
    return {
        "paper_bgcolor": t.paper,
        "plot_bgcolor": t.plot,
        "font": {"family": t.family, "color": t.font, "size": 13},
        "colorway": list(t.colors),
        "xaxis": dict(axis),
        "yaxis": dict(axis),
        "legend": {"bgcolor": "rgba(0,0,0,0)", "font": {"color": t.font}},
        "hoverlabel": {"font": {"family": t.family}},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    }


# ---- reading a VisualData


class _Answer:
    """A VisualData's columns by role, and its values by column name."""

    def __init__(self, data: VisualData) -> None:
        self.data = data
        self.names = [str(c["Name"]) for c in data.columns]
        self.index = {n: i for i, n in enumerate(self.names)}
        self.dimensions = [str(c["Name"]) for c in data.columns if c.get("Role") == "dimension"]
        self.measures = [str(c["Name"]) for c in data.columns if c.get("Role") == "measure"]
        fallback = data.options.get("format")
        self.formats = {
            str(c["Name"]): c.get("Format") or (fallback if c.get("Role") == "measure" else None) for c in data.columns
        }

    def values(self, name: str, rows: Sequence[Sequence[Any]] | None = None) -> list[Any]:
        at = self.index[name]
        return [r[at] for r in (self.data.rows if rows is None else rows)]

    def labels(self, name: str, rows: Sequence[Sequence[Any]] | None = None) -> list[Any]:
        return [label(v) for v in self.values(name, rows)]

    def format(self, name: str) -> str | None:
        found = self.formats.get(name)
        return str(found) if found else None

    def granular(self, name: str) -> bool:
        granularity = self.data.options.get("granularity")
        return isinstance(granularity, Mapping) and name in granularity


def label(value: Any) -> Any:
    """A dimension value as a category: missing → ``(null)``, booleans as text (plotly.js has no boolean axis)."""
    if value is None:
        return NULL_LABEL
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _hover(value: str, fmt: str | None) -> str:
    return f"%{{{value}{':' + fmt if fmt else ''}}}"


def _template(*parts: tuple[str, str], fmt_of: Mapping[str, str | None] | None = None) -> str:
    """``<b>name</b>: %{x:fmt}`` lines and no trace box."""
    fmts = fmt_of or {}
    lines = [f"{title}: {_hover(ref, fmts.get(ref))}" for title, ref in parts]
    return "<br>".join(lines) + "<extra>%{fullData.name}</extra>"


def _series(answer: _Answer) -> tuple[list[str], str | None]:
    """The category dimensions and the series (``color``) dimension of a bar, line or area: with two or more
    dimensions, the last is the series (``color`` is appended after the visual's dimensions)."""
    dims = answer.dimensions
    if len(dims) >= 2:
        return dims[:-1], dims[-1]
    return dims, None


def _category(answer: _Answer, dims: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Any]:
    if len(dims) == 1:
        return answer.labels(dims[0], rows)
    columns = [answer.labels(d, rows) for d in dims]
    return [" · ".join(str(v) for v in parts) for parts in zip(*columns, strict=True)]


def _groups(answer: _Answer, name: str) -> list[tuple[Any, list[list[Any]]]]:
    """Rows grouped by one column's label, in order of first appearance."""
    out: dict[Any, list[list[Any]]] = {}
    for row in answer.data.rows:
        out.setdefault(label(row[answer.index[name]]), []).append(row)
    return list(out.items())


# ---- one builder per kind: (traces, layout additions)

Built = tuple[list[dict[str, Any]], dict[str, Any]]


def _kpi(answer: _Answer) -> Built:
    row = answer.data.rows[0]
    names = answer.measures or answer.names
    traces = []
    for i, name in enumerate(names):
        value = row[answer.index[name]]
        number: dict[str, Any] = {"valueformat": answer.format(name)} if answer.format(name) else {}
        trace: dict[str, Any] = {
            "type": "indicator",
            "mode": "number",
            "value": value,
            "number": number,
            "title": {"text": name},
            "domain": {"x": [i / len(names), (i + 1) / len(names)], "y": [0, 1]},
        }
        traces.append(trace)
    return traces, {}


def _bar(answer: _Answer) -> Built:
    horizontal = answer.data.options.get("orientation") == "horizontal"
    stacked = answer.data.options.get("mode") == "stacked"
    dims, series = _series(answer)
    traces = []
    for measure in answer.measures:
        fmt = answer.format(measure)
        groups = _groups(answer, series) if series else [(None, answer.data.rows)]
        for value, rows in groups:
            name = measure if series is None else (str(value) if len(answer.measures) == 1 else f"{value} · {measure}")
            categories, numbers = _category(answer, dims, rows), answer.values(measure, rows)
            axis_c, axis_v = ("y", "x") if horizontal else ("x", "y")
            trace = {
                "type": "bar",
                "name": name,
                axis_c: categories,
                axis_v: numbers,
                "orientation": "h" if horizontal else "v",
                "hovertemplate": _template((" · ".join(dims), axis_c), (measure, axis_v), fmt_of={axis_v: fmt}),
            }
            traces.append(trace)
    value_axis, category_axis = ("xaxis", "yaxis") if horizontal else ("yaxis", "xaxis")
    first = answer.format(answer.measures[0]) if answer.measures else None
    layout: dict[str, Any] = {
        "barmode": "stack" if stacked else "group",
        value_axis: {"tickformat": first or "", "title": {"text": _axis_title(answer.measures)}},
        category_axis: {"type": "category", "title": {"text": " · ".join(dims)}},
    }
    if horizontal:  # a top-N reads from the top
        layout["yaxis"]["autorange"] = "reversed"
    return traces, layout


def _axis_title(measures: Sequence[str]) -> str:
    return measures[0] if len(measures) == 1 else ""


def _line(answer: _Answer, *, area: bool = False) -> Built:
    dims, series = _series(answer)
    groups = _groups(answer, series) if series else [(None, answer.data.rows)]
    traces = []
    for measure in answer.measures:
        fmt = answer.format(measure)
        for value, rows in groups:
            name = measure if series is None else (str(value) if len(answer.measures) == 1 else f"{value} · {measure}")
            trace: dict[str, Any] = {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": _category(answer, dims, rows),
                "y": answer.values(measure, rows),
                "hovertemplate": _template((" · ".join(dims), "x"), (measure, "y"), fmt_of={"y": fmt}),
            }
            if area:
                trace.update({"stackgroup": measure} if series else {"fill": "tozeroy"})
            traces.append(trace)
    xaxis: dict[str, Any] = {"title": {"text": " · ".join(dims)}}
    if len(dims) == 1 and answer.granular(dims[0]):
        xaxis["type"] = "date"
    first = answer.format(answer.measures[0]) if answer.measures else None
    layout = {"xaxis": xaxis, "yaxis": {"tickformat": first or "", "title": {"text": _axis_title(answer.measures)}}}
    return traces, layout


def _pie(answer: _Answer, *, hole: float = 0.0) -> Built:
    dim, measure = answer.dimensions[0], answer.measures[0]
    fmt = answer.format(measure)
    trace = {
        "type": "pie",
        "name": measure,
        "labels": answer.labels(dim),
        "values": answer.values(measure),
        "hole": hole,
        "sort": False,
        "textinfo": "label+percent",
        "hovertemplate": f"{dim}: %{{label}}<br>{measure}: {_hover('value', fmt)}<br>%{{percent}}<extra></extra>",
    }
    return [trace], {}


def _scatter(answer: _Answer) -> Built:
    fmts = {"x": answer.format("x"), "y": answer.format("y")}
    keys = [d for d in answer.dimensions if d != "color"]
    colored = "color" in answer.index
    numeric_color = colored and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in answer.values("color") if v is not None
    )
    groups = _groups(answer, "color") if colored and not numeric_color else [(None, answer.data.rows)]
    sizes = answer.values("size") if "size" in answer.index else []
    biggest = max((s for s in sizes if isinstance(s, int | float)), default=0)
    traces = []
    for value, rows in groups:
        marker: dict[str, Any] = {"opacity": 0.75}
        if "size" in answer.index and biggest > 0:
            marker.update(size=answer.values("size", rows), sizemode="area", sizemin=3,
                          sizeref=2.0 * biggest / MAX_MARKER_PX**2)  # fmt: skip
        if numeric_color:
            marker.update(color=answer.values("color", rows), colorscale=_theme(_theme_name(answer)).scale,
                          showscale=True, colorbar={"title": {"text": "color"}})  # fmt: skip
        trace: dict[str, Any] = {
            "type": "scatter",
            "mode": "markers",
            "name": "points" if value is None else str(value),
            "x": answer.values("x", rows),
            "y": answer.values("y", rows),
            "marker": marker,
            "hovertemplate": _template(("x", "x"), ("y", "y"), fmt_of=fmts),
        }
        if keys:
            trace["text"] = _category(answer, keys, rows)
            trace["hovertemplate"] = "%{text}<br>" + trace["hovertemplate"]
        traces.append(trace)
    trend = _trend(answer)
    if trend is not None:
        traces.append(trend)
    layout = {
        "xaxis": {"tickformat": fmts["x"] or "", "title": {"text": "x"}},
        "yaxis": {"tickformat": fmts["y"] or "", "title": {"text": "y"}},
    }
    return traces, layout


def _theme_name(answer: _Answer) -> str:
    return str(answer.data.options.get("theme") or "default")


def _trend(answer: _Answer) -> dict[str, Any] | None:
    """The least-squares line SQL computed (``trend_slope``, ``trend_intercept``) over the points' x range."""
    if "trend_slope" not in answer.index:
        return None
    row = answer.data.rows[0]
    slope, intercept = row[answer.index["trend_slope"]], row[answer.index["trend_intercept"]]
    xs = [x for x in answer.values("x") if isinstance(x, int | float)]
    if slope is None or intercept is None or not xs:
        return None
    ends = [min(xs), max(xs)]
    return {
        "type": "scatter",
        "mode": "lines",
        "name": "trend",
        "x": ends,
        "y": [intercept + slope * x for x in ends],
        "line": {"dash": "dash", "width": 2},
        "hovertemplate": f"trend: y = {slope:.4g} x + {intercept:.4g}<extra></extra>",
    }


def _histogram(answer: _Answer) -> Built:
    starts, ends = answer.values("bin_start"), answer.values("bin_end")
    widths = [(e - s) if e != s else 1.0 for s, e in zip(starts, ends, strict=True)]
    trace = {
        "type": "bar",
        "name": "count",
        "x": [s + w / 2 for s, w in zip(starts, widths, strict=True)],
        "y": answer.values("count"),
        "width": widths,
        "customdata": [[s, e] for s, e in zip(starts, ends, strict=True)],
        "hovertemplate": "%{customdata[0]:.4g} – %{customdata[1]:.4g}<br>count: %{y:,}<extra></extra>",
        "marker": {"line": {"width": 1, "color": _theme(_theme_name(answer)).plot}},
    }
    field = str(answer.data.options.get("field") or "")
    layout = {"bargap": 0, "xaxis": {"title": {"text": field}}, "yaxis": {"title": {"text": "count"}}}
    return [trace], layout


def _heatmap(answer: _Answer) -> Built:
    x_dim, y_dim = answer.dimensions[0], answer.dimensions[1]
    measure = answer.measures[0]
    xs, ys = _distinct(answer.labels(x_dim)), _distinct(answer.labels(y_dim))
    z: list[list[Any]] = [[None] * len(xs) for _ in ys]
    at_x, at_y = {v: i for i, v in enumerate(xs)}, {v: i for i, v in enumerate(ys)}
    for x, y, value in zip(answer.labels(x_dim), answer.labels(y_dim), answer.values(measure), strict=True):
        z[at_y[y]][at_x[x]] = value
    fmt = answer.format(measure)
    trace = {
        "type": "heatmap",
        "name": measure,
        "x": xs,
        "y": ys,
        "z": z,
        "colorscale": _theme(_theme_name(answer)).scale,
        "colorbar": {"title": {"text": measure}, "tickformat": fmt or ""},
        "hovertemplate": f"{x_dim}: %{{x}}<br>{y_dim}: %{{y}}<br>{measure}: {_hover('z', fmt)}<extra></extra>",
    }
    layout = {
        "xaxis": {"type": "category", "title": {"text": x_dim}},
        "yaxis": {"type": "category", "title": {"text": y_dim}},
    }
    return [trace], layout


def _distinct(values: Sequence[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _box(answer: _Answer) -> Built:
    keys = list(answer.dimensions)
    field = str(answer.data.options.get("field") or "value")
    rows = answer.data.rows
    trace: dict[str, Any] = {
        "type": "box",
        "name": field,
        "q1": answer.values("q1"),
        "median": answer.values("median"),
        "q3": answer.values("q3"),
        "lowerfence": answer.values("min"),
        "upperfence": answer.values("max"),
        "boxpoints": False,
    }
    trace["x"] = _category(answer, keys, rows) if keys else [field] * len(rows)
    layout = {
        "xaxis": {"type": "category", "title": {"text": " · ".join(keys)}},
        "yaxis": {"title": {"text": field}},
    }
    return [trace], layout


def _table(answer: _Answer) -> Built:
    columns = [answer.values(n) for n in answer.names]
    return [_table_trace(answer, answer.names, columns, [answer.format(n) for n in answer.names])], {}


def _table_trace(answer: _Answer, header: Sequence[Any], columns: Sequence[Sequence[Any]],
                 formats: Sequence[str | None]) -> dict[str, Any]:  # fmt: skip
    t = _theme(_theme_name(answer))
    return {
        "type": "table",
        "header": {"values": [str(h) for h in header], "align": "left", "fill": {"color": t.grid},
                   "font": {"color": t.font}},
        "cells": {"values": [list(c) for c in columns], "format": [f or "" for f in formats], "align": "left",
                  "fill": {"color": t.plot}, "font": {"color": t.font}},
    }  # fmt: skip


def _pivot_split(answer: _Answer) -> tuple[list[str], list[str]]:
    """The pivot's row and column dimensions. ``_totals`` is Trino's grouping() mask (a bit per key, the first
    key the highest bit): the row totals are grouped by the row keys alone, so their mask is the low run of bits
    of the column keys. Without totals (or without both kinds of keys) the last key is taken as the column."""
    dims = answer.dimensions
    if "_totals" in answer.index:
        full = (1 << len(dims)) - 1
        for mask in set(answer.values("_totals")):
            if isinstance(mask, int) and 0 < mask < full and mask & (mask + 1) == 0:
                columns = mask.bit_length()
                return dims[: len(dims) - columns], dims[len(dims) - columns :]
        return dims, []
    if len(dims) >= 2:
        return dims[:-1], dims[-1:]
    return dims, []


def _pivot(answer: _Answer) -> Built:
    rows_dims, col_dims = _pivot_split(answer)
    measures = answer.measures
    n_rows = len(rows_dims)
    col_bits = (1 << len(col_dims)) - 1
    row_bits = ((1 << len(answer.dimensions)) - 1) ^ col_bits
    cells: dict[tuple[tuple[Any, ...], tuple[Any, ...]], list[Any]] = {}
    row_keys: list[tuple[Any, ...]] = []
    col_keys: list[tuple[Any, ...]] = []
    for row in answer.data.rows:
        mask = row[answer.index["_totals"]] if "_totals" in answer.index else 0
        keys = tuple(label(row[answer.index[d]]) for d in answer.dimensions)
        r_key = (TOTAL_LABEL,) * n_rows if mask & row_bits else keys[:n_rows]
        c_key = (TOTAL_LABEL,) * len(col_dims) if mask & col_bits else keys[n_rows:]
        cells[(r_key, c_key)] = [row[answer.index[m]] for m in measures]
        if not mask & row_bits and r_key not in row_keys:
            row_keys.append(r_key)
        if not mask & col_bits and c_key not in col_keys:
            col_keys.append(c_key)
    total_r, total_c = (TOTAL_LABEL,) * n_rows, (TOTAL_LABEL,) * len(col_dims)
    if any(k[0] == total_r for k in cells) and n_rows:
        row_keys.append(total_r)
    if col_dims and any(k[1] == total_c for k in cells):
        col_keys.append(total_c)
    header: list[Any] = list(rows_dims)
    columns: list[list[Any]] = [[k[i] for k in row_keys] for i in range(n_rows)]
    formats: list[str | None] = [None] * n_rows
    for c_key in col_keys or [()]:
        for i, measure in enumerate(measures):
            head = " · ".join(str(v) for v in c_key)
            header.append(head if len(measures) == 1 and head else " · ".join(filter(None, (head, measure))))
            columns.append([(cells.get((r, c_key)) or [None] * len(measures))[i] for r in row_keys or [()]])
            formats.append(answer.format(measure))
    return [_table_trace(answer, header, columns, formats)], {}


_BUILDERS: dict[str, Callable[[_Answer], Built]] = {
    "kpi": _kpi,
    "bar": _bar,
    "line": _line,
    "area": lambda a: _line(a, area=True),
    "pie": _pie,
    "donut": lambda a: _pie(a, hole=DONUT_HOLE),
    "scatter": _scatter,
    "histogram": _histogram,
    "heatmap": _heatmap,
    "box": _box,
    "table": _table,
    "pivot": _pivot,
}


# ---- the figure


def figure(data: VisualData, theme: str = "default") -> dict[str, Any]:
    """The Plotly figure of one answered visual: ``{"data": [traces], "layout": {...}}``, JSON-safe."""
    layout = theme_layout(theme)
    layout["title"] = {"text": _title(data), "x": 0.02, "xanchor": "left"}
    if not data.rows:
        return _plain([], _no_data(layout))
    answer = _Answer(data)
    builder = _BUILDERS.get(data.kind, _table)
    try:
        traces, extra = builder(answer)
    except (LookupError, TypeError, ValueError, ArithmeticError):  # columns not shaped as the kind expects
        traces, extra = _table(answer)
    return _plain(traces, _merge(layout, extra))


def _plain(traces: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    return {"data": [_clean(t) for t in traces], "layout": {k: _clean(v) for k, v in layout.items()}}


def _title(data: VisualData) -> str:
    note = " (first rows only)" if data.options.get("truncated") else ""
    return f"{data.title}{note}"


def _no_data(layout: dict[str, Any]) -> dict[str, Any]:
    hidden = {"visible": False}
    note = {"text": "No data", "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
            "font": {"size": 16}}  # fmt: skip
    return _merge(layout, {"xaxis": hidden, "yaxis": hidden, "annotations": [note]})


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities → null, tuples → lists, anything else unknown → its text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return str(value)


def sheet_payload(
    dashboard: str, sheet: str, theme: str, answers: Sequence[VisualData | VisualError]
) -> dict[str, Any]:
    """A sheet for a front end: every answered visual with its figure, a failed one with its error."""
    visuals = [
        {**a.to_dict(), "Figure": figure(a, theme)} if isinstance(a, VisualData) else a.to_dict() for a in answers
    ]
    return {"Dashboard": dashboard, "Sheet": sheet, "Theme": theme, "Visuals": visuals}
