"""A visual, the active filters and the viewer's row rules → ONE Athena SQL statement the query service runs.

The dataset is a CTE (``"dataset"``), the rows the viewer may see after the filters another (``"visible"``);
the visual aggregates those: GROUP BY its dimensions (``date_trunc`` for a time granularity), its measures,
ORDER BY, LIMIT top-N. Histogram bins, box-plot quartiles (``approx_percentile``), pivot totals (GROUPING
SETS) and a scatter's trend line (least squares from window averages) are computed in SQL too. Identifiers are
quoted with :func:`lakeport.sqltext.ident`; values become literals only through :func:`value_literal`, which
checks each value against its column's type.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lakeport.dashboards.definition import Dimension, Measure, Visual
from lakeport.dashboards.model import NUMERIC_TYPES, TEMPORAL_TYPES, base_type
from lakeport.errors import InvalidInput
from lakeport.sqltext import ident
from lakeport.sqltext import literal as text_literal

DEFAULT_RAW_LIMIT = 1000  # rows of a raw table or scatter when the visual gives no limit
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z?$")


@dataclass(frozen=True)
class Plan:
    sql: str
    roles: list[tuple[str, str]]  # (output name, dimension | measure | value)


def value_literal(value: Any, kind: str, what: str) -> str:
    """An SQL literal for ``value`` compared with a column of Athena type ``kind``; InvalidInput when the
    value does not fit the type (a string for a number column, a malformed date)."""
    kind = base_type(kind)
    if value is None:
        return "NULL"
    if kind in NUMERIC_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidInput(f"{what}: {value!r} is not a number", hint=f"the column is {kind}")
        return repr(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidInput(f"{what}: {value!r} is not true or false")
        return "TRUE" if value else "FALSE"
    if kind == "date" or (kind in TEMPORAL_TYPES and isinstance(value, str) and _DATE.match(value)):
        if not (isinstance(value, str) and _DATE.match(value)):
            raise InvalidInput(f"{what}: {value!r} is not a date YYYY-MM-DD")
        return f"DATE {text_literal(value)}"
    if kind in TEMPORAL_TYPES:
        if not (isinstance(value, str) and _TIMESTAMP.match(value)):
            raise InvalidInput(f"{what}: {value!r} is not a timestamp YYYY-MM-DD HH:MM:SS")
        return f"TIMESTAMP {text_literal(value.replace('T', ' ').rstrip('Z'))}"
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidInput(f"{what}: {value!r} is not a text value")
    return text_literal(str(value))


def filter_predicate(column: str, kind: str, filter_type: str, value: Any, what: str) -> str | None:
    """The WHERE condition of one filter's value (None: the filter is not active)."""
    col = ident(column)
    if filter_type == "range":
        if value is None:
            return None
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise InvalidInput(f"{what}: a range is [low, high] (either may be null)")
        low, high = value
        parts = []
        if low is not None:
            parts.append(f"{col} >= {value_literal(low, kind, what)}")
        if high is not None:
            parts.append(f"{col} <= {value_literal(high, kind, what)}")
        return " AND ".join(parts) or None
    if filter_type == "text":
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise InvalidInput(f"{what}: {value!r} is not a text")
        return f"strpos(lower({col}), lower({text_literal(value)})) > 0"
    values = value if isinstance(value, list | tuple) else ([] if value is None else [value])
    if not values:
        return None
    return in_list(col, kind, values, what)


def in_list(col: str, kind: str, values: Sequence[Any], what: str) -> str:
    present = [v for v in values if v is not None]
    parts = []
    if present:
        parts.append(f"{col} IN ({', '.join(value_literal(v, kind, what) for v in present)})")
    if len(present) < len(values):
        parts.append(f"{col} IS NULL")
    return "(" + " OR ".join(parts) + ")"


def dimension_sql(d: Dimension) -> str:
    if d.granularity is None:
        return ident(d.field)
    return f"date_trunc({text_literal(d.granularity)}, {ident(d.field)})"


def measure_sql(m: Measure) -> str:
    if m.field is None:
        return "count(*)"
    col = ident(m.field)
    if m.aggregation is None:
        return col
    if m.aggregation == "count_distinct":
        return f"count(DISTINCT {col})"
    if m.aggregation == "median":
        return f"approx_percentile({col}, 0.5)"
    return f"{m.aggregation}({col})"


def where_clause(predicates: Sequence[str]) -> str:
    return " WHERE " + " AND ".join(f"({p})" for p in predicates) if predicates else ""


def visual_plan(visual: Visual, relation: str, predicates: Sequence[str], limit: int | None) -> Plan:
    """The one statement answering ``visual`` over ``relation`` (the dataset's SELECT) for a viewer."""
    head = f"WITH {ident('dataset')} AS ({relation}), {ident('visible')} AS (SELECT * FROM {ident('dataset')}"
    head += f"{where_clause(predicates)})\n"
    builder = {"histogram": _histogram, "box": _box, "scatter": _scatter, "pivot": _pivot}.get(visual.kind)
    if builder is not None:
        body, roles = builder(visual, limit)
    elif visual.kind == "table" and visual.columns:
        body, roles = _raw_table(visual, limit)
    else:
        body, roles = _grouped(visual, limit)
    return Plan(head + body, roles)


