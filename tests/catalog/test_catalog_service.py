"""The catalog service's contract (Glue Data Catalog behaviour), on a SQLite lake and a PostgreSQL-metadata lake.

Every test runs once per metadata backend: the same calls must give the same answers whether the metadata DB is
the lake's SQLite file or a real PostgreSQL database.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text

from lakeport import Lake
from lakeport.catalog import (
    EXTERNAL_TABLE,
    ICEBERG,
    Catalog,
    CatalogSession,
    Change,
    Column,
    Partition,
    Table,
    TableFormat,
)
from lakeport.catalog.schema import catalog_databases, catalog_partitions, catalog_table_versions, catalog_tables
from lakeport.errors import AccessDenied, AlreadyExists, Conflict, InvalidInput, LakeportError, NotFound
from lakeport.iam import Principal
from tests.support.postgres import fresh_database

DB = "sales"
LOCATION = "s3://lakeport/warehouse/orders/"
BOB = Principal(arn="arn:aws:iam::000000000000:user/bob", name="bob")
GLUE = "arn:aws:glue:us-east-1:000000000000"

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


# ---- fixtures and helpers


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def metadata_lake(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    """A lake whose metadata is in its SQLite file, or in a fresh PostgreSQL database (one per module: making
    a lake costs a second on PostgreSQL; :func:`catalog` empties the catalog after every test instead)."""
    with contextlib.ExitStack() as stack:
        values: dict[str, str] = {}
        if request.param == "postgresql":
            values["metadata.url"] = stack.enter_context(fresh_database(request.getfixturevalue("postgres_url")))
        lake = Lake.init(tmp_path_factory.mktemp("lake"), values=values, environ={})
        stack.callback(lake.close)
        assert lake.db.dialect == request.param
        yield lake


@pytest.fixture
def catalog(metadata_lake: Lake) -> Iterator[Catalog]:
    """The lake's catalog, empty at the start of the test and emptied again after it."""
    catalog = metadata_lake.catalog
    assert catalog.list_databases() == []
    yield catalog
    for database in catalog.list_databases():
        catalog.delete_database(database.name)
    for table in (catalog_partitions, catalog_table_versions, catalog_tables, catalog_databases):
        assert row_count(metadata_lake, table) == 0, table.name


@pytest.fixture
def sales(catalog: Catalog) -> Catalog:
    """The catalog with database ``sales`` holding the partitioned table ``orders``."""
    catalog.create_database(DB)
    catalog.create_table(orders())
    return catalog


def orders(**changes: Any) -> Table:
    """``sales.orders``: three columns, partitioned by year (string) and month (bigint), Parquet."""
    table = Table(
        database=DB,
        name="orders",
        columns=(Column("id", "bigint"), Column("customer", "string", "who ordered"), Column("price", "double")),
        location=LOCATION,
        partition_keys=(Column("year", "string"), Column("month", "bigint")),
        format=TableFormat("parquet", compression="snappy"),
    )
    return table.with_changes(**changes)


def part(*values: str | None, location: str = "", **stats: Any) -> Partition:
    return Partition(DB, "orders", tuple(values), location, **stats)


def row_count(lake: Lake, table: Any) -> int:
    with lake.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def table_names(catalog: Catalog, database: str = DB) -> list[str]:
    return [t.name for t in catalog.list_tables(database)]


def values_of(partitions: list[Partition]) -> set[tuple[str | None, ...]]:
    return {p.values for p in partitions}


# ---- databases


