"""The Athena/Hive column type system of the Glue Data Catalog.

A column type is a small immutable tree (:data:`HiveType`): :class:`Primitive`, :class:`Varchar`, :class:`Char`,
:class:`Decimal`, :class:`ArrayType`, :class:`MapType` and :class:`StructType`. ``str(t)`` gives the canonical
Glue spelling: lowercase, no spaces (``decimal(10,2)``, ``map<string,bigint>``, ``struct<a:int,b:array<string>>``).
Struct field names keep the case they were given; a name that is not ``[A-Za-z_][A-Za-z0-9_]*`` is written in
backticks, with a backtick inside doubled.

Mapping between the three type systems lakeport meets (``->`` marks a one-way mapping)::

    Hive / Glue       Arrow (to_arrow)          DuckDB (to_duckdb)      also read from Arrow / DuckDB
    ---------------   -----------------------   ---------------------   ------------------------------------------
    string            string                    VARCHAR                 large_string, string_view, null, time32/64,
                                                                        month_day_nano_interval, union ->;
                                                                        CHAR, BPCHAR, TEXT, TIME, TIMETZ, TIME_NS,
                                                                        INTERVAL, UUID, JSON, BIT, ENUM, UNION,
                                                                        VARIANT, "NULL", STRUCT with no fields ->
    varchar(n)        string ->                 VARCHAR ->              (collapses to string on the way back)
    char(n)           string ->                 VARCHAR ->              (collapses to string on the way back)
    tinyint           int8                      TINYINT
    smallint          int16                     SMALLINT                uint8 ->; UTINYINT ->
    int               int32                     INTEGER                 uint16 ->; USMALLINT ->
    bigint            int64                     BIGINT                  uint32, duration ->; UINTEGER ->
    float             float32                   FLOAT                   float16 ->; REAL ->
    double            float64                   DOUBLE                  decimal wider than 38 digits ->
    decimal(p,s)      decimal128(p,s)           DECIMAL(p,s)            decimal32/64/256 (p <= 38) ->;
                                                                        uint64 -> decimal(20,0); UBIGINT -> decimal(20,0);
                                                                        HUGEINT, UHUGEINT, BIGNUM -> decimal(38,0)
    boolean           bool                      BOOLEAN
    date              date32                    DATE                    date64 ->
    timestamp         timestamp("us")           TIMESTAMP               timestamp of any unit and zone ->;
                                                                        TIMESTAMP_S/_MS/_NS, TIMESTAMPTZ ->
    binary            binary                    BLOB                    large_binary, binary_view, fixed_size_binary ->;
                                                                        BYTEA, GEOMETRY ->
    array<e>          list_(e)                  e[]                     large_list, list_view, fixed_size_list ->;
                                                                        e[n], LIST(e) ->
    map<k,v>          map_(k, v)                MAP(k, v)
    struct<a:t,...>   struct([("a", t), ...])   STRUCT("a" t, ...)      dictionary, run-end-encoded and extension
                                                                        types read as their value/storage type

Hive timestamps carry no time zone, so every timestamp flavour becomes ``timestamp`` (Arrow ``timestamp("us")``
without a zone). Hive has no unsigned integers: each unsigned width moves up to the next signed one, and uint64 to
``decimal(20,0)`` because no Hive integer holds all of its values.

:func:`parse_type` reads Hive/Athena type strings (case-insensitive, whitespace-tolerant, with the usual aliases);
:func:`from_duckdb` reads type strings the way DuckDB prints them in ``DESCRIBE`` and ``typeof()``;
:func:`lakeport.catalog.supertypes.common_supertype` is the type two inferred columns merge into (the rules are in its docstring).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from lakeport.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

PRIMITIVE_NAMES = frozenset(
    {"string", "tinyint", "smallint", "int", "bigint", "float", "double", "boolean", "date", "timestamp", "binary"}
)
MAX_DECIMAL_PRECISION = 38
MAX_VARCHAR_LENGTH = 65535  # Hive's limit for varchar(n)
MAX_CHAR_LENGTH = 255  # Hive's limit for char(n)

T = TypeVar("T")

_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPE_HINT = "Athena types look like int, varchar(10), decimal(10,2), array<string>, map<string,int>, struct<a:int>"


class _Rendered:
    """Shared ``str()`` for every type node: the canonical Glue spelling."""

    def render(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class Primitive(_Rendered):
    """A type without parameters: one of :data:`PRIMITIVE_NAMES`, in lowercase."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in PRIMITIVE_NAMES:
            raise InvalidInput(
                f"unknown primitive type '{self.name}'", hint=f"use one of: {', '.join(sorted(PRIMITIVE_NAMES))}"
            )

    def render(self) -> str:
        return self.name


