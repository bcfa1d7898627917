"""The catalog service's contract for partitions (Glue Data Catalog behaviour), on a SQLite lake and a
PostgreSQL-metadata lake.

Every test runs once per metadata backend: the same calls must give the same answers whether the metadata DB is
the lake's SQLite file or a real PostgreSQL database.
"""

from __future__ import annotations

import pytest

from lakeport import Lake
from lakeport.catalog import (
    Catalog,
    Column,
    Partition,
)
from lakeport.catalog.schema import catalog_databases, catalog_partitions, catalog_table_versions
from lakeport.errors import InvalidInput, NotFound
from tests.catalog.catalog_kit import (
    DB,
    LOCATION,
    PARQUET_SERDE,
    orders,
    part,
    row_count,
    values_of,
)

# ---- partitions


def test_batch_create_reports_existing_and_invalid_partitions_without_raising(sales: Catalog) -> None:
    first = sales.create_partitions(DB, "orders", [part("2023", "1"), part("2023", "2")])
    assert (first.succeeded, list(first.errors)) == (2, [])

    second = sales.create_partitions(
        DB, "orders", [part("2023", "2"), part("2023", "3"), part("2023"), part("2023", "4", "x")]
    )
    assert second.succeeded == 1
    errors = {e.values: e for e in second.errors}
    assert errors[("2023", "2")].code == "AlreadyExistsException"
    assert errors[("2023",)].code == "InvalidInputException"
    assert errors[("2023", "4", "x")].code == "InvalidInputException"
    assert "year, month" in errors[("2023",)].message
    shape = second.to_dict()
    assert shape["Succeeded"] == 1
    assert {
        "PartitionValues": ["2023", "2"],
        "ErrorDetail": {"ErrorCode": "AlreadyExistsException", "ErrorMessage": errors[("2023", "2")].message},
    } in shape["Errors"]
    assert values_of(sales.get_partitions(DB, "orders")) == {("2023", "1"), ("2023", "2"), ("2023", "3")}