def test_database_create_get_list_delete(catalog: Catalog) -> None:
    created = catalog.create_database(
        "Sales", description="orders and customers", location_uri="s3://lakeport/warehouse/", parameters={"team": "x"}
    )
    assert created.name == "sales"
    assert created.created_at is not None
    got = catalog.get_database("SALES")
    assert (got.name, got.description, got.location_uri, dict(got.parameters)) == (
        "sales",
        "orders and customers",
        "s3://lakeport/warehouse/",
        {"team": "x"},
    )
    glue = got.to_glue()
    assert glue["Name"] == "sales"
    assert glue["Description"] == "orders and customers"
    assert glue["LocationUri"] == "s3://lakeport/warehouse/"
    assert glue["Parameters"] == {"team": "x"}
    assert glue["CreateTime"]

    catalog.create_database("archive")
    assert [d.name for d in catalog.list_databases()] == ["archive", "sales"]

    catalog.delete_database("Sales")
    assert [d.name for d in catalog.list_databases()] == ["archive"]
    with pytest.raises(NotFound) as info:
        catalog.get_database("sales")
    assert info.value.code == "EntityNotFoundException"
    assert "sales" in info.value.message


@pytest.mark.parametrize(
    "name",
    ["bad name", "semi;colon", "dot.ted", "tab\there", "ünïcode", "x" * 256, "-dash"],
    ids=["space", "semicolon", "dot", "tab", "unicode", "too-long", "leading-dash"],
)
def test_invalid_database_names_are_refused_naming_the_name(catalog: Catalog, name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        catalog.create_database(name)
    assert repr(name) in info.value.message
    assert info.value.code == "InvalidInputException"
    assert catalog.list_databases() == []


def test_empty_database_name_is_refused(catalog: Catalog) -> None:
    with pytest.raises(InvalidInput, match="database name is empty"):
        catalog.create_database("  ")


def test_creating_an_existing_database_fails_unless_exist_ok(catalog: Catalog) -> None:
    catalog.create_database("sales", description="first")
    with pytest.raises(AlreadyExists) as info:
        catalog.create_database("SALES", description="second")
    assert info.value.code == "AlreadyExistsException"
    assert "sales" in info.value.message
    again = catalog.create_database("sales", description="second", exist_ok=True)
    assert again.description == "first"
    assert catalog.get_database("sales").description == "first"


def test_deleting_a_database_removes_its_tables_partitions_and_versions(sales: Catalog, metadata_lake: Lake) -> None:
    sales.create_table(orders(name="returns"))
    sales.update_table(orders(columns=(*orders().columns, Column("coupon", "string"))))
    assert sales.create_partitions(DB, "orders", [part("2023", "1"), part("2023", "2")]).succeeded == 2
    sales.create_database("other")
    sales.create_table(orders(database="other"))
    sales.create_partitions("other", "orders", [Partition("other", "orders", ("2023", "1"), "")])

    sales.delete_database(DB)

    with pytest.raises(NotFound):
        sales.get_table(DB, "orders")
    assert [d.name for d in sales.list_databases()] == ["other"]
    with metadata_lake.db.read() as conn:
        assert conn.execute(select(catalog_tables.c.database_name)).scalars().all() == ["other"]
    assert row_count(metadata_lake, catalog_partitions) == 1
    assert row_count(metadata_lake, catalog_table_versions) == 1
    # A database of the same name starts empty.
    sales.create_database(DB)
    assert sales.list_tables(DB) == []


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda c: c.get_database("nope"), "database nope"),
        (lambda c: c.delete_database("nope"), "database nope"),
        (lambda c: c.list_tables("nope"), "database nope"),
        (lambda c: c.get_table("nope", "orders"), "database nope"),
        (lambda c: c.create_table(orders(database="nope")), "database nope"),
        (lambda c: c.get_table(DB, "nope"), "sales.nope"),
        (lambda c: c.update_table(orders(name="nope")), "sales.nope"),
        (lambda c: c.delete_table(DB, "nope"), "sales.nope"),
        (lambda c: c.table_versions(DB, "nope"), "sales.nope"),
        (lambda c: c.table_version(DB, "orders", 9), "version 9"),
        (lambda c: c.get_partitions(DB, "nope"), "sales.nope"),
        (lambda c: c.get_partition(DB, "orders", ["2023", "1"]), "sales.orders"),
        (lambda c: c.create_partitions(DB, "nope", [part("2023", "1")]), "sales.nope"),
    ],
    ids=[
        "get_database",
        "delete_database",
        "list_tables",
        "get_table-no-database",
        "create_table-no-database",
        "get_table",
        "update_table",
        "delete_table",
        "table_versions",
        "table_version",
        "get_partitions",
        "get_partition",
        "create_partitions",
    ],
)
def test_missing_entities_raise_entity_not_found(sales: Catalog, call: Callable[[Catalog], Any], named: str) -> None:
    with pytest.raises(NotFound) as info:
        call(sales)
    assert info.value.code == "EntityNotFoundException"
    assert named in info.value.message


