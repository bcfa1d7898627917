"""On a lake whose objects live in an S3-compatible store, Athena queries read warehouse (Iceberg) tables too:
their data files are fetched for the sandboxed engine, which may not open s3:// URIs itself."""

from __future__ import annotations

from lakeport import Lake


def _rows(lake: Lake, sql: str) -> list[list[object]]:
    run = lake.queries.start_query_execution(sql, wait=True)
    assert run.state == "SUCCEEDED", run.state_change_reason
    return lake.queries.get_query_rows(run.id)[1]


def test_iceberg_tables_of_an_s3_lake_are_queried_now_and_as_of_a_snapshot(s3_lake: Lake) -> None:
    s3_lake.catalog.create_database("shop")
    _rows(
        s3_lake,
        "CREATE TABLE shop.orders WITH (table_type = 'ICEBERG', is_external = false) AS "
        "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t (id, name)",
    )
    first = s3_lake.warehouse.history("shop", "orders")[-1].snapshot_id
    _rows(s3_lake, "INSERT INTO shop.orders VALUES (3, 'c')")
    assert _rows(s3_lake, "SELECT count(*), max(name) FROM shop.orders") == [[3, "c"]]
    assert _rows(s3_lake, f"SELECT count(*) FROM shop.orders FOR VERSION AS OF {first}") == [[2]]