def test_update_partitions_replaces_location_and_statistics_and_reports_missing_ones(sales: Catalog) -> None:
    sales.create_partitions(DB, "orders", [part("2023", "1"), part("2023", "2")])
    before = sales.get_partition(DB, "orders", ["2023", "1"])
    result = sales.update_partitions(
        DB,
        "orders",
        [
            part("2023", "1", location="s3://lakeport/elsewhere/", file_count=2, size_bytes=2048, row_count=10),
            part("2024", "9"),
            part("2024"),
        ],
    )
    assert result.succeeded == 1
    assert {(e.values, e.code) for e in result.errors} == {
        (("2024", "9"), "EntityNotFoundException"),
        (("2024",), "InvalidInputException"),
    }
    after = sales.get_partition(DB, "orders", ["2023", "1"])
    assert after.location == "s3://lakeport/elsewhere/"
    assert (after.file_count, after.size_bytes, after.row_count) == (2, 2048, 10)
    assert after.created_at == before.created_at
    glue = after.to_glue(sales.get_table(DB, "orders"))
    assert glue["Parameters"] == {"objectCount": "2", "sizeKey": "2048", "recordCount": "10"}
    assert glue["StorageDescriptor"]["Location"] == "s3://lakeport/elsewhere/"
    assert glue["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    assert values_of(sales.get_partitions(DB, "orders")) == {("2023", "1"), ("2023", "2")}


def test_delete_partitions_and_get_partition(sales: Catalog) -> None:
    sales.create_partitions(DB, "orders", [part("2023", "1"), part("2023", "2")])
    result = sales.delete_partitions(DB, "orders", [["2023", "1"], ["2023", "5"]])
    assert result.succeeded == 1
    assert [(e.values, e.code) for e in result.errors] == [(("2023", "5"), "EntityNotFoundException")]
    with pytest.raises(NotFound) as info:
        sales.get_partition(DB, "orders", ["2023", "1"])
    assert info.value.code == "EntityNotFoundException"
    assert sales.get_partition(DB, "orders", ["2023", "2"]).values == ("2023", "2")
    with pytest.raises(InvalidInput, match="1 partition values"):
        sales.get_partition(DB, "orders", ["2023"])


@pytest.fixture
def months(sales: Catalog) -> Catalog:
    """``sales.orders`` with partitions for every month of 2022 and 2023 (months written ``01``..``12``)."""
    result = sales.create_partitions(
        DB, "orders", [part(str(year), f"{month:02d}") for year in (2022, 2023) for month in range(1, 13)]
    )
    assert result.succeeded == 24
    return sales


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("year = '2023' AND month > 6", {("2023", f"{m:02d}") for m in range(7, 13)}),
        ("YEAR = 2023 and MONTH >= 12", {("2023", "12")}),
        ("month IN (1, 2)", {(y, m) for y in ("2022", "2023") for m in ("01", "02")}),
        ("year IN ('2022') AND month NOT IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)", {("2022", "11"), ("2022", "12")}),
        ("month BETWEEN 3 AND 4 AND year = '2022'", {("2022", "03"), ("2022", "04")}),
        ("year LIKE '%3' AND month < 2", {("2023", "01")}),
        ("year LIKE '202_' AND month = '05'", {("2022", "05"), ("2023", "05")}),
        ("(year = '2022' OR month = 12) AND NOT month < 12", {("2022", "12"), ("2023", "12")}),
        ("year > '2022' AND month <> 1 AND month <= 2", {("2023", "02")}),
        ("month IS NULL", set()),
        ("", {(str(y), f"{m:02d}") for y in (2022, 2023) for m in range(1, 13)}),
    ],
)
def test_get_partitions_filters_with_glue_expressions(
    months: Catalog, expression: str, expected: set[tuple[str, str]]
) -> None:
    assert values_of(months.get_partitions(DB, "orders", expression=expression)) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("year = '2023' AND AND month = 1", "character 19"),
        ("region = 'eu'", "region"),
        ("month = 'x'", "month"),
        ("year = '2023", "character"),
    ],
)
def test_bad_expressions_are_refused_with_the_position_or_name(months: Catalog, expression: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        months.get_partitions(DB, "orders", expression=expression)
    assert message in info.value.message


def test_default_partition_location_is_the_table_location_and_hive_escaped_path(sales: Catalog) -> None:
    sales.create_partitions(
        DB,
        "orders",
        [
            part("2023", "7"),
            part("a/b:c", "1"),
            part("50% off", "2"),
            part(None, "3"),
            part("", "4"),
            part("2023", "8", location="s3://lakeport/manual/place/"),
        ],
    )
    by_values = {p.values: p.location for p in sales.get_partitions(DB, "orders")}
    assert by_values[("2023", "7")] == LOCATION + "year=2023/month=7/"
    assert by_values[("a/b:c", "1")] == LOCATION + "year=a%2Fb%3Ac/month=1/"
    assert by_values[("50% off", "2")] == LOCATION + "year=50%25 off/month=2/"
    assert by_values[(None, "3")] == LOCATION + "year=__HIVE_DEFAULT_PARTITION__/month=3/"
    assert by_values[("", "4")] == LOCATION + "year=__HIVE_DEFAULT_PARTITION__/month=4/"
    assert by_values[("2023", "8")] == "s3://lakeport/manual/place/"
    assert sales.get_partition(DB, "orders", [None, "3"]).values == (None, "3")

    # A table location without the trailing slash gives the same paths.
    sales.create_table(orders(name="bare", location=LOCATION.rstrip("/")))
    sales.create_partitions(DB, "bare", [Partition(DB, "bare", ("2023", "7"), "")])
    assert sales.get_partition(DB, "bare", ["2023", "7"]).location == LOCATION + "year=2023/month=7/"


def test_partitions_survive_a_table_update_that_keeps_the_keys(sales: Catalog) -> None:
    sales.create_partitions(DB, "orders", [part("2023", "1"), part("2023", "2")])
    updated = sales.update_table(orders(columns=(*orders().columns, Column("coupon", "string"))))
    assert updated.version == 2
    assert values_of(sales.get_partitions(DB, "orders")) == {("2023", "1"), ("2023", "2")}
    glue = sales.get_partition(DB, "orders", ["2023", "1"]).to_glue(sales.get_table(DB, "orders"))
    assert [c["Name"] for c in glue["StorageDescriptor"]["Columns"]] == ["id", "customer", "price", "coupon"]


def test_dropping_a_table_removes_its_partitions_and_versions(sales: Catalog, metadata_lake: Lake) -> None:
    sales.create_partitions(DB, "orders", [part("2023", "1"), part("2023", "2")])
    sales.update_table(orders(columns=(*orders().columns, Column("coupon", "string"))))
    sales.delete_table(DB, "orders")
    assert row_count(metadata_lake, catalog_partitions) == 0
    assert row_count(metadata_lake, catalog_table_versions) == 0
    sales.create_table(orders())
    assert sales.get_partitions(DB, "orders") == []
    assert [v.version for v in sales.table_versions(DB, "orders")] == [1]
    assert row_count(metadata_lake, catalog_databases) == 1