# ---- tables


def test_table_create_get_list_update_delete(sales: Catalog) -> None:
    got = sales.get_table("SALES", "Orders")
    assert got.full_name == "sales.orders"
    assert got.columns == orders().columns
    assert got.partition_keys == orders().partition_keys
    assert got.format == orders().format
    assert got.version == 1
    assert got.created_by == "arn:aws:iam::000000000000:user/admin"
    assert got.created_at is not None
    assert got.updated_at == got.created_at

    sales.create_table(Table(DB, "Customers", (Column("id", "bigint"),), "s3://lakeport/warehouse/customers/"))
    assert [t.name for t in sales.list_tables(DB)] == ["customers", "orders"]

    updated = sales.update_table(got.with_changes(description="all orders", parameters={"owner": "team-x"}))
    assert updated.description == "all orders"
    again = sales.get_table(DB, "orders")
    assert again.description == "all orders"
    assert dict(again.parameters) == {"owner": "team-x"}
    assert again.created_at == got.created_at
    assert again.updated_at is not None
    assert got.updated_at is not None
    assert again.updated_at >= got.updated_at

    sales.delete_table(DB, "ORDERS")
    assert [t.name for t in sales.list_tables(DB)] == ["customers"]
    assert "orders" not in table_names(sales)


def test_creating_an_existing_table_fails_unless_replacing(sales: Catalog) -> None:
    with pytest.raises(AlreadyExists) as info:
        sales.create_table(orders())
    assert info.value.code == "AlreadyExistsException"
    assert "sales.orders" in info.value.message
    replaced = sales.create_table(orders(description="replaced"), replace=True)
    assert sales.get_table(DB, "orders").description == "replaced"
    assert replaced.version == 2  # the description is part of the definition: a new version


def test_list_tables_filters_by_a_case_insensitive_pattern(sales: Catalog) -> None:
    for name in ("order_items", "customers"):
        sales.create_table(orders(name=name))
    assert [t.name for t in sales.list_tables(DB, pattern="order.*")] == ["order_items", "orders"]
    assert [t.name for t in sales.list_tables(DB, pattern="CUSTOMERS")] == ["customers"]
    assert [t.name for t in sales.list_tables(DB, pattern="order_items|customers")] == ["customers", "order_items"]
    assert sales.list_tables(DB, pattern="nothing") == []
    with pytest.raises(InvalidInput, match=r"\(unclosed"):
        sales.list_tables(DB, pattern="(unclosed")


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("INTEGER", "int"),
        ("array<STRING>", "array<string>"),
        ("DECIMAL(10, 2)", "decimal(10,2)"),
        ("map<STRING,INT>", "map<string,int>"),
        ("long", "bigint"),
        ("VARCHAR(10)", "varchar(10)"),
        ("Timestamp", "timestamp"),
    ],
)
def test_column_types_are_canonicalized(sales: Catalog, given: str, canonical: str) -> None:
    sales.create_table(Table(DB, "typed", (Column("Value", given),), LOCATION, partition_keys=(Column("Part", given),)))
    table = sales.get_table(DB, "typed")
    assert table.columns == (Column("value", canonical),)
    assert table.partition_keys == (Column("part", canonical),)
    assert table.to_glue()["StorageDescriptor"]["Columns"] == [{"Name": "value", "Type": canonical}]


