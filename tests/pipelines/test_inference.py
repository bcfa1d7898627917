"""What a new pipeline guesses from table shapes: names, joins, starter charts (pure functions)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lakeport.pipelines.inference import (
    ColumnStats,
    granularity,
    sql_name,
    starter_chart,
    suggest_joins,
    unique_names,
)


def test_sql_names_are_lower_case_words() -> None:
    assert sql_name("Order Date") == "order_date"
    assert sql_name("Préférence (€)") == "preference"
    assert sql_name("2023 sales") == "c_2023_sales"
    assert sql_name("日本") == "c"
    assert unique_names(["a b", "A-B", "a_b"]) == ["a_b", "a_b_2", "a_b_3"]


@given(st.text(max_size=40))
def test_sql_name_is_always_an_identifier(text: str) -> None:
    name = sql_name(text)
    assert name
    assert name[0].isalpha()
    assert all(c.isalnum() or c == "_" for c in name)
    assert name.isascii()


TPCH = {
    "customer": {"c_custkey": "bigint", "c_name": "string", "c_nationkey": "bigint"},
    "orders": {"o_orderkey": "bigint", "o_custkey": "bigint", "o_totalprice": "double"},
    "nation": {"n_nationkey": "bigint", "n_name": "string", "n_regionkey": "bigint"},
    "supplier": {"s_suppkey": "bigint", "s_nationkey": "bigint"},
}


def test_tpch_prefixes_are_not_part_of_the_key() -> None:
    found = {str(j).split("  (")[0] for j in suggest_joins(TPCH)}
    assert "customer.c_custkey = orders.o_custkey" in found
    assert "customer.c_nationkey = nation.n_nationkey" in found
    assert "nation.n_nationkey = supplier.s_nationkey" in found


def test_with_uniqueness_two_foreign_keys_are_not_paired() -> None:
    unique = {"customer": {"c_custkey"}, "orders": {"o_orderkey"}, "nation": {"n_nationkey"}, "supplier": {"s_suppkey"}}
    found = {str(j).split("  (")[0] for j in suggest_joins(TPCH, unique)}
    assert "customer.c_nationkey = supplier.s_nationkey" not in found
    assert "customer.c_nationkey = nation.n_nationkey" in found
    assert "customer.c_custkey = orders.o_custkey" in found


def test_a_tables_id_meets_its_singular_name_elsewhere() -> None:
    spotify = {
        "albums": {"album_id": "string", "artist_id": "string", "track_id": "string"},
        "artists": {"id": "string", "name": "string"},
        "tracks": {"id": "string", "explicit": "boolean"},
    }
    found = {(j.left, j.left_column, j.right, j.right_column) for j in suggest_joins(spotify)}
    assert found == {("albums", "artist_id", "artists", "id"), ("albums", "track_id", "tracks", "id")}


def test_keys_of_different_kinds_are_not_paired() -> None:
    tables = {"a": {"user_id": "bigint"}, "b": {"user_id": "string"}}
    assert suggest_joins(tables) == []
    assert len(suggest_joins({"a": {"user_id": "int"}, "b": {"user_id": "bigint"}})) == 1


def test_starter_chart_prefers_time_then_categories_then_numbers() -> None:
    when = ColumnStats("ordered_at", "timestamp", 900, span_days=400)
    kind = ColumnStats("status", "string", 3)
    key = ColumnStats("order_id", "bigint", 1000)
    amount = ColumnStats("amount", "double", 700)
    name = ColumnStats("name", "string", 990)
    line = starter_chart("orders", "ds", [key, when, kind, amount], 1000)
    assert line["kind"] == "line"
    assert line["dimensions"][0] == {
        "field": "ordered_at",
        "granularity": "month",
        "name": "month",
    }
    bar = starter_chart("orders", "ds", [key, kind, amount], 1000)
    assert bar["kind"] == "bar"
    assert bar["dimensions"] == ["status"]
    assert bar["limit"] == 10
    histogram = starter_chart("orders", "ds", [key, name, amount], 1000)
    assert histogram["kind"] == "histogram"
    assert histogram["field"] == "amount"
    rows = starter_chart("orders", "ds", [key, name], 1000)
    assert rows["kind"] == "table"
    assert rows["columns"] == ["order_id", "name"]


def test_granularity_follows_the_span() -> None:
    assert [granularity(d) for d in (0, 30, 92, 93, 1000, 1098, 5000)] == [
        "day", "day", "day", "month", "month", "month", "year"
    ]  # fmt: skip
