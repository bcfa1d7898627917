"""Rewrites that keep Trino's meaning where sqlglot's DuckDB output would answer differently.

Each entry of ``REWRITES`` takes one parsed (and type-annotated) Athena expression and returns the DuckDB
expression that gives Trino's answer: NULL where Trino gives NULL, errors where Trino errors, the same result
type. The conformance corpus (tests/fixtures/query) is what each one is checked against.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlglot import exp

from lakeport.sqltext import WHOLE_NUMBER_TEXT

T = exp.DataType.Type
INTEGERS = {T.TINYINT, T.SMALLINT, T.INT, T.BIGINT}
INEXACT = {T.DOUBLE, T.FLOAT, T.DECIMAL}


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    """A DuckDB function call, written as is (sqlglot does not reinterpret it)."""
    return exp.Anonymous(this=name, expressions=list(args))


def kind(node: exp.Expression | None) -> Any:
    dtype = getattr(node, "type", None)
    return dtype.this if dtype is not None else None


def is_date(node: exp.Expression | None) -> bool:
    return bool(kind(node) == T.DATE)


def case(*whens: tuple[exp.Expression, exp.Expression], default: exp.Expression | None = None) -> exp.Expression:
    node = exp.Case()
    for condition, value in whens:
        node = node.when(condition, value)
    return node.else_(default) if default is not None else node


def null() -> exp.Expression:
    return exp.Null()


def as_date(node: exp.Expression) -> exp.Expression:
    return exp.Cast(this=node, to=exp.DataType.build("DATE"))


# ---- dates


def _date_trunc(node: exp.Expression) -> exp.Expression:
    """date_trunc on a date is a date in Trino (DuckDB's is a timestamp)."""
    return as_date(node.copy()) if is_date(node.args.get("this")) else node


def _date_add(node: exp.Expression) -> exp.Expression:
    """date_add(unit, n, date) is a date when the unit is a day or longer (DuckDB's date + interval is a timestamp)."""
    unit = str(node.args.get("unit") or "").lower().strip("'")
    if is_date(node.args.get("this")) and unit in ("day", "week", "month", "quarter", "year"):
        return as_date(node.copy())
    return node


def _date_plus_interval(node: exp.Expression) -> exp.Expression:
    if isinstance(node.expression, exp.Interval) and is_date(node.this):
        unit = str(node.expression.args.get("unit") or "").lower()
        if any(u in unit for u in ("day", "week", "month", "quarter", "year")):
            return as_date(node.copy())
    return node


def _date_diff(node: exp.Expression) -> exp.Expression:
    """Trino counts complete units between the two (DuckDB's date_diff counts boundaries; its date_sub does not)."""
    unit = node.args.get("unit")
    unit_text = exp.Literal.string(str(unit.name if isinstance(unit, exp.Var | exp.Literal) else unit).lower())
    return fn("date_sub", unit_text, node.expression, node.this)


# ---- strings and regular expressions


def _java_replacement(text: str) -> str:
    """Java's ``$1``/``${name}`` group references → RE2's ``\\1``; ``\\$`` stays a dollar."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1] if text[i + 1] != "\\" else "\\\\")
            i += 2
        elif char == "$" and i + 1 < len(text) and text[i + 1].isdigit():
            j = i + 1
            while j < len(text) and text[j].isdigit():
                j += 1
            out.append("\\" + text[i + 1 : j])
            i = j
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _regexp_replace(node: exp.Expression) -> exp.Expression:
    replacement = node.args.get("replacement")
    if isinstance(replacement, exp.Literal) and replacement.is_string:
        node = node.copy()
        node.set("replacement", exp.Literal.string(_java_replacement(replacement.this)))
    return node


def _regexp_extract(node: exp.Expression) -> exp.Expression:
    """No match is NULL in Trino (an empty string in DuckDB)."""
    matches = fn("regexp_matches", node.this.copy(), node.expression.copy())
    return case((matches, node.copy()), default=null())


def _split_part(node: exp.Expression) -> exp.Expression:
    """A part beyond the end is NULL in Trino (an empty string in DuckDB)."""
    parts = fn("len", fn("string_split", node.this.copy(), node.args["delimiter"].copy()))
    index = node.args["part_index"]
    return case((exp.GTE(this=parts, expression=index.copy()), node.copy()), default=null())


def _substring(node: exp.Expression) -> exp.Expression:
    """substr(s, 0), and a negative start before the beginning, are empty in Trino (DuckDB clamps them)."""
    start = node.args.get("start")
    if start is None:
        return node
    zero = exp.EQ(this=start.copy(), expression=exp.Literal.number(0))
    before = exp.LT(this=start.copy(), expression=exp.Neg(this=fn("length", node.this.copy())))
    return case((exp.Or(this=zero, expression=before), exp.Literal.string("")), default=node.copy())


def _extract(node: exp.Expression) -> exp.Expression:
    """Trino's DOW (and DAY_OF_WEEK) is ISO: Monday 1 … Sunday 7 (DuckDB's dow: Sunday 0)."""
    unit = node.this.name.lower() if isinstance(node.this, exp.Var | exp.Identifier) else str(node.this).lower()
    if unit in ("dow", "day_of_week"):
        return fn("isodow", node.expression.copy())
    if unit in ("doy", "day_of_year"):
        return fn("dayofyear", node.expression.copy())
    return node


_TRINO_TYPE_NAMES = {
    "HUGEINT": "bigint",
    "TIMESTAMP": "timestamp(3)",
    "TIMESTAMP WITH TIME ZONE": "timestamp(3) with time zone",
    "FLOAT": "real",
    "UBIGINT": "bigint",
}


def _typeof(node: exp.Expression) -> exp.Expression:
    """Trino's type names (lower case, its own spellings) for DuckDB's."""
    duck = fn("typeof", node.this.copy())
    whens = [
        (exp.EQ(this=duck.copy(), expression=exp.Literal.string(k)), exp.Literal.string(v))
        for k, v in _TRINO_TYPE_NAMES.items()
    ]
    return case(*whens, default=fn("lower", duck))


def _reverse(node: exp.Expression) -> exp.Expression:
    return fn("list_reverse", node.this) if kind(node.this) in (T.ARRAY, T.LIST) else node


# ---- arrays


def _array_position(node: exp.Expression) -> exp.Expression:
    """Not found is 0 in Trino (NULL in DuckDB)."""
    array = node.this
    found = fn("coalesce", fn("list_position", array.copy(), node.expression.copy()), exp.Literal.number(0))
    return case((exp.Is(this=array.copy(), expression=null()), null()), default=found)


def _has_nulls(array: exp.Expression) -> exp.Expression:
    return exp.LT(this=fn("list_count", array.copy()), expression=fn("len", array.copy()))


def _array_contains(node: exp.Expression) -> exp.Expression:
    """Trino: true if found; else NULL when the array holds a NULL (or the value is NULL); else false."""
    array, value = node.this, node.expression
    return case(
        (exp.Is(this=value.copy(), expression=null()), null()),
        (fn("list_contains", array.copy(), value.copy()), exp.true()),
        (_has_nulls(array), null()),
        default=exp.false(),
    )


def _array_extreme(name: str) -> Callable[[exp.Expression], exp.Expression]:
    def rewrite(node: exp.Expression) -> exp.Expression:
        """A NULL element makes array_max/array_min NULL in Trino."""
        return case((_has_nulls(node.this), null()), default=fn(name, node.this.copy()))

    return rewrite


def _slice(node: exp.Expression) -> exp.Expression:
    """slice(a, start, length): from start (negative: from the end), length elements."""
    array, start, length = node.this, node.args["start"], node.args["end"]
    size = fn("len", array.copy())
    first = case(
        (
            exp.LT(this=start.copy(), expression=exp.Literal.number(0)),
            exp.Add(this=size, expression=exp.Add(this=start.copy(), expression=exp.Literal.number(1))),
        ),
        default=start.copy(),
    )
    last = exp.Sub(this=exp.Add(this=first.copy(), expression=length.copy()), expression=exp.Literal.number(1))
    return fn("list_slice", array.copy(), first, last)


def _sequence(node: exp.Expression) -> exp.Expression:
    """sequence(a, b) steps by 1 or -1 (DuckDB's range is empty when b < a); dates step by a day."""
    start, end, step = node.args["start"], node.args["end"], node.args.get("step")
    if is_date(start):
        interval = step.copy() if step is not None else exp.Interval(this=exp.Literal.string("1"), unit=exp.var("DAY"))
        series = fn(
            "generate_series",
            exp.Cast(this=start.copy(), to=exp.DataType.build("TIMESTAMP")),
            exp.Cast(this=end.copy(), to=exp.DataType.build("TIMESTAMP")),
            interval,
        )
        return exp.Cast(this=series, to=exp.DataType.build("DATE[]", dialect="duckdb"))
    if step is None:
        step = case(
            (exp.LTE(this=start.copy(), expression=end.copy()), exp.Literal.number(1)), default=exp.Literal.number(-1)
        )
        return fn("generate_series", start.copy(), end.copy(), step)
    zero = exp.Literal.number(0)
    wrong_way = exp.Or(
        this=exp.And(
            this=exp.GT(this=step.copy(), expression=zero), expression=exp.GT(this=start.copy(), expression=end.copy())
        ),
        expression=exp.And(
            this=exp.LT(this=step.copy(), expression=zero.copy()),
            expression=exp.LT(this=start.copy(), expression=end.copy()),
        ),
    )
    message = exp.Literal.string(
        "sequence stop value should be greater than or equal to start value if step is greater than zero "
        "otherwise stop should be less than or equal to start"
    )
    return case((wrong_way, _error(message)), default=fn("generate_series", start.copy(), end.copy(), step.copy()))


# ---- numbers and JSON


def _cast(node: exp.Expression) -> exp.Expression:
    """Casting a double or decimal to an integer rounds half away from zero in Trino (DuckDB: half to even); a
    string cast to an integer must be a whole number (DuckDB rounds '1.5'); a timestamp cast to varchar keeps
    its milliseconds."""
    target = node.args.get("to")
    if target is not None and target.this in INTEGERS and kind(node.this) in (T.VARCHAR, T.TEXT, T.CHAR):
        whole = fn("regexp_full_match", node.this.copy(), exp.Literal.string(WHOLE_NUMBER_TEXT))
        if isinstance(node, exp.TryCast):
            return case((whole, node.copy()), default=null())
        refusal = exp.DPipe(
            this=exp.Literal.string("Cannot cast '"),
            expression=exp.DPipe(
                this=node.this.copy(), expression=exp.Literal.string(f"' to {target.sql(dialect='trino').upper()}")
            ),
        )
        return case(
            (exp.Or(this=exp.Is(this=node.this.copy(), expression=null()), expression=whole), node.copy()),
            default=_error(refusal),
        )
    if target is not None and target.this in INTEGERS and kind(node.this) in INEXACT:
        node = node.copy()
        node.set("this", fn("round", node.this))
    elif target is not None and target.this in (T.VARCHAR, T.TEXT) and kind(node.this) == T.TIMESTAMP:
        return fn("strftime", node.this.copy(), exp.Literal.string("%Y-%m-%d %H:%M:%S.%g"))
    return node


def _sign(node: exp.Expression) -> exp.Expression:
    """sign() keeps its argument's type in Trino (DuckDB's is a tinyint)."""
    dtype = getattr(node.this, "type", None)
    if dtype is not None and dtype.this in INTEGERS:
        return exp.Cast(this=node.copy(), to=dtype.copy())
    return node


def _json_extract_scalar(node: exp.Expression) -> exp.Expression:
    """An object or an array is not a scalar: NULL in Trino (its JSON text in DuckDB)."""
    path = node.expression
    path_text = exp.Literal.string(path.sql()) if not isinstance(path, exp.Literal) else path.copy()
    if isinstance(path, exp.JSONPath):
        path_text = exp.Literal.string(path.sql(dialect="duckdb").strip("'"))
    shape = fn("json_type", node.this.copy(), path_text)
    composite = exp.In(this=shape, expressions=[exp.Literal.string("OBJECT"), exp.Literal.string("ARRAY")])
    return case((composite, null()), default=node.copy())


def _split(node: exp.Expression) -> exp.Expression:
    if node.args.get("limit") is not None or len(node.expressions) > 0:
        from lakeport.query.functions import UnsupportedFunction

        raise UnsupportedFunction(
            "split with a limit is not supported by lakeport's query service",
            hint="split without a limit, then slice() the array",
        )
    return node


def _repeat(node: exp.Expression) -> exp.Expression:
    """repeat(element, n) is an array of n copies in Trino, strings included (DuckDB's repeat concatenates)."""
    copies = exp.Lambda(this=node.this.copy(), expressions=[exp.to_identifier("_lakeport_i")])
    times = node.args["times"]
    return fn("list_transform", fn("generate_series", exp.Literal.number(1), times.copy()), copies)


def _error(message: exp.Expression) -> exp.Expression:
    return fn("error", message)


def _bracket(node: exp.Expression) -> exp.Expression:
    """``a[i]`` is an error outside 1..cardinality in Trino, ``m[k]`` an error for a missing key; ``element_at``
    (sqlglot's safe bracket) is NULL beyond the end but an error at 0. DuckDB answers NULL in all these cases."""
    container, keys = node.this, node.expressions
    if len(keys) != 1:
        return node
    key = keys[0]
    if not node.args.get("safe") and kind(container) != T.MAP:
        # sqlglot keeps Trino's subscripts 0-based inside its tree (its DuckDB output adds 1 back)
        key = exp.Paren(this=exp.Add(this=key.copy(), expression=exp.Literal.number(1)))
    container_kind = kind(container) or (T.ARRAY if isinstance(container, exp.Array) else None)
    if container_kind == T.MAP and not node.args.get("safe"):
        missing = exp.Not(this=fn("map_contains", container.copy(), key.copy()))
        return case((missing, _error(exp.Literal.string("Key not present in map"))), default=node.copy())
    if container_kind not in (T.ARRAY, T.LIST):
        return node
    zero = exp.EQ(this=key.copy(), expression=exp.Literal.number(0))
    start_error = _error(exp.Literal.string("SQL array indices start at 1"))
    if node.args.get("safe"):
        return case((zero, start_error), default=node.copy())
    size = fn("len", container.copy())
    beyond = exp.GT(this=key.copy(), expression=size)
    message = exp.DPipe(
        this=exp.Literal.string("Array subscript must be less than or equal to array length: "),
        expression=exp.DPipe(
            this=exp.Cast(this=key.copy(), to=exp.DataType.build("VARCHAR")),
            expression=exp.DPipe(
                this=exp.Literal.string(" > "),
                expression=exp.Cast(this=fn("len", container.copy()), to=exp.DataType.build("VARCHAR")),
            ),
        ),
    )
    negative = exp.LT(this=key.copy(), expression=exp.Literal.number(1))
    return case((negative, start_error), (beyond, _error(message)), default=node.copy())


def _count_if(node: exp.Expression) -> exp.Expression:
    """Trino's count_if(x) is count(CASE WHEN x THEN 1 END): 0 over no rows (DuckDB's count_if gives NULL)."""
    return exp.Count(this=case((node.this.copy(), exp.Literal.number(1))))


REWRITES: dict[type[exp.Expression], Callable[[exp.Expression], exp.Expression]] = {
    exp.CountIf: _count_if,
    exp.DateTrunc: _date_trunc,
    exp.TimestampTrunc: _date_trunc,
    exp.DateAdd: _date_add,
    exp.Add: _date_plus_interval,
    exp.Sub: _date_plus_interval,
    exp.DateDiff: _date_diff,
    exp.RegexpReplace: _regexp_replace,
    exp.RegexpExtract: _regexp_extract,
    exp.SplitPart: _split_part,
    exp.Substring: _substring,
    exp.Reverse: _reverse,
    exp.ArrayPosition: _array_position,
    exp.ArrayContains: _array_contains,
    exp.ArrayMax: _array_extreme("list_max"),
    exp.ArrayMin: _array_extreme("list_min"),
    exp.ArraySlice: _slice,
    exp.GenerateSeries: _sequence,
    exp.Cast: _cast,
    exp.TryCast: _cast,
    exp.Bracket: _bracket,
    exp.Split: _split,
    exp.Repeat: _repeat,
    exp.Extract: _extract,
    exp.Typeof: _typeof,
    exp.Sign: _sign,
    exp.JSONExtractScalar: _json_extract_scalar,
}


def apply_semantics(tree: exp.Expression) -> exp.Expression:
    """Rewrite every node that has an entry in ``REWRITES``, innermost first."""
    for node in cast(list[exp.Expression], list(tree.walk(bfs=False)))[::-1]:
        rewrite = REWRITES.get(type(node))
        if rewrite is None:
            continue
        replacement = rewrite(node)
        if replacement is not node:
            if node is tree:
                tree = replacement
            else:
                node.replace(replacement)
    return tree
