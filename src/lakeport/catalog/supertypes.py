"""Merging inferred types: the type two columns of one name, seen in different files, become together."""

from __future__ import annotations

from lakeport.catalog.types import (
    _INTEGER_DIGITS,
    _INTEGER_RANK,
    BIGINT,
    BINARY,
    BOOLEAN,
    DATE,
    DOUBLE,
    FLOAT,
    INT,
    MAX_DECIMAL_PRECISION,
    PRIMITIVE_NAMES,
    SMALLINT,
    STRING,
    TIMESTAMP,
    TINYINT,
    ArrayType,
    Char,
    Decimal,
    HiveType,
    MapType,
    Primitive,
    StructField,
    StructType,
    Varchar,
    closest_decimal,
    from_arrow,
    from_duckdb,
    is_integer,
    is_numeric,
    parse_type,
    to_arrow,
    to_duckdb,
)


def common_supertype(a: HiveType, b: HiveType) -> HiveType:
    """The type two inferred columns merge into.

    * equal types stay as they are;
    * integers widen to the wider integer; an integer with float or double gives double; float with double gives
      double;
    * an integer with a decimal, or two decimals, give a decimal with the larger number of integer digits and the
      larger scale (tinyint has 3 integer digits, smallint 5, int 10, bigint 19). Past 38 digits the integer digits
      are kept and the scale shrinks, since losing fractional digits is better than overflowing;
    * a decimal with float or double gives double; date with timestamp gives timestamp;
    * two different string-like types (string, varchar(n), char(n)) give string;
    * arrays merge their elements, maps their keys and values;
    * structs take the union of their fields matched by name ignoring case: the first spelling is kept, a's fields
      come first and then b's new ones, and fields in both merge their types;
    * anything else (boolean with bigint, a struct with a string, ...) gives string, which can hold any value's text.
    """
    if a == b:
        return a
    if is_numeric(a) and is_numeric(b):
        return _numeric_supertype(a, b)
    if {a, b} == {DATE, TIMESTAMP}:
        return TIMESTAMP
    if isinstance(a, ArrayType) and isinstance(b, ArrayType):
        return ArrayType(common_supertype(a.element, b.element))
    if isinstance(a, MapType) and isinstance(b, MapType):
        return MapType(common_supertype(a.key, b.key), common_supertype(a.value, b.value))
    if isinstance(a, StructType) and isinstance(b, StructType):
        return _struct_supertype(a, b)
    return STRING


def _numeric_supertype(a: HiveType, b: HiveType) -> HiveType:
    if isinstance(a, Primitive) and isinstance(b, Primitive) and is_integer(a) and is_integer(b):
        return a if _INTEGER_RANK[a.name] >= _INTEGER_RANK[b.name] else b
    if a in (FLOAT, DOUBLE) or b in (FLOAT, DOUBLE):
        return DOUBLE  # float+float is caught by equality, so at least one side is wider than float
    integer_digits, scale = max(_digits(a)[0], _digits(b)[0]), max(_digits(a)[1], _digits(b)[1])
    scale = min(scale, MAX_DECIMAL_PRECISION - integer_digits)
    return Decimal(min(integer_digits + scale, MAX_DECIMAL_PRECISION), scale)


def _digits(t: HiveType) -> tuple[int, int]:
    """(integer digits, scale) of an integer or decimal type."""
    if isinstance(t, Decimal):
        return t.precision - t.scale, t.scale
    assert isinstance(t, Primitive)
    return _INTEGER_DIGITS[t.name], 0


def _struct_supertype(a: StructType, b: StructType) -> StructType:
    merged: dict[str, StructField] = {f.name.lower(): f for f in a.fields}
    for field in b.fields:
        key = field.name.lower()
        if key in merged:
            first = merged[key]
            merged[key] = StructField(first.name, common_supertype(first.type, field.type))
        else:
            merged[key] = field
    return StructType(tuple(merged.values()))


__all__ = [
    "BIGINT",
    "BINARY",
    "BOOLEAN",
    "DATE",
    "DOUBLE",
    "FLOAT",
    "INT",
    "MAX_DECIMAL_PRECISION",
    "PRIMITIVE_NAMES",
    "SMALLINT",
    "STRING",
    "TIMESTAMP",
    "TINYINT",
    "ArrayType",
    "Char",
    "Decimal",
    "HiveType",
    "MapType",
    "Primitive",
    "StructField",
    "StructType",
    "Varchar",
    "closest_decimal",
    "common_supertype",
    "from_arrow",
    "from_duckdb",
    "is_integer",
    "is_numeric",
    "parse_type",
    "to_arrow",
    "to_duckdb",
]