def _order(visual: Visual, default: list[tuple[str, bool]]) -> str:
    order = list(visual.sort) or default
    if not order:
        return ""
    return " ORDER BY " + ", ".join(f"{ident(n)} {'DESC' if desc else 'ASC'} NULLS LAST" for n, desc in order)


def _limit(limit: int | None) -> str:
    return f" LIMIT {int(limit)}" if limit is not None else ""


def _grouped(visual: Visual, limit: int | None) -> tuple[str, list[tuple[str, str]]]:
    dims, measures = visual.dimensions, visual.measures
    select = [f"{dimension_sql(d)} AS {ident(d.name)}" for d in dims]
    select += [f"{measure_sql(m)} AS {ident(m.name)}" for m in measures]
    group = f" GROUP BY {', '.join(str(i + 1) for i in range(len(dims)))}" if dims else ""
    if visual.kind in ("line", "area", "heatmap") or (visual.kind == "bar" and len(dims) > 1 and limit is None):
        default = [(d.name, False) for d in dims]
    elif visual.kind in ("bar", "pie", "donut", "table") and measures and dims:
        default = [(measures[0].name, True), *((d.name, False) for d in dims)]
    else:
        default = [(d.name, False) for d in dims]
    roles = [(d.name, "dimension") for d in dims] + [(m.name, "measure") for m in measures]
    if visual.kind == "bar" and len(dims) > 1 and measures and limit is not None:
        return _top_categories(visual, select, group, limit), roles
    sql = f"SELECT {', '.join(select)} FROM {ident('visible')}{group}{_order(visual, default)}{_limit(limit)}"
    return sql, roles


def _top_categories(visual: Visual, select: list[str], group: str, limit: int) -> str:
    """A grouped or stacked bar with a top-N: the N categories (first dimension) with the largest first measure
    over all their series, each with every series; categories in that order unless the visual sorts."""
    first, measure = visual.dimensions[0], visual.measures[0]
    key, rank, top = ident("top_key"), ident("top_rank"), ident("top")
    ranked = (
        f"SELECT {dimension_sql(first)} AS {key}, row_number() OVER (ORDER BY {measure_sql(measure)} DESC NULLS LAST, "
        f"{dimension_sql(first)} ASC NULLS LAST) AS {rank} FROM {ident('visible')} GROUP BY 1 "
        f"ORDER BY {rank} LIMIT {int(limit)}"
    )
    join = f" JOIN ({ranked}) AS {top} ON {dimension_sql(first)} IS NOT DISTINCT FROM {top}.{key}"
    if visual.sort:
        order = _order(visual, [])
    else:
        rest = ", ".join(f"{ident(d.name)} ASC NULLS LAST" for d in visual.dimensions[1:])
        order = f" ORDER BY min({top}.{rank}), {rest}"
    return f"SELECT {', '.join(select)} FROM {ident('visible')}{join}{group}{order}"


def _raw_table(visual: Visual, limit: int | None) -> tuple[str, list[tuple[str, str]]]:
    select = ", ".join(f"{dimension_sql(c)} AS {ident(c.name)}" for c in visual.columns)
    sql = f"SELECT {select} FROM {ident('visible')}{_order(visual, [])}{_limit(limit or DEFAULT_RAW_LIMIT)}"
    return sql, [(c.name, "value") for c in visual.columns]


def _histogram(visual: Visual, limit: int | None) -> tuple[str, list[tuple[str, str]]]:
    bins = int(visual.options.get("bins", 20))
    col = ident(str(visual.options["field"]))
    v, r, b = ident("v"), ident("range"), ident("binned")
    sql = (
        f", {v} AS (SELECT CAST({col} AS double) AS x FROM {ident('visible')} WHERE {col} IS NOT NULL)"
        f", {r} AS (SELECT min(x) AS lo, max(x) AS hi FROM {v})"
        f", {b} AS (SELECT CASE WHEN {r}.hi = {r}.lo THEN 0 ELSE least(CAST(floor(({v}.x - {r}.lo) * {bins} / "
        f"({r}.hi - {r}.lo)) AS bigint), {bins - 1}) END AS bin, {r}.lo AS lo, {r}.hi AS hi FROM {v} CROSS JOIN {r})"
        f"\nSELECT bin AS {ident('bin')}, lo + bin * (hi - lo) / {bins} AS {ident('bin_start')}, "
        f"lo + (bin + 1) * (hi - lo) / {bins} AS {ident('bin_end')}, count(*) AS {ident('count')} "
        f"FROM {b} GROUP BY bin, lo, hi{_order(visual, [('bin', False)])}{_limit(limit)}"
    )
    # the CTEs continue the head's WITH list
    return sql, [("bin", "dimension"), ("bin_start", "value"), ("bin_end", "value"),
                                       ("count", "measure")]  # fmt: skip


