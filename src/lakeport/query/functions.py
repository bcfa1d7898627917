"""Which Athena functions lakeport runs, and how: sqlglot's DuckDB translation where it keeps Trino's meaning,
lakeport's own where it does not, and a refusal naming the function everywhere else.

``TRUSTED`` lists sqlglot's function classes whose DuckDB output the conformance corpus (tests/fixtures/query)
checks against Trino's documented results; ``OWN`` builds DuckDB expressions for functions sqlglot leaves as
plain calls or translates with another meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from lakeport.errors import InvalidInput
from lakeport.query.datetime_formats import joda_format, mysql_format

if TYPE_CHECKING:
    from lakeport.query.translate import Context


class UnsupportedFunction(InvalidInput):
    default_code = "InvalidRequestException"


TRUSTED: frozenset[str] = frozenset(
    {
        # operators and control flow
        "And", "Or", "Case", "If", "Cast", "TryCast", "Try", "Coalesce", "Nullif", "Greatest", "Least", "Exists",
        # aggregates and windows
        "Count", "CountIf", "Sum", "Avg", "Min", "Max", "ArgMax", "ArgMin", "LogicalAnd", "LogicalOr",
        "ApproxDistinct", "ApproxQuantile", "ArrayAgg", "GroupConcat", "Grouping", "Stddev", "StddevPop",
        "StddevSamp", "Variance", "VariancePop",
        "RowNumber", "Rank", "DenseRank", "PercentRank", "CumeDist", "Ntile", "Lag", "Lead", "FirstValue",
        "LastValue", "NthValue",
        # math
        "Abs", "Ceil", "Floor", "Round", "Trunc", "Sign", "Sqrt", "Pow",
        # strings
        "Concat", "ConcatWs", "Length", "Lower", "Upper", "Trim", "Pad", "Replace", "Reverse", "Repeat", "Substring",
        "StrPosition", "StartsWith", "SplitPart", "Split", "Chr", "Levenshtein",
        "RegexpLike", "RegexpExtract", "RegexpExtractAll", "RegexpReplace", "RegexpSplit", "Encode", "Decode",
        # dates and times
        "Date", "DateAdd", "DateDiff", "DateTrunc", "TimestampTrunc", "Extract", "Year", "Month", "Day",
        "DayOfMonth", "DayOfWeekIso", "DayOfYear", "Hour", "Minute", "Second", "WeekOfYear", "YearOfWeek",
        "LastDay", "FromISO8601Date", "FromISO8601Timestamp", "UnixToTime", "TimeToUnix",
        "CurrentDate", "CurrentTimestamp",  # the session zone is UTC, as Athena's
        # JSON
        "JSONExtract", "JSONExtractScalar", "JSONFormat", "JSONArrayContains", "ParseJSON",
        # arrays and maps
        "Array", "ArraySize", "ArrayContains", "ArrayPosition", "ArrayMax", "ArrayMin", "ArraySort", "ArraySlice",
        "ArrayToString", "ArrayRemove", "ArrayExcept", "ArrayIntersect", "ArrayFilter", "Transform", "Reduce",
        "Flatten", "GenerateSeries", "Map", "MapFromEntries", "MapKeys", "Struct", "Unnest", "Typeof",
    }
)  # fmt: skip


Builder = Callable[[list[exp.Expression]], exp.Expression]


def _call(name: str) -> Builder:
    return lambda args: exp.Anonymous(this=name, expressions=args)


def _millisecond(args: list[exp.Expression]) -> exp.Expression:
    # DuckDB's millisecond() counts from the start of the minute; Trino's is the millisecond of the second
    return exp.Mod(this=exp.Anonymous(this="millisecond", expressions=args), expression=exp.Literal.number(1000))


def _is_json_scalar(args: list[exp.Expression]) -> exp.Expression:
    kind = exp.Anonymous(this="json_type", expressions=[args[0]])
    return exp.Not(this=exp.In(this=kind, expressions=[exp.Literal.string("OBJECT"), exp.Literal.string("ARRAY")]))


def _format_literal(args: list[exp.Expression], name: str) -> str:
    if len(args) != 2 or not (isinstance(args[1], exp.Literal) and args[1].is_string):
        raise UnsupportedFunction(
            f"{name} needs a constant format string as its second argument",
            hint="write the format as a string literal",
        )
    return str(args[1].this)


def _formatting(name: str, convert: Callable[..., str]) -> Builder:
    def build(args: list[exp.Expression]) -> exp.Expression:
        duck_format = convert(_format_literal(args, name), function=name, parsing=False)
        # Trino rounds to milliseconds before formatting (DuckDB's %g would truncate)
        rounded = exp.Cast(this=args[0], to=exp.DataType.build("TIMESTAMP_MS", dialect="duckdb"))
        return exp.Anonymous(this="strftime", expressions=[rounded, exp.Literal.string(duck_format)])

    return build


def _parsing(name: str, convert: Callable[..., str], *, zoned: bool) -> Builder:
    def build(args: list[exp.Expression]) -> exp.Expression:
        trino_format = _format_literal(args, name)
        duck_format = convert(trino_format, function=name, parsing=True)
        text = args[0]
        if "%Y" not in duck_format and "%y" not in duck_format and "%G" not in duck_format:
            # fields the format lacks default to 1970-01-01 in Trino (1900-01-01 in DuckDB)
            text = exp.DPipe(this=exp.Literal.string("1970 "), expression=text)
            duck_format = "%Y " + duck_format
        parsed = exp.Anonymous(this="strptime", expressions=[text, exp.Literal.string(duck_format)])
        truncated = exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string("millisecond"), parsed])
        if zoned:
            return exp.Cast(this=truncated, to=exp.DataType.build("TIMESTAMPTZ", dialect="duckdb"))
        return truncated

    return build


OWN: dict[str, Builder] = {
    "date_format": _formatting("date_format", mysql_format),
    "date_parse": _parsing("date_parse", mysql_format, zoned=False),
    "format_datetime": _formatting("format_datetime", joda_format),
    "parse_datetime": _parsing("parse_datetime", joda_format, zoned=True),
    "codepoint": _call("unicode"),
    "every": _call("bool_and"),
    "hamming_distance": _call("hamming"),
    "json_array_length": _call("json_array_length"),
    "map_values": _call("map_values"),
    "millisecond": _millisecond,
    "is_json_scalar": _is_json_scalar,
}


def rewrite_functions(tree: exp.Expression, ctx: Context) -> exp.Expression:
    """Refuse what is not verified; rebuild what sqlglot leaves as plain calls."""
    for node in list(tree.find_all(exp.Func)):
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            builder = OWN.get(name)
            if builder is None:
                raise UnsupportedFunction(
                    f"function {name} is not supported by lakeport's query service",
                    hint="see docs/query.md for the supported functions and documented differences",
                )
            node.replace(builder(list(node.expressions)))
        elif type(node).__name__ not in TRUSTED and not isinstance(node, exp.Binary | exp.Unary | exp.Window):
            name = node.sql_name().lower() if hasattr(node, "sql_name") else type(node).__name__
            raise UnsupportedFunction(
                f"function {name} is not supported by lakeport's query service",
                hint="see docs/query.md for the supported functions and documented differences",
            )
    return tree