@dataclass(frozen=True)
class Varchar(_Rendered):
    """``varchar(length)``, length 1..65535."""

    length: int

    def __post_init__(self) -> None:
        if not 1 <= self.length <= MAX_VARCHAR_LENGTH:
            raise InvalidInput(f"varchar length must be 1..{MAX_VARCHAR_LENGTH}, got {self.length}", hint=_TYPE_HINT)

    def render(self) -> str:
        return f"varchar({self.length})"


@dataclass(frozen=True)
class Char(_Rendered):
    """``char(length)``, length 1..255."""

    length: int

    def __post_init__(self) -> None:
        if not 1 <= self.length <= MAX_CHAR_LENGTH:
            raise InvalidInput(f"char length must be 1..{MAX_CHAR_LENGTH}, got {self.length}", hint=_TYPE_HINT)

    def render(self) -> str:
        return f"char({self.length})"


@dataclass(frozen=True)
class Decimal(_Rendered):
    """``decimal(precision,scale)``: precision 1..38, 0 <= scale <= precision."""

    precision: int
    scale: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.precision <= MAX_DECIMAL_PRECISION:
            raise InvalidInput(
                f"decimal precision must be 1..{MAX_DECIMAL_PRECISION}, got {self.precision}", hint=_TYPE_HINT
            )
        if not 0 <= self.scale <= self.precision:
            raise InvalidInput(
                f"decimal scale must be 0..{self.precision} (the precision), got {self.scale}", hint=_TYPE_HINT
            )

    def render(self) -> str:
        return f"decimal({self.precision},{self.scale})"


@dataclass(frozen=True)
class ArrayType(_Rendered):
    """``array<element>``."""

    element: HiveType

    def render(self) -> str:
        return f"array<{self.element.render()}>"


@dataclass(frozen=True)
class MapType(_Rendered):
    """``map<key,value>``. Hive wants a primitive key; the model does not insist, as Arrow and DuckDB do not."""

    key: HiveType
    value: HiveType

    def render(self) -> str:
        return f"map<{self.key.render()},{self.value.render()}>"


@dataclass(frozen=True)
class StructField:
    """One named member of a struct; the name keeps its case and must not be empty."""

    name: str
    type: HiveType

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidInput("struct field name must not be empty", hint=_TYPE_HINT)


@dataclass(frozen=True)
class StructType(_Rendered):
    """``struct<name:type,...>``: at least one field, names unique ignoring case (Hive names are case-insensitive)."""

    fields: tuple[StructField, ...]

    def __post_init__(self) -> None:
        if not self.fields:
            raise InvalidInput("a struct needs at least one field", hint=_TYPE_HINT)
        seen: set[str] = set()
        for field in self.fields:
            if field.name.lower() in seen:
                raise InvalidInput(f"duplicate struct field name '{field.name}'", hint="field names ignore case")
            seen.add(field.name.lower())

    def render(self) -> str:
        return "struct<" + ",".join(f"{_render_name(f.name)}:{f.type.render()}" for f in self.fields) + ">"


HiveType: TypeAlias = Primitive | Varchar | Char | Decimal | ArrayType | MapType | StructType

