"""The DAG → DuckDB compiler: each transform's output rows (SQL/Glue semantics), sources with declared types, rejects."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeport import Lake
from lakeport.etl import JobDefinition
from lakeport.etl.compiler import REJECTS_PREFIX, Compiler, SourceFiles
from lakeport.etl.nodes import NodeError, Source, node_from_dict
from tests.etl.etl_kit import (
    Row,
    columns,
    job,
    log_lines,
    make_table,
    put,
    read_source,
    rows,
    sink,
    sorted_rows,
    source,
    table_rows,
    transform,
    types,
)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def compiler(con: duckdb.DuckDBPyConnection) -> Compiler:
    return Compiler("j", con)


@pytest.fixture
def people(con: duckdb.DuckDBPyConnection) -> str:
    make_table(
        con,
        "people",
        {"id": "BIGINT", "name": "VARCHAR", "age": "VARCHAR", "city": "VARCHAR"},
        [(1, "ann", "31", "oslo"), (2, "bob", "27", None), (3, None, None, "rome")],
    )
    return "people"


# ---- apply_mapping, select_fields, drop_fields


def test_apply_mapping_renames_casts_and_keeps_only_mapped_columns(
    compiler: Compiler, con: duckdb.DuckDBPyConnection, people: str
) -> None:
    transform(
        compiler,
        {
            "id": "m",
            "type": "apply_mapping",
            "input": people,
            "mappings": [
                {"from": "id", "to": "person_id", "type": "string"},
                ["age", "years", "int"],
                ["name", "string"],
            ],
        },
    )
    assert types(con, "m") == {"person_id": "VARCHAR", "years": "INTEGER", "name": "VARCHAR"}
    assert rows(con, "m") == sorted_rows([("1", 31, "ann"), ("2", 27, "bob"), ("3", None, None)])


def test_apply_mapping_to_decimal_date_and_timestamp(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(
        con, "raw", {"p": "VARCHAR", "d": "VARCHAR", "t": "VARCHAR"}, [("1.25", "2024-02-29", "2024-02-29 10:11:12")]
    )
    transform(
        compiler,
        {
            "id": "m",
            "type": "apply_mapping",
            "input": "raw",
            "mappings": [["p", "price", "decimal(10,2)"], ["d", "day", "date"], ["t", "at", "timestamp"]],
        },
    )
    assert types(con, "m") == {"price": "DECIMAL(10,2)", "day": "DATE", "at": "TIMESTAMP"}
    assert rows(con, "m") == [(decimal.Decimal("1.25"), dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 10, 11, 12))]


def test_select_fields_keeps_the_named_columns_in_their_order(
    compiler: Compiler, con: duckdb.DuckDBPyConnection, people: str
) -> None:
    transform(compiler, {"id": "k", "type": "select_fields", "input": people, "fields": ["city", "id"]})
    assert columns(con, "k") == ["city", "id"]
    assert rows(con, "k") == sorted_rows([("oslo", 1), (None, 2), ("rome", 3)])


def test_drop_fields_removes_the_named_columns(compiler: Compiler, con: duckdb.DuckDBPyConnection, people: str) -> None:
    transform(compiler, {"id": "d", "type": "drop_fields", "input": people, "fields": ["age", "city"]})
    assert columns(con, "d") == ["id", "name"]
    assert rows(con, "d") == sorted_rows([(1, "ann"), (2, "bob"), (3, None)])


UNKNOWN_COLUMNS: list[tuple[dict[str, Any], str, str]] = [
    ({"type": "select_fields", "fields": ["id", "nmae"]}, "fields", "nmae"),
    ({"type": "drop_fields", "fields": ["zip"]}, "fields", "zip"),
    ({"type": "apply_mapping", "mappings": [["ag", "int"]]}, "mappings", "ag"),
    ({"type": "aggregate", "group_by": ["town"], "aggregations": {"n": "count(*)"}}, "group_by", "town"),
    ({"type": "drop_duplicates", "keys": ["email"]}, "keys", "email"),
    ({"type": "fill_missing", "values": {"country": "NO"}}, "values", "country"),
]


@pytest.mark.parametrize(("spec", "field", "column"), UNKNOWN_COLUMNS, ids=[s[0]["type"] for s in UNKNOWN_COLUMNS])
def test_unknown_column_names_node_field_and_column(
    compiler: Compiler, people: str, spec: dict[str, Any], field: str, column: str
) -> None:
    with pytest.raises(NodeError) as info:
        transform(compiler, {"id": "bad", "input": people, **spec})
    assert info.value.message == f"job j, node bad, field '{field}': no column '{column}' in its input"
    assert info.value.hint == "the input's columns: id, name, age, city"


def test_unknown_join_key_names_the_side_it_is_missing_from(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(con, "a", {"id": "INT"}, [])
    make_table(con, "b", {"key": "INT", "v": "INT"}, [])
    with pytest.raises(NodeError) as info:
        transform(compiler, {"id": "jn", "type": "join", "inputs": ["a", "b"], "on": [["id", "kee"]]})
    assert info.value.message == "job j, node jn, field 'on': no column 'kee' in its input"
    assert info.value.hint == "the input's columns: key, v"


# ---- filter, derive


def test_filter_keeps_rows_where_the_condition_is_true(
    compiler: Compiler, con: duckdb.DuckDBPyConnection, people: str
) -> None:
    # SQL three-valued logic: a row whose condition is NULL is not kept
    transform(compiler, {"id": "f", "type": "filter", "input": people, "condition": "city <> 'rome' OR id > 2"})
    assert rows(con, "f") == sorted_rows([(1, "ann", "31", "oslo"), (3, None, None, "rome")])
    transform(compiler, {"id": "g", "type": "filter", "input": people, "condition": "CAST(age AS INT) < 30"})
    assert rows(con, "g") == [(2, "bob", "27", None)]


def test_derive_adds_and_replaces_columns(compiler: Compiler, con: duckdb.DuckDBPyConnection, people: str) -> None:
    transform(
        compiler,
        {
            "id": "d",
            "type": "derive",
            "input": people,
            "columns": {"name": "upper(name)", "age": "CAST(age AS INT) + 1", "greeting": "'hi ' || name"},
        },
    )
    # a replaced column keeps its place; a new one comes last; every expression reads the input's values
    assert columns(con, "d") == ["id", "name", "age", "city", "greeting"]
    assert types(con, "d")["age"] == "INTEGER"
    assert rows(con, "d") == sorted_rows(
        [(1, "ANN", 32, "oslo", "hi ann"), (2, "BOB", 28, None, "hi bob"), (3, None, None, "rome", None)]
    )


# ---- joins


@pytest.fixture
def albums_artists(con: duckdb.DuckDBPyConnection) -> None:
    make_table(
        con,
        "albums",
        {"album": "VARCHAR", "artist_id": "INT", "name": "VARCHAR"},
        [("a1", 1, "First"), ("a2", 1, "Second"), ("a3", 2, "Third"), ("a4", 9, "Orphan"), ("a5", None, "Unknown")],
    )
    make_table(
        con,
        "artists",
        {"id": "INT", "name": "VARCHAR", "followers": "BIGINT"},
        [(1, "Ann", 100), (2, "Bob", 200), (3, "Cid", 300), (None, "Nobody", 0)],
    )


JOIN_CASES: dict[str, tuple[list[str], list[Row]]] = {
    "inner": (
        ["album", "artist_id", "name", "artists_name", "followers"],
        [("a1", 1, "First", "Ann", 100), ("a2", 1, "Second", "Ann", 100), ("a3", 2, "Third", "Bob", 200)],
    ),
    "left": (
        ["album", "artist_id", "name", "artists_name", "followers"],
        [
            ("a1", 1, "First", "Ann", 100),
            ("a2", 1, "Second", "Ann", 100),
            ("a3", 2, "Third", "Bob", 200),
            ("a4", 9, "Orphan", None, None),
            ("a5", None, "Unknown", None, None),
        ],
    ),
    "right": (
        ["album", "artist_id", "name", "artists_name", "followers"],
        [
            ("a1", 1, "First", "Ann", 100),
            ("a2", 1, "Second", "Ann", 100),
            ("a3", 2, "Third", "Bob", 200),
            (None, 3, None, "Cid", 300),  # the key comes from the right side
            (None, None, None, "Nobody", 0),
        ],
    ),
    "full": (
        ["album", "artist_id", "name", "artists_name", "followers"],
        [
            ("a1", 1, "First", "Ann", 100),
            ("a2", 1, "Second", "Ann", 100),
            ("a3", 2, "Third", "Bob", 200),
            ("a4", 9, "Orphan", None, None),
            ("a5", None, "Unknown", None, None),
            (None, 3, None, "Cid", 300),
            (None, None, None, "Nobody", 0),
        ],
    ),
    "semi": (
        ["album", "artist_id", "name"],
        [("a1", 1, "First"), ("a2", 1, "Second"), ("a3", 2, "Third")],
    ),
    "anti": (
        # NOT EXISTS semantics: a NULL key matches nothing, so its row stays
        ["album", "artist_id", "name"],
        [("a4", 9, "Orphan"), ("a5", None, "Unknown")],
    ),
}


@pytest.mark.usefixtures("albums_artists")
@pytest.mark.parametrize("how", list(JOIN_CASES))
def test_join_kinds(compiler: Compiler, con: duckdb.DuckDBPyConnection, how: str) -> None:
    transform(
        compiler, {"id": "jn", "type": "join", "inputs": ["albums", "artists"], "how": how, "on": [["artist_id", "id"]]}
    )
    expected_columns, expected_rows = JOIN_CASES[how]
    assert columns(con, "jn") == expected_columns
    assert rows(con, "jn") == sorted_rows(expected_rows)


def test_full_join_on_same_named_keys_keeps_keys_from_either_side(
    compiler: Compiler, con: duckdb.DuckDBPyConnection
) -> None:
    make_table(con, "l", {"k": "INT", "a": "VARCHAR"}, [(1, "l1"), (2, "l2")])
    make_table(con, "r", {"k": "INT", "b": "VARCHAR"}, [(2, "r2"), (3, "r3")])
    transform(compiler, {"id": "jn", "type": "join", "inputs": ["l", "r"], "how": "full", "on": ["k"]})
    assert columns(con, "jn") == ["k", "a", "b"]
    assert rows(con, "jn") == sorted_rows([(1, "l1", None), (2, "l2", "r2"), (3, None, "r3")])


def test_join_on_two_keys(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(con, "l", {"y": "INT", "m": "INT", "sales": "INT"}, [(2024, 1, 10), (2024, 2, 20), (2023, 1, 5)])
    make_table(con, "r", {"year": "INT", "month": "INT", "target": "INT"}, [(2024, 1, 12), (2023, 2, 7)])
    transform(
        compiler,
        {"id": "jn", "type": "join", "inputs": ["l", "r"], "how": "full", "on": [["y", "year"], ["m", "month"]]},
    )
    assert columns(con, "jn") == ["y", "m", "sales", "target"]
    assert rows(con, "jn") == sorted_rows(
        [(2024, 1, 10, 12), (2024, 2, 20, None), (2023, 1, 5, None), (2023, 2, None, 7)]
    )


@pytest.mark.usefixtures("albums_artists")
def test_join_custom_prefix_and_kept_keys(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    transform(
        compiler,
        {
            "id": "jn",
            "type": "join",
            "inputs": ["albums", "artists"],
            "on": [["artist_id", "id"]],
            "right_prefix": "artist_",
            "drop_duplicate_keys": False,
        },
    )
    assert columns(con, "jn") == ["album", "artist_id", "name", "id", "artist_name", "followers"]
    assert rows(con, "jn") == sorted_rows(
        [("a1", 1, "First", 1, "Ann", 100), ("a2", 1, "Second", 1, "Ann", 100), ("a3", 2, "Third", 2, "Bob", 200)]
    )


@pytest.mark.parametrize(("how", "expected"), [("semi", [(1, "x")]), ("anti", [(2, "y")])])
def test_semi_and_anti_joins_never_repeat_left_rows(
    compiler: Compiler, con: duckdb.DuckDBPyConnection, how: str, expected: list[Row]
) -> None:
    make_table(con, "l", {"k": "INT", "v": "VARCHAR"}, [(1, "x"), (2, "y")])
    make_table(con, "r", {"k": "INT", "w": "VARCHAR"}, [(1, "a"), (1, "b"), (1, "c")])
    transform(compiler, {"id": "jn", "type": "join", "inputs": ["l", "r"], "how": how, "on": ["k"]})
    assert columns(con, "jn") == ["k", "v"]
    assert rows(con, "jn") == expected


def test_self_join_prefixes_every_clashing_column(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(con, "t", {"id": "INT", "v": "INT"}, [(1, 10), (2, 20)])
    transform(compiler, {"id": "jn", "type": "join", "inputs": ["t", "t"], "on": ["id"]})
    assert columns(con, "jn") == ["id", "v", "t_v"]
    assert rows(con, "jn") == [(1, 10, 10), (2, 20, 20)]


# ---- union, aggregate, drop_duplicates, fill_missing, sql


@pytest.fixture
def two_years(con: duckdb.DuckDBPyConnection) -> None:
    make_table(con, "y2022", {"id": "INT", "plays": "BIGINT"}, [(1, 5), (2, 7)])
    make_table(con, "y2023", {"plays": "BIGINT", "id": "INT", "genre": "VARCHAR"}, [(7, 2, "pop"), (9, 3, "rock")])


@pytest.mark.usefixtures("two_years")
def test_union_by_name_fills_missing_columns_with_null(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    transform(compiler, {"id": "u", "type": "union", "inputs": ["y2022", "y2023"]})
    assert sorted(columns(con, "u")) == ["genre", "id", "plays"]
    got = con.execute("SELECT id, plays, genre FROM u").fetchall()
    assert sorted_rows(got) == sorted_rows([(1, 5, None), (2, 7, None), (2, 7, "pop"), (3, 9, "rock")])


def test_union_keeps_duplicates_unless_distinct(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(con, "a", {"id": "INT", "v": "VARCHAR"}, [(1, "x"), (2, "y"), (2, "y")])
    make_table(con, "b", {"v": "VARCHAR", "id": "INT"}, [("y", 2), ("z", 3)])
    transform(compiler, {"id": "all_rows", "type": "union", "inputs": ["a", "b"]})
    transform(compiler, {"id": "distinct_rows", "type": "union", "inputs": ["a", "b"], "distinct": True})
    assert rows(con, "all_rows") == sorted_rows([(1, "x"), (2, "y"), (2, "y"), (2, "y"), (3, "z")])
    assert rows(con, "distinct_rows") == sorted_rows([(1, "x"), (2, "y"), (3, "z")])


def test_union_by_position(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(con, "a", {"id": "INT", "v": "VARCHAR"}, [(1, "x")])
    make_table(con, "b", {"key": "INT", "value": "VARCHAR"}, [(2, "y")])
    transform(compiler, {"id": "u", "type": "union", "inputs": ["a", "b"], "by_name": False})
    assert columns(con, "u") == ["id", "v"]
    assert rows(con, "u") == [(1, "x"), (2, "y")]


def test_union_of_three(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    for name, value in (("a", 1), ("b", 2), ("c", 3)):
        make_table(con, name, {"n": "INT"}, [(value,)])
    transform(compiler, {"id": "u", "type": "union", "inputs": ["a", "b", "c"]})
    assert rows(con, "u") == [(1,), (2,), (3,)]


def test_aggregate_with_group_by(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(
        con,
        "plays",
        {"artist": "VARCHAR", "year": "INT", "plays": "BIGINT"},
        [("ann", 2023, 10), ("ann", 2023, 5), ("ann", 2024, 1), ("bob", 2023, 7), (None, 2023, 2), (None, 2023, None)],
    )
    transform(
        compiler,
        {
            "id": "agg",
            "type": "aggregate",
            "input": "plays",
            "group_by": ["artist", "year"],
            "aggregations": {"total": "sum(plays)", "n": "count(*)", "counted": "count(plays)"},
        },
    )
    assert columns(con, "agg") == ["artist", "year", "total", "n", "counted"]
    # NULL keys form one group; sum and count(col) skip NULLs
    assert rows(con, "agg") == sorted_rows(
        [("ann", 2023, 15, 2, 2), ("ann", 2024, 1, 1, 1), ("bob", 2023, 7, 1, 1), (None, 2023, 2, 2, 1)]
    )


def test_aggregate_without_group_by_is_one_row(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(con, "t", {"v": "INT"}, [(1,), (2,), (None,)])
    transform(
        compiler, {"id": "agg", "type": "aggregate", "input": "t", "aggregations": {"n": "count(*)", "m": "max(v)"}}
    )
    assert rows(con, "agg") == [(3, 2)]
    make_table(con, "empty", {"v": "INT"}, [])
    transform(compiler, {"id": "agg0", "type": "aggregate", "input": "empty", "aggregations": {"n": "count(*)"}})
    assert rows(con, "agg0") == [(0,)]


def test_drop_duplicates_of_whole_rows(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(
        con,
        "t",
        {"id": "INT", "v": "VARCHAR"},
        [(1, "a"), (1, "a"), (1, "b"), (None, None), (None, None), (2, None)],
    )
    transform(compiler, {"id": "d", "type": "drop_duplicates", "input": "t"})
    # NULLs are not distinct from each other (SQL DISTINCT)
    assert rows(con, "d") == sorted_rows([(1, "a"), (1, "b"), (None, None), (2, None)])


def test_drop_duplicates_by_keys_keeps_one_row_per_key_deterministically(
    compiler: Compiler, con: duckdb.DuckDBPyConnection
) -> None:
    data: list[Row] = [(1, "z", 3), (1, "a", 1), (2, None, 5), (2, "b", 4), (3, "c", 9), (None, "n", 0), (None, "m", 1)]
    results = []
    for n, order in enumerate((data, list(reversed(data)), data[3:] + data[:3])):
        make_table(con, f"t{n}", {"k": "INT", "v": "VARCHAR", "w": "INT"}, order)
        transform(compiler, {"id": f"d{n}", "type": "drop_duplicates", "input": f"t{n}", "keys": ["k"]})
        results.append(rows(con, f"d{n}"))
    # the same rows whatever order the input came in: one per key (NULL keys are one key), each a row of the input
    assert results[0] == results[1] == results[2]
    assert sorted_rows((r[0],) for r in results[0]) == [(None,), (1,), (2,), (3,)]
    assert all(r in data for r in results[0])


def test_fill_missing_replaces_nulls_only(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(
        con,
        "t",
        {"id": "INT", "name": "VARCHAR", "score": "DOUBLE", "ok": "BOOLEAN"},
        [(1, None, None, None), (2, "", 0.5, False), (None, "x", 1.0, True)],
    )
    transform(
        compiler,
        {"id": "f", "type": "fill_missing", "input": "t", "values": {"name": "unknown", "score": 0, "ok": True}},
    )
    assert types(con, "f") == {"id": "INTEGER", "name": "VARCHAR", "score": "DOUBLE", "ok": "BOOLEAN"}
    assert rows(con, "f") == sorted_rows([(1, "unknown", 0.0, True), (2, "", 0.5, False), (None, "x", 1.0, True)])


def test_fill_missing_dates_and_timestamps(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(
        con, "t", {"day": "DATE", "at": "TIMESTAMP"}, [(None, None), (dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 8))]
    )
    transform(
        compiler,
        {"id": "f", "type": "fill_missing", "input": "t", "values": {"day": "1970-01-01", "at": "1970-01-01 00:00:00"}},
    )
    assert types(con, "f") == {"day": "DATE", "at": "TIMESTAMP"}
    assert rows(con, "f") == sorted_rows(
        [(dt.date(1970, 1, 1), dt.datetime(1970, 1, 1)), (dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 8))]
    )


def test_fill_missing_value_with_a_quote(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(con, "t", {"name": "VARCHAR"}, [(None,)])
    transform(compiler, {"id": "f", "type": "fill_missing", "input": "t", "values": {"name": "o'neil"}})
    assert rows(con, "f") == [("o'neil",)]


def test_sql_node_reads_two_upstream_nodes(compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    make_table(
        con, "tracks", {"id": "INT", "artist": "INT", "title": "VARCHAR"}, [(1, 1, "x"), (2, 1, "y"), (3, 2, "z")]
    )
    make_table(con, "artists", {"id": "INT", "name": "VARCHAR"}, [(1, "Ann"), (2, "Bob")])
    transform(compiler, {"id": "ann", "type": "filter", "input": "artists", "condition": "name = 'Ann'"})
    transform(
        compiler,
        {
            "id": "q",
            "type": "sql",
            "inputs": ["tracks", "ann"],
            "query": "SELECT t.title, a.name FROM tracks t JOIN ann a ON t.artist = a.id;  ",
        },
    )
    assert rows(con, "q") == [("x", "Ann"), ("y", "Ann")]
    assert compiler.statements[-1].startswith('CREATE OR REPLACE TEMP VIEW "q" AS')


def test_a_chain_of_transforms(compiler: Compiler, con: duckdb.DuckDBPyConnection, people: str) -> None:
    transform(compiler, {"id": "f", "type": "fill_missing", "input": people, "values": {"age": "0"}})
    transform(
        compiler, {"id": "m", "type": "apply_mapping", "input": "f", "mappings": [["id", "bigint"], ["age", "int"]]}
    )
    transform(compiler, {"id": "a", "type": "aggregate", "input": "m", "aggregations": {"total": "sum(age)"}})
    assert rows(con, "a") == [(58,)]
    assert [s.split(" AS ")[0] for s in compiler.statements] == [
        'CREATE OR REPLACE TEMP VIEW "f"',
        'CREATE OR REPLACE TEMP VIEW "m"',
        'CREATE OR REPLACE TEMP VIEW "a"',
    ]


# ---- sources


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_csv_source_with_declared_types_and_options(
    tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection
) -> None:
    path = write(
        tmp_path,
        "a.csv",
        "id;name;released;price;explicit;day\n"
        "1;'Hello; World';2015-06-09 00:00:00 UTC;1.50;true;2020-01-02\n"
        "2;NA;2015-06-10 12:30:00 UTC;NA;false;\n"
        ";'';;;;\n",
    )
    read_source(
        compiler,
        {
            "id": "s",
            "options": {"header": True, "delimiter": ";", "quote": "'", "null": ["", "NA"]},
            "columns": {
                "id": "bigint",
                "released": "timestamp",
                "price": "decimal(10,2)",
                "explicit": "boolean",
                "day": "date",
            },
        },
        [path],
    )
    assert types(con, "s") == {
        "id": "BIGINT",
        "name": "VARCHAR",  # undeclared columns are strings
        "released": "TIMESTAMP",
        "price": "DECIMAL(10,2)",
        "explicit": "BOOLEAN",
        "day": "DATE",
    }
    assert rows(con, "s") == sorted_rows(
        [
            (1, "Hello; World", dt.datetime(2015, 6, 9), decimal.Decimal("1.50"), True, dt.date(2020, 1, 2)),
            (2, None, dt.datetime(2015, 6, 10, 12, 30), None, False, None),
            (None, None, None, None, None, None),
        ]
    )


def test_csv_declared_names_match_case_insensitively(
    tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection
) -> None:
    path = write(tmp_path, "a.csv", "Track_Number,Title\n3,x\n")
    read_source(compiler, {"id": "s", "columns": {"track_number": "int"}}, [path])
    assert types(con, "s") == {"Track_Number": "INTEGER", "Title": "VARCHAR"}


def test_csv_without_header(tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path, "a.csv", "1,a\n2,b\n")
    read_source(
        compiler, {"id": "s", "options": {"header": False}, "columns": {"col0": "int"}}, [path]
    )  # Glue names col0…
    assert rows(con, "s") == [(1, "a"), (2, "b")]


def test_csv_header_from_a_parameter(tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path, "a.csv", "1,a\n2,b\n")
    definition = JobDefinition.from_dict(
        job(source(options={"header": "${header}"}), sink(), parameters={"header": "true"})
    )
    _, nodes = definition.resolved({"header": "false"})
    node = nodes[0]
    assert isinstance(node, Source)
    compiler.source(node, SourceFiles(node.id, [str(path)], node.format, node.options, node.columns))
    assert rows(con, "s") == [("1", "a"), ("2", "b")]


def test_csv_timestamp_and_date_formats(tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path, "a.csv", "id,at,day\n1,09/06/2015 13:45,09/06/2015\n")
    read_source(
        compiler,
        {
            "id": "s",
            "options": {"timestamp_format": "%d/%m/%Y %H:%M", "date_format": "%d/%m/%Y"},
            "columns": {"at": "timestamp", "day": "date"},
        },
        [path],
    )
    assert rows(con, "s") == [("1", dt.datetime(2015, 6, 9, 13, 45), dt.date(2015, 6, 9))]


def test_csv_escape_character(tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path, "a.csv", 'id,quote\n1,"say \\"hi\\", then go"\n')
    read_source(compiler, {"id": "s", "options": {"escape": "\\"}}, [path])
    assert rows(con, "s") == [("1", 'say "hi", then go')]


def test_csv_encoding_option(tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path, "a.csv", "id,name\n1,café\n".encode("latin-1"))
    read_source(compiler, {"id": "s", "options": {"encoding": "latin-1"}}, [path])
    assert rows(con, "s") == [("1", "café")]


def test_csv_several_files_are_one_table(tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    first = write(tmp_path, "a.csv", "id,n\n1,10\n")
    second = write(tmp_path, "b.csv", "id,n\n2,20\n3,30\n")
    read_source(compiler, {"id": "s", "columns": {"id": "int", "n": "bigint"}}, [first, second])
    assert rows(con, "s") == [(1, 10), (2, 20), (3, 30)]


def test_bad_csv_rows_are_recorded_in_the_rejects_tables(
    tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection
) -> None:
    path = write(tmp_path, "a.csv", "id,plays,day\n1,5,2024-01-01\n2,6,2024-01-02\n3,7,someday\n4,8,2024-01-04\n")
    read_source(compiler, {"id": "s", "columns": {"id": "int", "plays": "bigint", "day": "date"}}, [path])
    assert rows(con, "s") == [(1, 5, dt.date(2024, 1, 1)), (2, 6, dt.date(2024, 1, 2)), (4, 8, dt.date(2024, 1, 4))]
    rejects = con.execute(
        f"SELECT s.file_path, e.line, e.column_name, e.csv_line FROM {REJECTS_PREFIX}s e "
        f"JOIN {REJECTS_PREFIX}s_scan s USING (scan_id, file_id) ORDER BY e.line"
    ).fetchall()
    assert rejects == [(str(path), 4, "day", "3,7,someday")]


@pytest.mark.parametrize("value", ["lots", "1.5", "2.0", "1e3", "0x10", "1_000", "9223372036854775808"])
def test_an_integer_column_takes_only_whole_numbers_that_fit(
    tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection, value: str
) -> None:
    """DuckDB's own cast rounds '1.5' to 2; Glue's CSV reader and Athena's CAST refuse it, and so does lakeport."""
    path = write(tmp_path, "a.csv", f"id,plays\n1,5\n2,{value}\n")
    with pytest.raises(duckdb.Error, match=f"not an integer: column plays, value {value}"):
        read_source(compiler, {"id": "s", "columns": {"id": "int", "plays": "bigint"}}, [path])