def test_an_invalid_column_type_is_refused_naming_table_and_column(sales: Catalog) -> None:
    bad = orders(name="bad", columns=(Column("id", "bigint"), Column("Price", "moneyz")))
    with pytest.raises(InvalidInput) as info:
        sales.create_table(bad)
    assert "sales.bad" in info.value.message
    assert "price" in info.value.message
    assert "bad" not in table_names(sales)
    with pytest.raises(InvalidInput, match=r"sales\.orders.*month"):
        sales.update_table(orders(partition_keys=(Column("year", "string"), Column("month", "array<"))))
    assert sales.get_table(DB, "orders").version == 1


@pytest.mark.parametrize(
    ("columns", "keys", "named"),
    [
        ((Column("id", "int"), Column("ID", "string")), (), "id"),
        ((Column("id", "int"),), (Column("Day", "string"), Column("day", "string")), "day"),
        ((Column("id", "int"), Column("Year", "int")), (Column("year", "string"),), "year"),
    ],
    ids=["duplicate-column", "duplicate-partition-key", "column-and-partition-key"],
)
def test_clashing_column_names_are_refused(
    sales: Catalog, columns: tuple[Column, ...], keys: tuple[Column, ...], named: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        sales.create_table(Table(DB, "clash", columns, LOCATION, partition_keys=keys))
    assert named in info.value.message
    assert "sales.clash" in info.value.message
    assert "clash" not in table_names(sales)


def test_an_unknown_table_type_is_refused(sales: Catalog) -> None:
    with pytest.raises(InvalidInput, match="MANAGED_TABLE"):
        sales.create_table(orders(name="managed", table_type="MANAGED_TABLE"))


@pytest.mark.parametrize(
    ("fmt", "input_format", "output_format", "serde", "serde_parameters"),
    [
        (
            TableFormat("csv", delimiter="|", header=True),
            TEXT_INPUT,
            TEXT_OUTPUT,
            LAZY_SIMPLE_SERDE,
            {"field.delim": "|"},
        ),
        (
            TableFormat("csv", delimiter=";", quote='"', header=True),
            TEXT_INPUT,
            TEXT_OUTPUT,
            OPEN_CSV_SERDE,
            {"separatorChar": ";", "quoteChar": '"'},
        ),
        (TableFormat("parquet", compression="snappy"), PARQUET_INPUT, PARQUET_OUTPUT, PARQUET_SERDE, {}),
        (TableFormat("json"), TEXT_INPUT, TEXT_OUTPUT, JSON_SERDE, {}),
    ],
    ids=["csv", "quoted-csv", "parquet", "json"],
)
def test_to_glue_describes_storage_by_classification(
    sales: Catalog,
    fmt: TableFormat,
    input_format: str,
    output_format: str,
    serde: str,
    serde_parameters: dict[str, str],
) -> None:
    sales.create_table(orders(name="t", format=fmt))
    glue = sales.get_table(DB, "t").to_glue()
    descriptor = glue["StorageDescriptor"]
    assert glue["Name"] == "t"
    assert glue["DatabaseName"] == DB
    assert glue["TableType"] == "EXTERNAL_TABLE"
    assert glue["VersionId"] == "1"
    assert descriptor["Columns"] == [
        {"Name": "id", "Type": "bigint"},
        {"Name": "customer", "Type": "string", "Comment": "who ordered"},
        {"Name": "price", "Type": "double"},
    ]
    assert descriptor["Location"] == LOCATION
    assert descriptor["InputFormat"] == input_format
    assert descriptor["OutputFormat"] == output_format
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == serde
    assert descriptor["SerdeInfo"]["Parameters"] == serde_parameters
    assert glue["PartitionKeys"] == [{"Name": "year", "Type": "string"}, {"Name": "month", "Type": "bigint"}]
    assert glue["Parameters"]["classification"] == fmt.classification
    if fmt.header:
        assert glue["Parameters"]["skip.header.line.count"] == "1"
    if fmt.compression:
        assert glue["Parameters"]["compressionType"] == fmt.compression


def test_iceberg_tables_render_as_external_tables_with_table_type_iceberg(sales: Catalog) -> None:
    sales.create_table(orders(name="ice", table_type=ICEBERG, format=TableFormat("iceberg")))
    table = sales.get_table(DB, "ice")
    assert table.table_type == ICEBERG
    glue = table.to_glue()
    assert glue["TableType"] == EXTERNAL_TABLE
    assert glue["Parameters"]["table_type"] == "ICEBERG"
    assert glue["StorageDescriptor"]["Location"] == LOCATION
    assert [t["Name"] for t in sales.list_tables(DB, pattern="ice")[0].to_glue()["StorageDescriptor"]["Columns"]] == [
        "id",
        "customer",
        "price",
    ]


def test_glue_shapes_carry_the_catalog_id(sales: Catalog, metadata_lake: Lake) -> None:
    account = metadata_lake.settings.iam.account_id
    assert sales.get_table(DB, "orders").to_glue()["CatalogId"] == account
    assert sales.get_database(DB).to_glue()["CatalogId"] == account


# ---- versions


def test_schema_changes_make_versions_and_statistics_do_not(sales: Catalog) -> None:
    assert [v.version for v in sales.table_versions(DB, "orders")] == [1]

    v2 = sales.update_table(orders(columns=(*orders().columns, Column("coupon", "string"))))
    assert v2.version == 2
    versions = sales.table_versions(DB, "orders")
    assert [v.version for v in versions] == [1, 2]
    assert [c.name for c in versions[0].table.columns] == ["id", "customer", "price"]
    assert [c.name for c in versions[1].table.columns] == ["id", "customer", "price", "coupon"]
    assert all(v.created_by == "arn:aws:iam::000000000000:user/admin" for v in versions)
    assert sales.table_version(DB, "orders", 1).table.columns == orders().columns

    current = sales.get_table(DB, "orders")
    stats = sales.update_table(
        current.with_changes(parameters={**current.parameters, "recordCount": "1000", "sizeKey": "4096"})
    )
    assert stats.version == 2
    assert [v.version for v in sales.table_versions(DB, "orders")] == [1, 2]
    again = sales.get_table(DB, "orders")
    assert again.version == 2
    assert again.parameters["recordCount"] == "1000"
    assert again.to_glue()["VersionId"] == "2"

    # A non-statistics parameter is part of the schema definition: a new version.
    assert sales.update_table(again.with_changes(parameters={**again.parameters, "owner": "x"})).version == 3


def test_diff_versions_lists_added_removed_and_changed_columns(sales: Catalog) -> None:
    sales.update_table(
        orders(
            columns=(Column("id", "int"), Column("price", "double", "in EUR"), Column("email", "string")),
            location="s3://lakeport/warehouse/orders_v2/",
        )
    )
    changes = sales.diff_versions(DB, "orders", 1, 2)
    assert Change("changed", "column id", old="bigint", new="int") in changes
    assert Change("removed", "column customer", old="string -- who ordered") in changes
    assert Change("added", "column email", new="string") in changes
    assert Change("changed", "column price", old="double", new="double -- in EUR") in changes
    assert Change("changed", "location", old=LOCATION, new="s3://lakeport/warehouse/orders_v2/") in changes
    assert not any(c.item.startswith("partition key") for c in changes)
    assert sales.diff_versions(DB, "orders", 2, 2) == []
    lines = [c.line() for c in changes]
    assert "+ column email: string" in lines
    assert "- column customer: string -- who ordered" in lines


def test_expected_version_guards_against_lost_updates(sales: Catalog) -> None:
    seen = sales.get_table(DB, "orders")
    sales.update_table(seen.with_changes(columns=(*seen.columns, Column("a", "int"))), expected_version=1)
    with pytest.raises(Conflict) as info:
        sales.update_table(seen.with_changes(columns=(*seen.columns, Column("b", "int"))), expected_version=1)
    assert info.value.code == "ConcurrentModificationException"
    assert "version 2" in info.value.message
    assert [c.name for c in sales.get_table(DB, "orders").columns][-1] == "a"
    assert [v.version for v in sales.table_versions(DB, "orders")] == [1, 2]


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


# ---- search


@pytest.fixture
def searchable(sales: Catalog) -> Catalog:
    sales.create_table(
        Table(
            DB,
            "customers",
            (Column("id", "bigint"), Column("email", "string", "the customer's E-mail address")),
            "s3://lakeport/warehouse/customers/",
            parameters={"owner": "team-crm"},
        )
    )
    sales.create_database("music")
    sales.create_table(
        Table("music", "tracks", (Column("track_id", "string"), Column("tempo", "double")), "s3://x/tracks/")
    )
    return sales


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("customers", ["sales.customers"]),
        ("ORDERS", ["sales.orders"]),
        ("email", ["sales.customers"]),
        ("TEMPO", ["music.tracks"]),
        ("e-mail address", ["sales.customers"]),
        ("who ordered", ["sales.orders"]),
        ("team-crm", ["sales.customers"]),
        ("owner", ["sales.customers"]),
        ("id", ["music.tracks", "sales.customers", "sales.orders"]),
        ("no such thing", []),
    ],
)
def test_search_tables_by_name_column_comment_and_parameter(
    searchable: Catalog, text: str, expected: list[str]
) -> None:
    assert sorted(t.full_name for t in searchable.search_tables(text)) == expected