STRING = Primitive("string")
TINYINT = Primitive("tinyint")
SMALLINT = Primitive("smallint")
INT = Primitive("int")
BIGINT = Primitive("bigint")
FLOAT = Primitive("float")
DOUBLE = Primitive("double")
BOOLEAN = Primitive("boolean")
DATE = Primitive("date")
TIMESTAMP = Primitive("timestamp")
BINARY = Primitive("binary")

_INTEGER_RANK = {"tinyint": 1, "smallint": 2, "int": 3, "bigint": 4}
_INTEGER_DIGITS = {"tinyint": 3, "smallint": 5, "int": 10, "bigint": 19}  # decimal digits of the largest value


def _is_word_char(char: str) -> bool:
    return char == "_" or (char.isascii() and char.isalnum())


def _render_name(name: str) -> str:
    if _BARE_NAME.fullmatch(name):
        return name
    return "`" + name.replace("`", "``") + "`"


def is_integer(t: HiveType) -> bool:
    """True for tinyint, smallint, int and bigint."""
    return isinstance(t, Primitive) and t.name in _INTEGER_RANK


def is_numeric(t: HiveType) -> bool:
    """True for the integers, float, double and decimal."""
    return is_integer(t) or isinstance(t, Decimal) or t in (FLOAT, DOUBLE)


# --------------------------------------------------------------------------------------------------------------------
# A scanner shared by the Hive and DuckDB parsers.


class _Scanner:
    """A cursor over a type string; every failure names the whole text and the 0-based character position."""

    def __init__(self, text: str, what: str, hint: str) -> None:
        self.text = text
        self.what = what
        self.hint = hint
        self.pos = 0

    def error(self, problem: str, pos: int | None = None) -> InvalidInput:
        at = self.pos if pos is None else pos
        return InvalidInput(f"invalid {self.what} {self.text!r}: {problem} at position {at}", hint=self.hint)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        """The next non-space character, or '' at the end."""
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def accept(self, char: str) -> bool:
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def expect(self, char: str) -> None:
        if not self.accept(char):
            raise self.error(f"expected '{char}'")

    def word(self) -> str:
        """The next run of ASCII letters, digits and underscores ('' if there is none)."""
        self.skip_space()
        start = self.pos
        while self.pos < len(self.text) and _is_word_char(self.text[self.pos]):
            self.pos += 1
        return self.text[start : self.pos]

    def accept_word(self, expected: str) -> bool:
        """Consume the next word if it equals ``expected`` ignoring case."""
        self.skip_space()
        start = self.pos
        if self.word().lower() == expected.lower():
            return True
        self.pos = start
        return False

    def number(self) -> int:
        self.skip_space()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in "0123456789":
            self.pos += 1
        if start == self.pos:
            raise self.error("expected a number")
        return int(self.text[start : self.pos])

    def quoted(self, quote: str) -> str:
        """A ``quote``-delimited string whose doubled quote stands for one quote character."""
        self.skip_space()
        start = self.pos
        if self.peek() != quote:
            raise self.error(f"expected {quote}")
        self.pos += 1
        parts: list[str] = []
        while True:
            end = self.text.find(quote, self.pos)
            if end < 0:
                raise self.error(f"unterminated {quote}", start)
            parts.append(self.text[self.pos : end])
            self.pos = end + 1
            if self.text.startswith(quote, self.pos):
                parts.append(quote)
                self.pos += 1
            else:
                return "".join(parts)

    def finish(self) -> None:
        if self.peek():
            raise self.error(f"unexpected {self.text[self.pos]!r}")


def _checked(scanner: _Scanner, start: int, build: Callable[[], T]) -> T:
    """Build a type node, turning its range or naming error into one that names the text and position."""
    try:
        return build()
    except InvalidInput as exc:
        raise scanner.error(exc.message, start) from None


# --------------------------------------------------------------------------------------------------------------------
# Hive / Athena type strings.