def test_integer_columns_accept_signs_spaces_and_leading_zeros(
    tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection
) -> None:
    path = write(tmp_path, "a.csv", 'id,n\n1,+5\n2," -6 "\n3,007\n4,\n5,-9223372036854775808\n')
    read_source(compiler, {"id": "s", "columns": {"id": "tinyint", "n": "bigint"}}, [path])
    assert types(con, "s") == {"id": "TINYINT", "n": "BIGINT"}
    assert rows(con, "s") == [(1, 5), (2, -6), (3, 7), (4, None), (5, -(2**63))]


def test_json_lines_source(tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path, "a.json", '{"id": 1, "name": "abc", "score": 1.5}\n{"id": 2, "name": null, "score": 2}\n')
    read_source(compiler, {"id": "s", "format": "json"}, [path])
    assert types(con, "s") == {"id": "BIGINT", "name": "VARCHAR", "score": "DOUBLE"}
    assert rows(con, "s") == [(1, "abc", 1.5), (2, None, 2.0)]


def test_json_lines_source_with_declared_types(
    tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection
) -> None:
    path = write(
        tmp_path,
        "a.json",
        '{"id": 1, "at": "2020-01-01 10:00:00", "score": 3}\n{"id": 2, "at": null, "score": 4}\n',
    )
    read_source(
        compiler, {"id": "s", "format": "json", "columns": {"id": "int", "at": "timestamp", "score": "double"}}, [path]
    )
    assert types(con, "s") == {"id": "INTEGER", "at": "TIMESTAMP", "score": "DOUBLE"}
    assert rows(con, "s") == [(1, dt.datetime(2020, 1, 1, 10), 3.0), (2, None, 4.0)]


