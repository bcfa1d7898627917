"""One AST, two texts: ``ATHENA`` writes what a user would send lakeport; ``ORACLE`` writes DuckDB SQL over the
oracle's tables, so that DuckDB computes what Trino's documentation says the Athena text means.

Where the two engines differ the oracle spells Trino's meaning out instead of trusting DuckDB's function:
integer ``/`` and ``%`` truncate toward zero (sign × (|a| div |b|)); a double or decimal cast to an integer rounds
half away from zero; ``concat``, ``greatest`` and ``least`` are NULL when any argument is; ``split_part`` past the
last field is NULL; ``date_trunc`` / ``date_add`` of a date stay dates; ``day_of_week`` is ISO; ``count_if`` is
a count; ``stddev`` / ``variance`` are the samples'; NULLs sort last unless told otherwise. Nothing here goes
through lakeport's translator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from tests.query.differential.catalog import BY_NAME
from tests.query.differential.nodes import (
    Agg,
    Arith,
    Between,
    Case,
    Cast,
    Coalesce,
    ColumnRef,
    Compare,
    DerivedSource,
    Expr,
    Func,
    InList,
    IsNull,
    Kind,
    Like,
    Literal,
    Logical,
    Negate,
    Not,
    OrderKey,
    Query,
    Select,
    Source,
    TableSource,
    UnionAll,
    Window,
    WindowKey,
)

TYPE_NAMES = {
    Kind.INT: "BIGINT",
    Kind.DECIMAL: "DECIMAL(15,2)",
    Kind.DOUBLE: "DOUBLE",
    Kind.VARCHAR: "VARCHAR",
    Kind.BOOLEAN: "BOOLEAN",
    Kind.DATE: "DATE",
    Kind.TIMESTAMP: "TIMESTAMP",
}


def string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Renderer:
    """What both dialects write alike; the subclasses write what differs."""

    def query(self, query: Query) -> str:
        if isinstance(query, UnionAll):
            return f"{self.select(query.left)} UNION ALL {self.select(query.right)}"
        return self.select(query)

    def select(self, select: Select) -> str:
        items = ", ".join(f"{self.expr(e)} AS {name}" for e, name in select.items)
        parts = [f"SELECT {'DISTINCT ' if select.distinct else ''}{items}", f"FROM {self.source(select.source)}"]
        if select.where is not None:
            parts.append(f"WHERE {self.expr(select.where)}")
        if select.group_by:
            parts.append("GROUP BY " + ", ".join(self.expr(e) for e in select.group_by))
        if select.having is not None:
            parts.append(f"HAVING {self.expr(select.having)}")
        if select.order_by:
            parts.append("ORDER BY " + ", ".join(self.order_key(k, select) for k in select.order_by))
        if select.limit is not None:
            parts.append(f"LIMIT {select.limit}")
        return " ".join(parts)

    def source(self, source: Source) -> str:
        if isinstance(source, TableSource):
            return f"{self.table(source)} AS {source.alias}"
        if isinstance(source, DerivedSource):
            return f"({self.select(source.query)}) AS {source.alias}"
        on = " AND ".join(f"{self.expr(a)} = {self.expr(b)}" for a, b in source.on)
        return f"{self.source(source.left)} {source.how} JOIN {self.source(source.right)} ON {on}"

    def expr(self, e: Expr) -> str:
        if isinstance(e, ColumnRef):
            return self.column(e)
        if isinstance(e, Literal):
            return self.literal(e)
        if isinstance(e, Negate):
            return f"(-{self.expr(e.arg)})"
        if isinstance(e, Arith):
            return self.arith(e)
        if isinstance(e, Compare | Logical):
            return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})"
        if isinstance(e, Not):
            return f"(NOT {self.expr(e.arg)})"
        if isinstance(e, IsNull):
            return f"({self.expr(e.arg)} IS {'NOT ' if e.negated else ''}NULL)"
        if isinstance(e, Between):
            word = "NOT BETWEEN" if e.negated else "BETWEEN"
            return f"({self.expr(e.arg)} {word} {self.expr(e.low)} AND {self.expr(e.high)})"
        if isinstance(e, InList):
            items = ", ".join(self.expr(i) for i in e.items)
            return f"({self.expr(e.arg)} {'NOT IN' if e.negated else 'IN'} ({items}))"
        if isinstance(e, Like):
            return f"({self.expr(e.arg)} {'NOT LIKE' if e.negated else 'LIKE'} {string(e.pattern)})"
        if isinstance(e, Case):
            whens = " ".join(f"WHEN {self.expr(c)} THEN {self.expr(v)}" for c, v in e.whens)
            default = f" ELSE {self.expr(e.default)}" if e.default is not None else ""
            return f"CASE {whens}{default} END"
        if isinstance(e, Coalesce):
            return "coalesce(" + ", ".join(self.expr(a) for a in e.args) + ")"
        if isinstance(e, Func):
            return self.func(e)
        if isinstance(e, Cast):
            return self.cast(e)
        if isinstance(e, Agg):
            return self.aggregate(e)
        if isinstance(e, Window):
            return f"{self.call(e.name, e.arg)} OVER ({self.window_spec(e)})"
        raise TypeError(f"no rendering for {type(e).__name__}")

    def call(self, name: str, arg: Expr | None, *, distinct: bool = False) -> str:
        if arg is None:
            return "count(*)" if name == "count" else f"{name}()"
        return f"{name}({'DISTINCT ' if distinct else ''}{self.expr(arg)})"

    def window_spec(self, e: Window) -> str:
        parts = []
        if e.partition:
            parts.append("PARTITION BY " + ", ".join(self.expr(p) for p in e.partition))
        if e.order:
            parts.append("ORDER BY " + ", ".join(self.sort_key(k) for k in e.order))
        return " ".join(parts)

    # ---- what differs

    def column(self, ref: ColumnRef) -> str:
        return f"{ref.alias}.{ref.name}" if ref.qualified else ref.name

    def table(self, source: TableSource) -> str:
        raise NotImplementedError

    def literal(self, e: Literal) -> str:
        raise NotImplementedError

    def arith(self, e: Arith) -> str:
        raise NotImplementedError

    def func(self, e: Func) -> str:
        raise NotImplementedError

    def cast(self, e: Cast) -> str:
        raise NotImplementedError

    def order_key(self, key: OrderKey, select: Select) -> str:
        raise NotImplementedError

    def sort_key(self, key: WindowKey) -> str:
        raise NotImplementedError

    def aggregate(self, e: Agg) -> str:
        raise NotImplementedError


def _common_literal(e: Literal) -> str | None:
    value = e.value
    if value is None:
        return f"CAST(NULL AS {TYPE_NAMES[e.kind]})"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return string(value)
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return None


class Athena(Renderer):
    """Athena (Trino) SQL, as a user writes it."""

    def column(self, ref: ColumnRef) -> str:
        text = super().column(ref)
        return text.upper() if ref.upper else text

    def table(self, source: TableSource) -> str:
        return BY_NAME[f"{source.database}.{source.table}"].qualified

    def literal(self, e: Literal) -> str:
        common = _common_literal(e)
        if common is not None:
            return common
        value = e.value
        if isinstance(value, dt.datetime):
            return f"TIMESTAMP '{value.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]}'"
        if isinstance(value, float):
            text = repr(value)
            text = text if "e" in text else text + "E0"  # a double literal (plain 1.5 is a decimal in Trino)
            return f"({text})" if value < 0 else text
        text = str(value)  # an integer, or a decimal literal such as 12.34 (decimal(4,2) in Trino)
        return f"({text})" if text.startswith("-") else text

    def arith(self, e: Arith) -> str:
        return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})"

    def func(self, e: Func) -> str:
        return f"{e.name}(" + ", ".join(self.expr(a) for a in e.args) + ")"

    def cast(self, e: Cast) -> str:
        return f"CAST({self.expr(e.arg)} AS {TYPE_NAMES[e.kind]})"

    def order_key(self, key: OrderKey, select: Select) -> str:
        text = select.items[key.position][1] + (" DESC" if key.descending else "")
        return text + (f" NULLS {key.nulls}" if key.nulls else "")

    def sort_key(self, key: WindowKey) -> str:
        text = self.expr(key.expr) + (" DESC" if key.descending else "")
        return text + (f" NULLS {key.nulls}" if key.nulls else "")

    def aggregate(self, e: Agg) -> str:
        return self.call(e.name, e.arg, distinct=e.distinct)


class DuckDB(Renderer):
    """The oracle: DuckDB SQL over the oracle's views, with Trino's meaning spelled out."""

    def table(self, source: TableSource) -> str:
        return BY_NAME[f"{source.database}.{source.table}"].oracle_view

    def literal(self, e: Literal) -> str:
        common = _common_literal(e)
        if common is not None:
            return common
        value = e.value
        if isinstance(value, dt.datetime):
            return f"CAST('{value.isoformat(sep=' ')}' AS TIMESTAMP)"
        if isinstance(value, float):
            return f"CAST('{value!r}' AS DOUBLE)"
        if isinstance(value, Decimal):
            digits = value.as_tuple()
            scale = -int(digits.exponent)
            precision = max(len(digits.digits), scale + 1)
            return f"CAST('{value}' AS DECIMAL({precision},{scale}))"
        return f"CAST({value} AS {'INTEGER' if abs(int(str(value))) < 2**31 else 'BIGINT'})"

    def _truncated_quotient(self, left: str, right: str) -> str:
        return f"(sign({left}) * sign({right}) * (abs({left}) // abs({right})))"

    def arith(self, e: Arith) -> str:
        left, right = self.expr(e.left), self.expr(e.right)
        integers = e.left.kind is Kind.INT and e.right.kind is Kind.INT
        if e.op == "/" and integers:
            return self._truncated_quotient(left, right)
        if e.op == "%":
            assert integers, "the generator takes remainders of integers only"
            return f"({left} - {right} * {self._truncated_quotient(left, right)})"
        return f"({left} {e.op} {right})"

    def func(self, e: Func) -> str:
        args = [self.expr(a) for a in e.args]
        special = _DUCKDB_CALLS.get(e.name)
        if special is not None:
            return special(e, args)
        return f"{DUCKDB_NAMES.get(e.name, e.name)}(" + ", ".join(args) + ")"

    def cast(self, e: Cast) -> str:
        arg = self.expr(e.arg)
        if e.kind is Kind.INT and e.arg.kind in (Kind.DOUBLE, Kind.DECIMAL):
            return f"CAST(sign({arg}) * floor(abs({arg}) + 0.5) AS BIGINT)"
        if e.kind is Kind.VARCHAR and e.arg.kind is Kind.BOOLEAN:
            return f"CASE WHEN {arg} THEN 'true' WHEN NOT {arg} THEN 'false' END"
        return f"CAST({arg} AS {TYPE_NAMES[e.kind]})"

    def order_key(self, key: OrderKey, select: Select) -> str:
        return f"{key.position + 1} {'DESC' if key.descending else 'ASC'} NULLS {key.nulls or 'LAST'}"

    def sort_key(self, key: WindowKey) -> str:
        return f"{self.expr(key.expr)} {'DESC' if key.descending else 'ASC'} NULLS {key.nulls or 'LAST'}"

    def aggregate(self, e: Agg) -> str:
        if e.name == "count_if":
            assert e.arg is not None
            return f"count(CASE WHEN {self.expr(e.arg)} THEN 1 END)"
        name = {"stddev": "stddev_samp", "variance": "var_samp"}.get(e.name, e.name)  # Trino's are the samples'
        return self.call(name, e.arg, distinct=e.distinct)


DUCKDB_NAMES = {"substr": "substring", "strpos": "instr", "day": "dayofmonth", "day_of_year": "dayofyear"}
DUCKDB_NAMES |= {"day_of_week": "isodow"}  # Trino's day_of_week is ISO: Monday 1 … Sunday 7
INTERVALS = {"day": "to_days", "month": "to_months", "year": "to_years"}


def _unit(e: Func) -> str:
    unit = e.args[0]
    assert isinstance(unit, Literal)
    assert isinstance(unit.value, str)
    return unit.value


def _null_if_any(e: Func, args: list[str]) -> str:
    """greatest / least: NULL when any argument is NULL in Trino (DuckDB skips NULLs)."""
    nulls = " OR ".join(f"{a} IS NULL" for a in args)
    return f"CASE WHEN {nulls} THEN NULL ELSE {e.name}({', '.join(args)}) END"


def _if(e: Func, args: list[str]) -> str:
    default = f" ELSE {args[2]}" if len(args) > 2 else ""
    return f"CASE WHEN {args[0]} THEN {args[1]}{default} END"


def _split_part(e: Func, args: list[str]) -> str:
    """The index-th field, NULL past the last one in Trino (DuckDB's split_part gives '')."""
    parts = f"string_split({args[0]}, {args[1]})"
    return f"CASE WHEN len({parts}) >= {args[2]} THEN {parts}[{args[2]}] END"


def _date_trunc(e: Func, args: list[str]) -> str:
    truncated = f"date_trunc({args[0]}, {args[1]})"
    return f"CAST({truncated} AS DATE)" if e.kind is Kind.DATE else truncated  # a date stays a date in Trino


def _date_add(e: Func, args: list[str]) -> str:
    moved = f"({args[2]} + {INTERVALS[_unit(e)]}({args[1]}))"
    return f"CAST({moved} AS DATE)" if e.kind is Kind.DATE else moved


def _date_diff(e: Func, args: list[str]) -> str:
    assert _unit(e) == "day"
    return f"({args[2]} - {args[1]})"  # whole days from the first date to the second


_DUCKDB_CALLS: dict[str, Callable[[Func, list[str]], str]] = {
    "concat": lambda e, args: "(" + " || ".join(args) + ")",  # DuckDB's concat() skips NULLs; Trino's is NULL
    "greatest": _null_if_any,
    "least": _null_if_any,
    "if": _if,
    "split_part": _split_part,
    "starts_with": lambda e, args: f"(substring({args[0]}, 1, length({args[1]})) = {args[1]})",
    "regexp_like": lambda e, args: f"regexp_matches({args[0]}, {args[1]})",
    "date_trunc": _date_trunc,
    "date_add": _date_add,
    "date_diff": _date_diff,
}


ATHENA = Athena()
ORACLE = DuckDB()