def _box(visual: Visual, limit: int | None) -> tuple[str, list[tuple[str, str]]]:
    col = ident(str(visual.options["field"]))
    dims = visual.dimensions
    select = [f"{dimension_sql(d)} AS {ident(d.name)}" for d in dims]
    select += [
        f"min({col}) AS {ident('min')}",
        f"approx_percentile({col}, 0.25) AS {ident('q1')}",
        f"approx_percentile({col}, 0.5) AS {ident('median')}",
        f"approx_percentile({col}, 0.75) AS {ident('q3')}",
        f"max({col}) AS {ident('max')}",
        f"count({col}) AS {ident('count')}",
    ]
    group = " GROUP BY 1" if dims else ""
    sql = (
        f"SELECT {', '.join(select)} FROM {ident('visible')} WHERE {col} IS NOT NULL{group}"
        f"{_order(visual, [(d.name, False) for d in dims])}{_limit(limit)}"
    )
    roles = [(d.name, "dimension") for d in dims] + [(n, "measure") for n in ("min", "q1", "median", "q3", "max")]
    return sql, [*roles, ("count", "measure")]


def _scatter(visual: Visual, limit: int | None) -> tuple[str, list[tuple[str, str]]]:
    dims = visual.dimensions
    axes = {m.name: m for m in visual.measures}
    select = [f"{dimension_sql(d)} AS {ident(d.name)}" for d in dims]
    select += [f"{dimension_sql(c)} AS {ident(c.name)}" for c in visual.columns]
    select += [f"{measure_sql(m)} AS {ident(m.name)}" for m in visual.measures]
    roles = [(d.name, "dimension") for d in (*dims, *visual.columns)] + [(m.name, "measure") for m in visual.measures]
    x, y = ident(axes["x"].name), ident(axes["y"].name)
    if dims:
        keys = len(dims) + len(visual.columns)
        inner = f"SELECT {', '.join(select)} FROM {ident('visible')} GROUP BY {', '.join(map(str, range(1, keys + 1)))}"
    else:
        inner = f"SELECT {', '.join(select)} FROM {ident('visible')}"
    points = ident("points")
    sql = f", {points} AS (SELECT * FROM ({inner}) WHERE {x} IS NOT NULL AND {y} IS NOT NULL)\n"
    order = _order(visual, [(m, False) for m in (*(d.name for d in dims), "x", "y")])
    if not visual.options.get("trend_line"):
        sql += f"SELECT * FROM {points}{order}{_limit(limit or DEFAULT_RAW_LIMIT)}"
        return sql, roles
    fit = ident("fit")
    sql = sql.rstrip("\n") + (
        f", {fit} AS (SELECT (avg(CAST({x} AS double) * {y}) - avg(CAST({x} AS double)) * avg({y})) / "
        f"nullif(avg(CAST({x} AS double) * {x}) - avg(CAST({x} AS double)) * avg({x}), 0) AS slope, "
        f"avg(CAST({x} AS double)) AS mx, avg(CAST({y} AS double)) AS my FROM {points})\n"
        f"SELECT {points}.*, {fit}.slope AS {ident('trend_slope')}, {fit}.my - {fit}.slope * {fit}.mx AS "
        f"{ident('trend_intercept')} FROM {points} CROSS JOIN {fit}{order}{_limit(limit or DEFAULT_RAW_LIMIT)}"
    )
    return sql, [*roles, ("trend_slope", "value"), ("trend_intercept", "value")]


def _pivot(visual: Visual, limit: int | None) -> tuple[str, list[tuple[str, str]]]:
    keys = [*visual.dimensions, *visual.columns]
    names = [ident(d.name) for d in keys]
    select = [f"{dimension_sql(d)} AS {ident(d.name)}" for d in keys]
    select += [f"{measure_sql(m)} AS {ident(m.name)}" for m in visual.measures]
    roles = [(d.name, "dimension") for d in keys] + [(m.name, "measure") for m in visual.measures]
    positions = [str(i + 1) for i in range(len(keys))]
    if visual.options.get("totals", True) and keys:
        exprs = [dimension_sql(d) for d in keys]
        rows = exprs[: len(visual.dimensions)]
        cols = exprs[len(visual.dimensions) :]
        sets = {tuple(exprs), tuple(rows), tuple(cols), ()}
        group = (
            " GROUP BY GROUPING SETS ("
            + ", ".join(f"({', '.join(s)})" for s in sorted(sets, key=len, reverse=True))
            + ")"
        )
        # Trino's grouping(): a bit per key, 1 where the row is a total over that key
        select.append(f"grouping({', '.join(dimension_sql(d) for d in keys)}) AS {ident('_totals')}")
        roles.append(("_totals", "value"))
        order = " ORDER BY " + ", ".join([*(f"{n} ASC NULLS LAST" for n in names), f"{ident('_totals')} ASC"])
    else:
        group = f" GROUP BY {', '.join(positions)}" if keys else ""
        order = _order(visual, [(d.name, False) for d in keys])
    if visual.sort:
        order = _order(visual, [])
    return f"SELECT {', '.join(select)} FROM {ident('visible')}{group}{order}{_limit(limit)}", roles