# ---- access


TABLE_ARN = f"{GLUE}:table/sales/orders"
DATABASE_ARN = f"{GLUE}:database/sales"
CATALOG_ARN = f"{GLUE}:catalog"

# Every catalog operation: (id, call, the Glue action it is, the resource ARN it acts on).
OPERATIONS: list[tuple[str, Callable[[Catalog], Any], str, str]] = [
    ("create_database", lambda c: c.create_database("newdb"), "CreateDatabase", f"{GLUE}:database/newdb"),
    ("get_database", lambda c: c.get_database(DB), "GetDatabase", DATABASE_ARN),
    ("list_databases", lambda c: c.list_databases(), "GetDatabases", CATALOG_ARN),
    ("delete_database", lambda c: c.delete_database(DB), "DeleteDatabase", DATABASE_ARN),
    ("create_table", lambda c: c.create_table(orders(name="t2")), "CreateTable", f"{GLUE}:table/sales/t2"),
    ("get_table", lambda c: c.get_table(DB, "orders"), "GetTable", TABLE_ARN),
    ("list_tables", lambda c: c.list_tables(DB), "GetTables", DATABASE_ARN),
    ("update_table", lambda c: c.update_table(orders(description="x")), "UpdateTable", TABLE_ARN),
    ("delete_table", lambda c: c.delete_table(DB, "orders"), "DeleteTable", TABLE_ARN),
    ("search_tables", lambda c: c.search_tables("orders"), "SearchTables", CATALOG_ARN),
    ("table_versions", lambda c: c.table_versions(DB, "orders"), "GetTableVersions", TABLE_ARN),
    ("table_version", lambda c: c.table_version(DB, "orders", 1), "GetTableVersion", TABLE_ARN),
    (
        "create_partitions",
        lambda c: c.create_partitions(DB, "orders", [part("2024", "1")]),
        "BatchCreatePartition",
        TABLE_ARN,
    ),
    (
        "update_partitions",
        lambda c: c.update_partitions(DB, "orders", [part("2023", "1")]),
        "BatchUpdatePartition",
        TABLE_ARN,
    ),
    (
        "delete_partitions",
        lambda c: c.delete_partitions(DB, "orders", [["2023", "1"]]),
        "BatchDeletePartition",
        TABLE_ARN,
    ),
    ("get_partition", lambda c: c.get_partition(DB, "orders", ["2023", "1"]), "GetPartition", TABLE_ARN),
    ("get_partitions", lambda c: c.get_partitions(DB, "orders"), "GetPartitions", TABLE_ARN),
]


