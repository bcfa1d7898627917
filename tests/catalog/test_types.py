"""The Athena/Hive type system: parsing, rendering, and the mappings to Arrow and DuckDB checked against the real
pyarrow and DuckDB."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakeport.catalog.supertypes import common_supertype
from lakeport.catalog.types import (
    BIGINT,
    BINARY,
    BOOLEAN,
    DATE,
    DOUBLE,
    FLOAT,
    INT,
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
    from_arrow,
    from_duckdb,
    is_integer,
    is_numeric,
    parse_type,
    to_arrow,
    to_duckdb,
)
from lakeport.errors import InvalidInput


def struct(**fields: HiveType) -> StructType:
    return StructType(tuple(StructField(name, kind) for name, kind in fields.items()))


def collapse_strings(t: HiveType) -> HiveType:
    """The documented loss of the Arrow and DuckDB mappings: varchar(n) and char(n) come back as string."""
    if isinstance(t, Varchar | Char):
        return STRING
    if isinstance(t, ArrayType):
        return ArrayType(collapse_strings(t.element))
    if isinstance(t, MapType):
        return MapType(collapse_strings(t.key), collapse_strings(t.value))
    if isinstance(t, StructType):
        return StructType(tuple(StructField(f.name, collapse_strings(f.type)) for f in t.fields))
    return t


# --------------------------------------------------------------------------------------------------------------------
# Parsing and rendering.


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("string", "string"),
        ("STRING", "string"),
        ("  int  ", "int"),
        ("integer", "int"),
        ("real", "float"),
        ("long", "bigint"),
        ("short", "smallint"),
        ("byte", "tinyint"),
        ("bool", "boolean"),
        ("Double Precision", "double"),
        ("double", "double"),
        ("date", "date"),
        ("timestamp", "timestamp"),
        ("timestamp(3)", "timestamp"),
        ("TIMESTAMP ( 6 )", "timestamp"),
        ("binary", "binary"),
        ("varchar(10)", "varchar(10)"),
        ("VARCHAR ( 10 )", "varchar(10)"),
        ("varchar", "string"),
        ("char(5)", "char(5)"),
        ("decimal", "decimal(10,0)"),
        ("decimal(7)", "decimal(7,0)"),
        ("DECIMAL( 10 , 2 )", "decimal(10,2)"),
        ("decimal(38,38)", "decimal(38,38)"),
        ("array<int>", "array<int>"),
        ("ARRAY < INTEGER >", "array<int>"),
        ("map<string,bigint>", "map<string,bigint>"),
        ("map< string , long >", "map<string,bigint>"),
        ("struct<a:int,b:array<string>>", "struct<a:int,b:array<string>>"),
        ("struct<a int, b array<string>>", "struct<a:int,b:array<string>>"),
        ("struct< CamelCase : int >", "struct<CamelCase:int>"),
        ("struct<`a b`:int>", "struct<`a b`:int>"),
        ("struct<`plain`:int>", "struct<plain:int>"),
        ("struct<`a``b`:int>", "struct<`a``b`:int>"),
        ("struct<1st:int>", "struct<`1st`:int>"),
        ("struct<int:int,string string>", "struct<int:int,string:string>"),
        (
            "array<map<string, struct<x: decimal(5,1), y: array<map<int, varchar(3)>>>>>",
            "array<map<string,struct<x:decimal(5,1),y:array<map<int,varchar(3)>>>>>",
        ),
    ],
)
def test_parse_renders_canonical_glue_text(text: str, canonical: str) -> None:
    parsed = parse_type(text)
    assert str(parsed) == canonical
    assert parsed.render() == canonical
    assert parse_type(canonical) == parsed


def test_parse_builds_the_expected_tree() -> None:
    assert parse_type("struct<a:int,`b c`:map<string,array<decimal(10,2)>>>") == struct(
        a=INT, **{"b c": MapType(STRING, ArrayType(Decimal(10, 2)))}
    )
    assert parse_type("char(5)") == Char(5)
    assert parse_type("varchar(65535)") == Varchar(65535)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("map<string>", "invalid type 'map<string>': expected ',' at position 10"),
        ("", "expected a type name at position 0"),
        ("   ", "expected a type name at position 3"),
        ("foo", "unknown type 'foo' at position 0"),
        ("array<  bar>", "unknown type 'bar' at position 8"),
        ("array<int", "expected '>' at position 9"),
        ("int extra", "unexpected 'e' at position 4"),
        ("varchar(x)", "expected a number at position 8"),
        ("varchar(0)", "varchar length must be 1..65535, got 0 at position 0"),
        ("char(256)", "char length must be 1..255, got 256 at position 0"),
        ("decimal(40,2)", "decimal precision must be 1..38, got 40 at position 0"),
        ("decimal(5,6)", "decimal scale must be 0..5 (the precision), got 6 at position 0"),
        ("array<decimal(0)>", "got 0 at position 6"),
        ("struct<a:int,,b:int>", "expected a non-empty field name at position 13"),
        ("struct<>", "expected a non-empty field name at position 7"),
        ("struct<a:int,A:string>", "duplicate struct field name 'A' at position 13"),
        ("struct<`a:int>", "unterminated ` at position 7"),
        ("struct<a:int", "expected ',' at position 12"),
        ("map<int,int>>", "unexpected '>' at position 12"),
    ],
)
def test_parse_errors_name_the_text_and_position(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_type(text)
    assert message in caught.value.message
    assert caught.value.message.startswith(f"invalid type {text!r}:")
    assert "\n" not in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize(
    "build",
    [
        lambda: Decimal(0, 0),
        lambda: Decimal(39, 0),
        lambda: Decimal(5, -1),
        lambda: Decimal(5, 6),
        lambda: Varchar(0),
        lambda: Char(256),
        lambda: Primitive("integer"),
        lambda: StructType(()),
        lambda: StructField("", INT),
        lambda: struct(a=INT, A=STRING),
    ],
)
def test_constructors_reject_what_hive_rejects(build: object) -> None:
    assert callable(build)
    with pytest.raises(InvalidInput):
        build()


def test_predicates() -> None:
    integers: list[HiveType] = [TINYINT, SMALLINT, INT, BIGINT]
    other_numbers: list[HiveType] = [FLOAT, DOUBLE, Decimal(10, 2)]
    not_numbers: list[HiveType] = [STRING, BOOLEAN, DATE, TIMESTAMP, BINARY, Varchar(3), ArrayType(INT), struct(a=INT)]
    assert [is_integer(t) for t in integers + other_numbers + not_numbers] == [True] * 4 + [False] * 11
    assert [is_numeric(t) for t in integers + other_numbers + not_numbers] == [True] * 7 + [False] * 8


# --------------------------------------------------------------------------------------------------------------------
# Random type trees.

_ASCII_NAME_CHARS = "abcXYZ_019 `\"':,<>()[]-."
bare_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
odd_names = st.text(alphabet=_ASCII_NAME_CHARS, min_size=1, max_size=6)
field_names = st.one_of(bare_names, odd_names)

scalars: st.SearchStrategy[HiveType] = st.one_of(
    st.sampled_from([STRING, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, BOOLEAN, DATE, TIMESTAMP, BINARY]),
    st.builds(Varchar, st.integers(1, 65535)),
    st.builds(Char, st.integers(1, 255)),
    st.integers(1, 38).flatmap(lambda p: st.builds(Decimal, st.just(p), st.integers(0, p))),
)


def hive_types(depth: int = 3) -> st.SearchStrategy[HiveType]:
    """Type trees at most ``depth`` levels of nesting deep; map keys are scalars, as Hive requires."""
    if depth == 0:
        return scalars
    inner = hive_types(depth - 1)
    structs = st.lists(st.tuples(field_names, inner), min_size=1, max_size=3, unique_by=lambda f: f[0].lower()).map(
        lambda fields: StructType(tuple(StructField(n, t) for n, t in fields))
    )
    return st.one_of(scalars, st.builds(ArrayType, inner), st.builds(MapType, scalars, inner), structs)


@settings(max_examples=100, deadline=None)
@given(hive_types())
def test_render_then_parse_is_identity(t: HiveType) -> None:
    assert parse_type(str(t)) == t


@settings(max_examples=100, deadline=None)
@given(hive_types())
def test_arrow_round_trip_keeps_all_but_string_lengths(t: HiveType) -> None:
    assert from_arrow(to_arrow(t)) == collapse_strings(t)


@settings(max_examples=100, deadline=None)
@given(hive_types())
def test_duckdb_text_round_trip_keeps_all_but_string_lengths(t: HiveType) -> None:
    assert from_duckdb(to_duckdb(t)) == collapse_strings(t)


@settings(max_examples=60, deadline=None)
@given(hive_types())
def test_real_duckdb_accepts_the_type_and_describes_it_back(t: HiveType) -> None:
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE t (c {to_duckdb(t)})")
        described = con.execute("DESCRIBE t").fetchall()[0][1]
        assert from_duckdb(described) == collapse_strings(t)
        typeof = con.execute("SELECT typeof(c) FROM (SELECT NULL::" + to_duckdb(t) + " AS c)").fetchall()[0][0]
        assert from_duckdb(typeof) == collapse_strings(t)
    finally:
        con.close()


@settings(max_examples=30, deadline=None)
@given(st.lists(hive_types(2), min_size=1, max_size=4))
def test_parquet_written_by_pyarrow_reads_back_in_duckdb_as_the_same_types(kinds: list[HiveType]) -> None:
    schema = pa.schema([pa.field(f"c{i}", to_arrow(t)) for i, t in enumerate(kinds)])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.parquet"
        pq.write_table(schema.empty_table(), path)
        assert [from_arrow(f.type) for f in pq.read_schema(path)] == [collapse_strings(t) for t in kinds]
        con = duckdb.connect()
        try:
            rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
        finally:
            con.close()
    assert [from_duckdb(row[1]) for row in rows] == [collapse_strings(t) for t in kinds]


# --------------------------------------------------------------------------------------------------------------------
# Fixed mappings.


def test_to_arrow_mapping() -> None:
    assert to_arrow(STRING) == pa.string()
    assert to_arrow(Varchar(10)) == pa.string()
    assert to_arrow(Char(2)) == pa.string()
    assert to_arrow(TINYINT) == pa.int8()
    assert to_arrow(SMALLINT) == pa.int16()
    assert to_arrow(INT) == pa.int32()
    assert to_arrow(BIGINT) == pa.int64()
    assert to_arrow(FLOAT) == pa.float32()
    assert to_arrow(DOUBLE) == pa.float64()
    assert to_arrow(Decimal(12, 3)) == pa.decimal128(12, 3)
    assert to_arrow(BOOLEAN) == pa.bool_()
    assert to_arrow(DATE) == pa.date32()
    assert to_arrow(TIMESTAMP) == pa.timestamp("us")
    assert to_arrow(BINARY) == pa.binary()
    assert to_arrow(parse_type("map<string,array<int>>")) == pa.map_(pa.string(), pa.list_(pa.int32()))
    assert to_arrow(parse_type("struct<a:int,`b c`:date>")) == pa.struct([("a", pa.int32()), ("b c", pa.date32())])


@pytest.mark.parametrize(
    ("arrow", "hive"),
    [
        (pa.large_string(), STRING),
        (pa.string_view(), STRING),
        (pa.dictionary(pa.int32(), pa.string()), STRING),
        (pa.dictionary(pa.int8(), pa.int64()), BIGINT),
        (pa.run_end_encoded(pa.int32(), pa.float64()), DOUBLE),
        (pa.uint8(), SMALLINT),
        (pa.uint16(), INT),
        (pa.uint32(), BIGINT),
        (pa.uint64(), Decimal(20, 0)),
        (pa.float16(), FLOAT),
        (pa.date64(), DATE),
        (pa.timestamp("s"), TIMESTAMP),
        (pa.timestamp("ms", tz="Europe/Paris"), TIMESTAMP),
        (pa.timestamp("ns", tz="UTC"), TIMESTAMP),
        (pa.time32("s"), STRING),
        (pa.time64("ns"), STRING),
        (pa.duration("ms"), BIGINT),
        (pa.month_day_nano_interval(), STRING),
        (pa.null(), STRING),
        (pa.large_binary(), BINARY),
        (pa.binary_view(), BINARY),
        (pa.binary(16), BINARY),
        (pa.large_list(pa.int16()), ArrayType(SMALLINT)),
        (pa.list_view(pa.string()), ArrayType(STRING)),
        (pa.large_list_view(pa.string()), ArrayType(STRING)),
        (pa.list_(pa.float32(), 3), ArrayType(FLOAT)),
        (pa.decimal32(5, 2), Decimal(5, 2)),
        (pa.decimal64(18, 0), Decimal(18, 0)),
        (pa.decimal256(38, 10), Decimal(38, 10)),
        (pa.decimal256(50, 10), DOUBLE),
        (pa.uuid(), BINARY),
        (pa.json_(), STRING),
        (pa.dense_union([pa.field("a", pa.int32()), pa.field("b", pa.string())]), STRING),
        (
            pa.struct([("Mixed Case", pa.map_(pa.large_string(), pa.large_list(pa.uint8())))]),
            struct(**{"Mixed Case": MapType(STRING, ArrayType(SMALLINT))}),
        ),
    ],
)
def test_from_arrow_widens_every_arrow_type(arrow: pa.DataType, hive: HiveType) -> None:
    assert from_arrow(arrow) == hive


def test_to_duckdb_mapping() -> None:
    assert to_duckdb(Varchar(3)) == "VARCHAR"
    assert to_duckdb(Char(3)) == "VARCHAR"
    assert to_duckdb(parse_type("array<decimal(10,2)>")) == "DECIMAL(10,2)[]"
    assert to_duckdb(parse_type("map<string,bigint>")) == "MAP(VARCHAR, BIGINT)"
    assert to_duckdb(parse_type('struct<a:int,`b"c`:string,d:binary>')) == (
        'STRUCT("a" INTEGER, "b""c" VARCHAR, "d" BLOB)'
    )


@pytest.mark.parametrize(
    ("declared", "hive"),
    [
        ("VARCHAR", STRING),
        ("CHAR(3)", STRING),
        ("BPCHAR", STRING),
        ("TEXT", STRING),
        ("STRING", STRING),
        ("TINYINT", TINYINT),
        ("SMALLINT", SMALLINT),
        ("INTEGER", INT),
        ("BIGINT", BIGINT),
        ("HUGEINT", Decimal(38, 0)),
        ("UHUGEINT", Decimal(38, 0)),
        ("UTINYINT", SMALLINT),
        ("USMALLINT", INT),
        ("UINTEGER", BIGINT),
        ("UBIGINT", Decimal(20, 0)),
        ("FLOAT", FLOAT),
        ("REAL", FLOAT),
        ("DOUBLE", DOUBLE),
        ("DECIMAL(10,2)", Decimal(10, 2)),
        ("DECIMAL", Decimal(18, 3)),
        ("NUMERIC(5)", Decimal(5, 0)),
        ("BOOLEAN", BOOLEAN),
        ("DATE", DATE),
        ("TIMESTAMP", TIMESTAMP),
        ("TIMESTAMP_S", TIMESTAMP),
        ("TIMESTAMP_MS", TIMESTAMP),
        ("TIMESTAMP_NS", TIMESTAMP),
        ("TIMESTAMPTZ", TIMESTAMP),
        ("TIMESTAMP WITH TIME ZONE", TIMESTAMP),
        ("TIME", STRING),
        ("TIMETZ", STRING),
        ("INTERVAL", STRING),
        ("UUID", STRING),
        ("JSON", STRING),
        ("BLOB", BINARY),
        ("BYTEA", BINARY),
        ("BIT", STRING),
        ("ENUM('a', 'b c', 'it''s, (odd)')", STRING),
        ("INTEGER[]", ArrayType(INT)),
        ("INTEGER[3]", ArrayType(INT)),
        ("DOUBLE[2][]", ArrayType(ArrayType(DOUBLE))),
        ("MAP(VARCHAR, INTEGER[])", MapType(STRING, ArrayType(INT))),
        ('STRUCT(a INTEGER, "b c" VARCHAR, "select" DATE, Upper BIGINT)', None),
        ("UNION(a INTEGER, b VARCHAR)", STRING),
        ("BIGNUM", Decimal(38, 0)),
        ("VARINT", Decimal(38, 0)),
    ],
)
def test_from_duckdb_reads_what_real_duckdb_describes(declared: str, hive: HiveType | None) -> None:
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE t (c {declared})")
        described = con.execute("DESCRIBE t").fetchall()[0][1]
    finally:
        con.close()
    expected = hive or struct(a=INT, **{"b c": STRING, "select": DATE, "Upper": BIGINT})
    assert from_duckdb(described) == expected


def test_from_duckdb_reads_the_types_of_untyped_literals() -> None:
    con = duckdb.connect()
    try:
        rows = con.execute("DESCRIBE SELECT NULL AS n, [] AS l, MAP {} AS m, {} AS s").fetchall()
    finally:
        con.close()
    assert [from_duckdb(row[1]) for row in rows] == [STRING, ArrayType(STRING), MapType(STRING, STRING), STRING]


def test_from_duckdb_accepts_list_and_lowercase() -> None:
    assert from_duckdb("LIST(INTEGER)") == ArrayType(INT)
    assert from_duckdb("struct(x list(varchar))") == struct(x=ArrayType(STRING))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FOO", "invalid DuckDB type 'FOO': unknown type 'FOO' at position 0"),
        ("MAP(INTEGER)", "expected ',' at position 11"),
        ("STRUCT(a INTEGER", "expected ',' at position 16"),
        ("INTEGER[x]", "expected a number at position 8"),
        ("DECIMAL(39,0)", "decimal precision must be 1..38, got 39 at position 0"),
        ('STRUCT(a INT, "A" INT)', "duplicate struct field name 'A' at position 14"),
        ("TIMESTAMP WITH ZONE", "expected TIME at position 15"),
    ],
)
def test_from_duckdb_errors_name_the_text_and_position(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        from_duckdb(text)
    assert message in caught.value.message


# --------------------------------------------------------------------------------------------------------------------
# Merging inferred types.


@pytest.mark.parametrize(
    ("a", "b", "merged"),
    [
        ("int", "int", "int"),
        ("tinyint", "bigint", "bigint"),
        ("smallint", "int", "int"),
        ("int", "double", "double"),
        ("bigint", "float", "double"),
        ("float", "double", "double"),
        ("float", "float", "float"),
        ("int", "decimal(5,2)", "decimal(12,2)"),
        ("tinyint", "decimal(10,2)", "decimal(10,2)"),
        ("bigint", "decimal(38,10)", "decimal(38,10)"),
        ("bigint", "decimal(38,30)", "decimal(38,19)"),
        ("decimal(10,2)", "decimal(5,4)", "decimal(12,4)"),
        ("decimal(38,0)", "decimal(38,38)", "decimal(38,0)"),
        ("decimal(10,2)", "double", "double"),
        ("float", "decimal(3,1)", "double"),
        ("date", "timestamp", "timestamp"),
        ("varchar(10)", "varchar(20)", "string"),
        ("char(3)", "varchar(3)", "string"),
        ("string", "char(1)", "string"),
        ("boolean", "bigint", "string"),
        ("date", "int", "string"),
        ("binary", "string", "string"),
        ("struct<a:int>", "string", "string"),
        ("array<int>", "array<bigint>", "array<bigint>"),
        ("array<int>", "array<string>", "array<string>"),
        ("array<int>", "map<int,int>", "string"),
        ("map<string,int>", "map<string,double>", "map<string,double>"),
        ("map<int,date>", "map<bigint,timestamp>", "map<bigint,timestamp>"),
        ("struct<a:int,b:string>", "struct<B:string,c:date>", "struct<a:int,b:string,c:date>"),
        ("struct<Id:int,x:array<int>>", "struct<ID:bigint,x:array<double>>", "struct<Id:bigint,x:array<double>>"),
        ("struct<s:struct<a:int>>", "struct<s:struct<b:int>>", "struct<s:struct<a:int,b:int>>"),
    ],
)
def test_common_supertype(a: str, b: str, merged: str) -> None:
    assert str(common_supertype(parse_type(a), parse_type(b))) == merged
    if not (a.startswith("struct") and b.startswith("struct")):  # struct merging keeps the first side's order
        assert str(common_supertype(parse_type(b), parse_type(a))) == merged


@settings(max_examples=60, deadline=None)
@given(hive_types(2), hive_types(2))
def test_common_supertype_is_an_upper_bound_of_both_sides(a: HiveType, b: HiveType) -> None:
    merged = common_supertype(a, b)
    assert parse_type(str(merged)) == merged
    assert common_supertype(a, a) == a
    assert common_supertype(merged, a) == merged
    assert common_supertype(merged, b) == merged