def test_json_undeclared_columns_keep_their_values(
    tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection
) -> None:
    path = write(tmp_path, "a.json", '{"id": 1, "name": "abc"}\n{"id": 2, "name": "d"}\n')
    read_source(compiler, {"id": "s", "format": "json", "columns": {"id": "int"}}, [path])
    assert rows(con, "s") == [(1, "abc"), (2, "d")]
    assert con.execute("SELECT id FROM s WHERE name = 'abc'").fetchall() == [(1,)]


def test_parquet_source_with_declared_types(tmp_path: Path, compiler: Compiler, con: duckdb.DuckDBPyConnection) -> None:
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(pa.table({"id": ["1", "2"], "score": [1.5, 2.5]}), first)
    pq.write_table(pa.table({"id": ["3"], "score": [3.5], "extra": ["e"]}), second)
    read_source(compiler, {"id": "s", "format": "parquet", "columns": {"id": "bigint"}}, [first, second])
    assert types(con, "s") == {"id": "BIGINT", "score": "DOUBLE", "extra": "VARCHAR"}
    assert rows(con, "s") == [(1, 1.5, None), (2, 2.5, None), (3, 3.5, "e")]


def test_a_source_without_files_names_the_node(compiler: Compiler) -> None:
    node = node_from_dict("j", source())
    assert isinstance(node, Source)
    with pytest.raises(NodeError) as info:
        compiler.source(node, SourceFiles("s", [], "csv"))
    assert info.value.message == "job j, node s: no files to read at s3://lakeport/staging/x/"
    assert info.value.code == "NoDataException"