@pytest.fixture
def guarded(sales: Catalog) -> Catalog:
    sales.create_partitions(DB, "orders", [part("2023", "1")])
    return sales


@pytest.mark.parametrize(
    ("call", "resource"), [pytest.param(call, resource, id=name) for name, call, _, resource in OPERATIONS]
)
def test_an_unauthorized_principal_is_denied_every_operation(
    guarded: Catalog, call: Callable[[Catalog], Any], resource: str
) -> None:
    before = guarded.get_table(DB, "orders")
    with pytest.raises(AccessDenied) as info:
        call(guarded.as_principal(BOB))
    assert info.value.code == "AccessDeniedException"
    message = info.value.message
    assert BOB.arn in message
    assert " glue:" in message
    assert resource in message
    # Nothing changed.
    assert guarded.get_table(DB, "orders") == before
    assert [d.name for d in guarded.list_databases()] == [DB]
    assert [t.name for t in guarded.list_tables(DB)] == ["orders"]
    assert values_of(guarded.get_partitions(DB, "orders")) == {("2023", "1")}


@pytest.mark.parametrize(
    ("call", "action", "resource"),
    [
        pytest.param(
            call,
            action,
            resource,
            id=name,
        )
        for name, call, action, resource in OPERATIONS
    ],
)
def test_the_denial_names_the_operations_own_glue_action(
    guarded: Catalog, call: Callable[[Catalog], Any], action: str, resource: str
) -> None:
    """As AWS does: a policy allowing glue:GetPartitions alone must be enough to call GetPartitions."""
    with pytest.raises(AccessDenied) as info:
        call(guarded.as_principal(BOB))
    assert f"perform glue:{action} on resource {resource}" in info.value.message