_HIVE_ALIASES = {
    "integer": "int",
    "real": "float",
    "long": "bigint",
    "short": "smallint",
    "byte": "tinyint",
    "bool": "boolean",
}


def parse_type(text: str) -> HiveType:
    """Parse a Hive/Athena type string such as ``map<string, array<decimal(10,2)>>``.

    Names are case-insensitive and spaces may appear between tokens. Aliases: ``integer``→int, ``real``→float,
    ``long``→bigint, ``short``→smallint, ``byte``→tinyint, ``bool``→boolean, ``double precision``→double,
    ``numeric``→decimal. ``decimal`` alone is Hive's ``decimal(10,0)`` and ``decimal(p)`` is ``decimal(p,0)``;
    ``timestamp(n)`` is ``timestamp``; ``varchar`` without a length is ``string``; ``char`` without a length is
    ``char(1)`` as in SQL. Struct fields are ``name:type`` or (as Athena DDL allows) ``name type``; a field name may
    be in backticks, with a doubled backtick for a backtick.
    """
    scanner = _Scanner(text, "type", _TYPE_HINT)
    result = _parse_hive(scanner)
    scanner.finish()
    return result


def _parse_hive(s: _Scanner) -> HiveType:
    s.skip_space()
    start = s.pos
    raw = s.word()
    if not raw:
        raise s.error("expected a type name")
    name = raw.lower()
    name = _HIVE_ALIASES.get(name, name)
    if name == "array":
        s.expect("<")
        element = _parse_hive(s)
        s.expect(">")
        return ArrayType(element)
    if name == "map":
        s.expect("<")
        key = _parse_hive(s)
        s.expect(",")
        value = _parse_hive(s)
        s.expect(">")
        return MapType(key, value)
    if name == "struct":
        return _parse_hive_struct(s, start)
    if name in ("decimal", "numeric"):
        if not s.accept("("):
            return Decimal(10, 0)
        precision = s.number()
        scale = s.number() if s.accept(",") else 0
        s.expect(")")
        return _checked(s, start, lambda: Decimal(precision, scale))
    if name in ("varchar", "char"):
        if not s.accept("("):
            return STRING if name == "varchar" else Char(1)
        length = s.number()
        s.expect(")")
        return _checked(s, start, lambda: Varchar(length) if name == "varchar" else Char(length))
    if name == "timestamp":
        if s.accept("("):  # fractional-second precision: Hive timestamps have one precision only
            s.number()
            s.expect(")")
        return TIMESTAMP
    if name == "double":
        s.accept_word("precision")
        return DOUBLE
    if name in PRIMITIVE_NAMES:
        return Primitive(name)
    raise s.error(f"unknown type '{raw}'", start)


def _parse_hive_struct(s: _Scanner, start: int) -> StructType:
    s.expect("<")
    fields: list[StructField] = []
    while True:
        s.skip_space()
        field_start = s.pos
        name = s.quoted("`") if s.peek() == "`" else s.word()
        if not name:
            raise s.error("expected a non-empty field name", field_start)
        s.accept(":")  # `name:type`, or `name type` as in Athena DDL
        fields.append(StructField(name, _parse_hive(s)))
        if len({f.name.lower() for f in fields}) < len(fields):
            raise s.error(f"duplicate struct field name '{name}'", field_start)
        if s.accept(">"):
            return _checked(s, start, lambda: StructType(tuple(fields)))
        s.expect(",")


# --------------------------------------------------------------------------------------------------------------------
# Arrow.


@cache
def _to_arrow_primitives() -> dict[str, pa.DataType]:
    """Built on first use: importing pyarrow costs tens of MB, which commands that never touch Arrow should not pay."""
    import pyarrow as pa

    return {
        "string": pa.string(),
        "tinyint": pa.int8(),
        "smallint": pa.int16(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),  # no tz: Hive timestamps are zone-less
        "binary": pa.binary(),
    }