def test_transforms_do_not_touch_rows_before_a_sink(tmp_path: Path, compiler: Compiler) -> None:
    # sources are tables; transforms are views (compiled, not yet run)
    path = write(tmp_path, "a.csv", "id\n1\n")
    read_source(compiler, {"id": "s"}, [path])
    transform(compiler, {"id": "f", "type": "filter", "input": "s", "condition": "true"})
    assert compiler.statements[0].startswith('CREATE OR REPLACE TEMP TABLE "s" AS SELECT * FROM read_csv(')
    assert compiler.statements[1].startswith('CREATE OR REPLACE TEMP VIEW "f" AS ')
    assert con_kind(compiler, "s") == "LOCAL TEMPORARY"  # a temp table
    assert con_kind(compiler, "f") == "VIEW"


def con_kind(compiler: Compiler, name: str) -> str:
    found = compiler.con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    assert found is not None
    return str(found[0])


# ---- one whole run: bad records dropped, counted and logged


def test_job_run_drops_bad_records_and_counts_them(local_lake: Lake) -> None:
    lake = local_lake
    put(lake, "staging/plays/a.csv", b"id,plays\n1,5\n2,lots\n3,7\n")
    put(lake, "staging/plays/b.csv", b"id,plays\n4,x\n5,9\n")
    definition = JobDefinition.from_dict(
        job(
            source(path="s3://lakeport/staging/plays/", columns={"id": "int", "plays": "bigint"}),
            {"id": "some", "type": "filter", "input": "s", "condition": "plays > 5"},
            sink(input="some", table="music.plays"),
            name="drop-bad",
            bad_records="drop",
        )
    )
    lake.jobs.create_job(definition)
    run = lake.jobs.start_job_run("drop-bad", wait=True)
    assert run.state == "SUCCEEDED", run.error
    m = run.metrics
    assert (m["rows_read"], m["rows_accepted"], m["rows_dropped"], m["rows_written"]) == (5, 3, 2, 2)
    assert m["rows_read"] == m["rows_accepted"] + m["rows_dropped"]
    assert m["sources"]["s"]["rows_rejected"] == 2
    assert table_rows(lake, "music.plays") == [(3, 7), (5, 9)]
    warnings = [msg for level, msg in log_lines(lake, run.log_group, run.log_stream) if level == "WARN"]
    assert len(warnings) == 1
    assert "2 bad rows dropped" in warnings[0]
    assert "s3://lakeport/staging/plays/a.csv, line 3" in warnings[0]


def test_job_run_fails_on_a_bad_record_naming_file_line_and_column(local_lake: Lake) -> None:
    lake = local_lake
    put(lake, "staging/plays/a.csv", b"id,plays\n1,5\n2,lots\n")
    lake.jobs.create_job(
        JobDefinition.from_dict(
            job(
                source(path="s3://lakeport/staging/plays/a.csv", columns={"plays": "bigint"}),
                sink(table="music.plays"),
                name="fail-bad",
            )
        )
    )
    run = lake.jobs.start_job_run("fail-bad", wait=True)
    assert run.state == "FAILED"
    assert run.error is not None
    assert "s3://lakeport/staging/plays/a.csv, line 3, column plays" in run.error
    assert "lots" in run.error
    assert lake.warehouse.load("music", "plays") is None  # nothing was written