def test_the_admin_principal_is_allowed(guarded: Catalog, metadata_lake: Lake) -> None:
    admin = guarded.as_principal(metadata_lake.iam.admin)
    assert admin.get_table(DB, "orders").created_by == metadata_lake.iam.admin.arn


# ---- concurrency

ROUNDS = 5
PARTITIONS_PER_ROUND = 10


def test_concurrent_partition_batches_and_guarded_updates_lose_nothing(
    sales: Catalog, metadata_lake: Lake, request: pytest.FixtureRequest
) -> None:
    """Two threads, five rounds: both read the table, both update it expecting that version (one must get a
    Conflict), then each adds ten partitions of its own; in the end 100 partitions and one version per round."""
    barrier = threading.Barrier(2, timeout=60)
    outcomes: list[tuple[int, str, str]] = []
    failures: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            for round_ in range(ROUNDS):
                seen = sales.get_table(DB, "orders")
                barrier.wait()  # both threads hold the same version now
                try:
                    sales.update_table(
                        seen.with_changes(columns=(*seen.columns, Column(f"{name}_{round_}", "string"))),
                        expected_version=seen.version,
                    )
                    outcomes.append((round_, name, "updated"))
                except Conflict:
                    outcomes.append((round_, name, "conflict"))
                first = round_ * PARTITIONS_PER_ROUND + 1
                for month in range(first, first + PARTITIONS_PER_ROUND):
                    result = sales.create_partitions(DB, "orders", [part(name, str(month))])
                    assert (result.succeeded, list(result.errors)) == (1, [])
                barrier.wait()  # the round is over for both
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, [f"{type(e).__name__}: {e}" for e in failures]
    for round_ in range(ROUNDS):
        assert sorted(o for r, _, o in outcomes if r == round_) == ["conflict", "updated"], outcomes
    winners = [f"{name}_{r}" for r, name, outcome in sorted(outcomes) if outcome == "updated"]
    table = sales.get_table(DB, "orders")
    assert table.version == 1 + ROUNDS
    assert [c.name for c in table.columns] == ["id", "customer", "price", *winners]
    assert [v.version for v in sales.table_versions(DB, "orders")] == list(range(1, ROUNDS + 2))
    partitions = sales.get_partitions(DB, "orders")
    assert len(partitions) == 2 * ROUNDS * PARTITIONS_PER_ROUND
    assert values_of(partitions) == {
        (name, str(m)) for name in ("left", "right") for m in range(1, ROUNDS * PARTITIONS_PER_ROUND + 1)
    }