def to_arrow(t: HiveType) -> pa.DataType:
    """The Arrow type a column of type ``t`` is read into (varchar and char become plain strings)."""
    import pyarrow as pa

    if isinstance(t, Primitive):
        return _to_arrow_primitives()[t.name]
    if isinstance(t, Varchar | Char):
        return pa.string()
    if isinstance(t, Decimal):
        return pa.decimal128(t.precision, t.scale)
    if isinstance(t, ArrayType):
        return pa.list_(to_arrow(t.element))
    if isinstance(t, MapType):
        return pa.map_(to_arrow(t.key), to_arrow(t.value))
    return pa.struct([pa.field(f.name, to_arrow(f.type)) for f in t.fields])


def from_arrow(dt: pa.DataType) -> HiveType:
    """The Hive type for an Arrow type: the inverse of :func:`to_arrow`, widened to every Arrow type (see table)."""
    import pyarrow as pa

    types = pa.types
    if types.is_string(dt) or types.is_large_string(dt) or types.is_string_view(dt):
        return STRING
    if types.is_boolean(dt):
        return BOOLEAN
    for check, hive in (
        (types.is_int8, TINYINT),
        (types.is_int16, SMALLINT),
        (types.is_int32, INT),
        (types.is_int64, BIGINT),
        # Hive has no unsigned integers: take the next wider signed type.
        (types.is_uint8, SMALLINT),
        (types.is_uint16, INT),
        (types.is_uint32, BIGINT),
        (types.is_float16, FLOAT),
        (types.is_float32, FLOAT),
        (types.is_float64, DOUBLE),
        (types.is_date32, DATE),
        (types.is_date64, DATE),
        (types.is_timestamp, TIMESTAMP),  # any unit, any zone: Hive timestamps are zone-less
        # Hive has no TIME type; the text form "12:34:56.789" keeps every value readable.
        (types.is_time, STRING),
        (types.is_duration, BIGINT),  # the count of the duration's unit
        (types.is_interval, STRING),  # months/days/nanos do not fit one number
        (types.is_null, STRING),  # a column seen only as nulls: string accepts whatever comes later
        (types.is_binary, BINARY),
        (types.is_large_binary, BINARY),
        (types.is_binary_view, BINARY),
        (types.is_fixed_size_binary, BINARY),
        (types.is_union, STRING),  # no Hive union type for Athena; the text form holds any member
    ):
        if check(dt):
            return hive
    if types.is_uint64(dt):
        return Decimal(20, 0)  # 18446744073709551615 has 20 digits; bigint would overflow
    if types.is_decimal(dt):
        return closest_decimal(dt.precision, dt.scale)
    if types.is_dictionary(dt):
        return from_arrow(dt.value_type)
    if types.is_run_end_encoded(dt):
        return from_arrow(dt.value_type)
    if (
        types.is_list(dt)
        or types.is_large_list(dt)
        or types.is_list_view(dt)
        or types.is_large_list_view(dt)
        or types.is_fixed_size_list(dt)
    ):
        return ArrayType(from_arrow(dt.value_type))
    if types.is_map(dt):
        return MapType(from_arrow(dt.key_type), from_arrow(dt.item_type))
    if types.is_struct(dt):
        return StructType(
            tuple(StructField(dt.field(i).name, from_arrow(dt.field(i).type)) for i in range(dt.num_fields))
        )
    if isinstance(dt, pa.BaseExtensionType):
        return from_arrow(dt.storage_type)  # e.g. arrow.uuid is 16 bytes, arrow.json is a string
    raise InvalidInput(f"Arrow type '{dt}' has no Hive equivalent", hint="cast the column to a plainer Arrow type")


def closest_decimal(precision: int, scale: int) -> HiveType:
    """The Hive type for a decimal of another system, which may break Hive's rules.

    A negative scale (Arrow allows it) means whole numbers with ``-scale`` more digits; a scale above the precision
    widens the precision to the scale; more than 38 digits gives double.
    """
    if scale < 0:  # unscaled * 10**-scale: whole numbers with -scale more digits
        precision, scale = precision - scale, 0
    precision = max(precision, scale)
    if precision > MAX_DECIMAL_PRECISION:
        # Hive stops at 38 digits; double keeps the magnitude of every value (though not all digits).
        return DOUBLE
    return Decimal(precision, scale)