def _wait_until_blocked(lake: Lake) -> None:
    """Return once another connection waits for a lock (PostgreSQL), or after a moment (SQLite's queue)."""
    if lake.db.dialect != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lake.db.engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar():
                return
        time.sleep(0.02)


def _race(
    lake: Lake, catalog: Catalog, first: Callable[[CatalogSession], Any], second: Callable[[Catalog], Any]
) -> Any:
    """Run ``first`` in a write transaction, start ``second`` in another thread before committing, and return
    what ``second`` returned or raised once the first committed: the same race as two processes, deterministic."""
    answers: list[Any] = []

    def run_second() -> None:
        try:
            answers.append(second(catalog))
        except BaseException as exc:
            answers.append(exc)

    thread = threading.Thread(target=run_second)
    with lake.db.write() as conn:
        first(catalog.session(conn))
        thread.start()
        _wait_until_blocked(lake)
    thread.join(timeout=60)
    assert len(answers) == 1
    return answers[0]


def _with_column(name: str) -> Table:
    return orders(columns=(*orders().columns, Column(name, "string")))


def test_an_update_racing_an_uncommitted_one_gets_a_conflict(
    sales: Catalog, metadata_lake: Lake, request: pytest.FixtureRequest
) -> None:
    answer = _race(
        metadata_lake,
        sales,
        lambda s: s.update_table(_with_column("first"), expected_version=1),
        lambda c: c.update_table(_with_column("second"), expected_version=1),
    )
    assert isinstance(answer, Conflict), repr(answer)
    assert [c.name for c in sales.get_table(DB, "orders").columns][-1] == "first"
    assert [v.version for v in sales.table_versions(DB, "orders")] == [1, 2]


def test_a_table_created_racing_an_uncommitted_create_gets_already_exists(
    sales: Catalog, metadata_lake: Lake, request: pytest.FixtureRequest
) -> None:
    answer = _race(
        metadata_lake,
        sales,
        lambda s: s.create_table(orders(name="twice", description="first")),
        lambda c: c.create_table(orders(name="twice", description="second")),
    )
    assert isinstance(answer, AlreadyExists), repr(answer)
    assert answer.code == "AlreadyExistsException"
    assert sales.get_table(DB, "twice").description == "first"


def test_partitions_created_racing_an_uncommitted_batch_are_reported_not_raised(
    sales: Catalog, metadata_lake: Lake, request: pytest.FixtureRequest
) -> None:
    answer = _race(
        metadata_lake,
        sales,
        lambda s: s.create_partitions(DB, "orders", [part("2023", "1")]),
        lambda c: c.create_partitions(DB, "orders", [part("2023", "1"), part("2023", "2")]),
    )
    assert not isinstance(answer, BaseException), repr(answer)
    assert answer.succeeded == 1
    assert [(e.values, e.code) for e in answer.errors] == [(("2023", "1"), "AlreadyExistsException")]
    assert values_of(sales.get_partitions(DB, "orders")) == {("2023", "1"), ("2023", "2")}


def test_a_database_created_racing_an_uncommitted_create_gets_already_exists(
    catalog: Catalog, metadata_lake: Lake
) -> None:
    answer = _race(
        metadata_lake,
        catalog,
        lambda s: s.create_database("twice", description="first"),
        lambda c: c.create_database("twice", description="second"),
    )
    assert isinstance(answer, AlreadyExists), repr(answer)
    assert catalog.get_database("twice").description == "first"
    again = _race(
        metadata_lake,
        catalog,
        lambda s: s.create_database("thrice", description="first"),
        lambda c: c.create_database("thrice", description="second", exist_ok=True),
    )
    assert not isinstance(again, BaseException), repr(again)
    assert again.description == "first"


def test_errors_are_lakeport_errors_with_one_line(sales: Catalog) -> None:
    with pytest.raises(LakeportError) as info:
        sales.get_table(DB, "nope")
    assert "\n" not in info.value.one_line()
    assert "lakeport catalog tables sales" in (info.value.hint or "")