# --------------------------------------------------------------------------------------------------------------------
# DuckDB.

_TO_DUCKDB = {
    "string": "VARCHAR",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}

_DUCKDB_HINT = "DuckDB types look like INTEGER, DECIMAL(10,2), VARCHAR[], MAP(VARCHAR, INTEGER), STRUCT(a INTEGER)"

# Type names DuckDB prints (and the aliases it accepts) that take no parameters.
_FROM_DUCKDB: dict[str, HiveType] = {
    **dict.fromkeys(["VARCHAR", "CHAR", "BPCHAR", "TEXT", "STRING", "NVARCHAR"], STRING),
    **dict.fromkeys(["TINYINT", "INT1"], TINYINT),
    **dict.fromkeys(["SMALLINT", "INT2", "SHORT", "UTINYINT"], SMALLINT),
    **dict.fromkeys(["INTEGER", "INT", "INT4", "SIGNED", "USMALLINT"], INT),
    **dict.fromkeys(["BIGINT", "INT8", "LONG", "UINTEGER"], BIGINT),
    "UBIGINT": Decimal(20, 0),  # 18446744073709551615 has 20 digits
    # 128-bit integers have up to 39 digits; decimal(38,0) is Hive's widest exact type and holds all but the extremes.
    **dict.fromkeys(["HUGEINT", "INT128", "UHUGEINT"], Decimal(38, 0)),
    # BIGNUM (VARINT before DuckDB 1.4) is unbounded; like HUGEINT, keep it numeric at Hive's widest exact type.
    **dict.fromkeys(["BIGNUM", "VARINT"], Decimal(38, 0)),
    **dict.fromkeys(["FLOAT", "REAL", "FLOAT4"], FLOAT),
    **dict.fromkeys(["DOUBLE", "FLOAT8"], DOUBLE),
    **dict.fromkeys(["BOOLEAN", "BOOL", "LOGICAL"], BOOLEAN),
    "DATE": DATE,
    **dict.fromkeys(
        ["TIMESTAMP", "DATETIME", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_US", "TIMESTAMP_NS", "TIMESTAMPTZ"],
        TIMESTAMP,
    ),
    # No Hive TIME, INTERVAL, UUID, JSON, BIT or VARIANT type: their text forms keep every value readable.
    **dict.fromkeys(["TIME", "TIMETZ", "TIME_NS", "INTERVAL", "UUID", "JSON", "BIT", "BITSTRING", "VARIANT"], STRING),
    **dict.fromkeys(["BLOB", "BYTEA", "BINARY", "VARBINARY"], BINARY),
    "GEOMETRY": BINARY,  # well-known binary, as Athena stores geometries in varbinary
}


def to_duckdb(t: HiveType) -> str:
    """DuckDB SQL type text for ``t``; struct field names are always double-quoted."""
    if isinstance(t, Primitive):
        return _TO_DUCKDB[t.name]
    if isinstance(t, Varchar | Char):
        return "VARCHAR"  # DuckDB keeps no length on strings
    if isinstance(t, Decimal):
        return f"DECIMAL({t.precision},{t.scale})"
    if isinstance(t, ArrayType):
        return f"{to_duckdb(t.element)}[]"
    if isinstance(t, MapType):
        return f"MAP({to_duckdb(t.key)}, {to_duckdb(t.value)})"
    members = ", ".join('"' + f.name.replace('"', '""') + '" ' + to_duckdb(f.type) for f in t.fields)
    return f"STRUCT({members})"


def from_duckdb(text: str) -> HiveType:
    """Parse a DuckDB type string as DuckDB prints it (``DESCRIBE``, ``typeof()``) into a Hive type.

    Arrays (``X[]``, fixed ``X[3]``, ``LIST(X)``), ``MAP(K, V)`` and ``STRUCT(name TYPE, "quoted name" TYPE)`` map
    one to one; scalar types follow the table in the module docstring. ``DECIMAL`` without parameters is DuckDB's
    ``DECIMAL(18,3)``. Type names are case-insensitive.
    """
    scanner = _Scanner(text, "DuckDB type", _DUCKDB_HINT)
    result = _parse_duckdb(scanner)
    scanner.finish()
    return result


def _parse_duckdb(s: _Scanner) -> HiveType:
    s.skip_space()
    start = s.pos
    if s.peek() == '"':
        quoted = s.quoted('"')
        if quoted.upper() != "NULL":
            raise s.error(f"unknown type {quoted!r}", start)
        result: HiveType = STRING  # the type of a NULL literal: no values seen yet
    else:
        result = _parse_duckdb_base(s, start)
    while s.accept("["):
        if s.peek() != "]":
            s.number()  # a fixed-size ARRAY is still an array to Hive
        s.expect("]")
        result = ArrayType(result)
    return result


def _parse_duckdb_base(s: _Scanner, start: int) -> HiveType:
    raw = s.word()
    if not raw:
        raise s.error("expected a type name")
    name = raw.upper()
    if name in ("TIMESTAMP", "TIME") and (s.accept_word("WITH") or s.accept_word("WITHOUT")):
        for word in ("TIME", "ZONE"):
            if not s.accept_word(word):
                raise s.error(f"expected {word}")
        return TIMESTAMP if name == "TIMESTAMP" else STRING
    if name == "DOUBLE":
        s.accept_word("PRECISION")
        return DOUBLE
    if name in ("DECIMAL", "NUMERIC"):
        if not s.accept("("):
            return Decimal(18, 3)  # DuckDB's default
        precision = s.number()
        scale = s.number() if s.accept(",") else 0
        s.expect(")")
        return _checked(s, start, lambda: Decimal(precision, scale))
    if name == "ENUM":
        s.expect("(")
        while True:
            s.quoted("'")
            if s.accept(")"):
                return STRING
            s.expect(",")
    if name == "LIST":
        s.expect("(")
        element = _parse_duckdb(s)
        s.expect(")")
        return ArrayType(element)
    if name == "MAP":
        s.expect("(")
        key = _parse_duckdb(s)
        s.expect(",")
        value = _parse_duckdb(s)
        s.expect(")")
        return MapType(key, value)
    if name in ("STRUCT", "ROW", "UNION"):
        if not s.accept("("):
            return STRING  # an empty STRUCT ({} literal) has nothing Hive can describe
        fields = _parse_duckdb_members(s)
        # UNION(tag TYPE, ...) holds one member at a time; Hive has no such type, the text form holds any member.
        return STRING if name == "UNION" else _checked(s, start, lambda: StructType(tuple(fields)))
    if name in _FROM_DUCKDB:
        if name in ("VARCHAR", "CHAR", "BPCHAR", "NVARCHAR") and s.accept("("):
            s.number()  # DuckDB ignores string lengths, and so does the mapping
            s.expect(")")
        return _FROM_DUCKDB[name]
    raise s.error(f"unknown type '{raw}'", start)


def _parse_duckdb_members(s: _Scanner) -> list[StructField]:
    """``name TYPE, "quoted name" TYPE, ...)`` after the opening parenthesis."""
    fields: list[StructField] = []
    while True:
        s.skip_space()
        field_start = s.pos
        name = s.quoted('"') if s.peek() == '"' else s.word()
        if not name:
            raise s.error("expected a non-empty field name", field_start)
        fields.append(StructField(name, _parse_duckdb(s)))
        if len({f.name.lower() for f in fields}) < len(fields):
            raise s.error(f"duplicate struct field name '{name}'", field_start)
        if s.accept(")"):
            return fields
        s.expect(",")
