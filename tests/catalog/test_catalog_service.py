"""The catalog service's contract (Glue Data Catalog behaviour), on a SQLite lake and a PostgreSQL-metadata lake.

Every test runs once per metadata backend: the same calls must give the same answers whether the metadata DB is
the lake's SQLite file or a real PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from lakeport import Lake
from lakeport.catalog import (
    EXTERNAL_TABLE,
    ICEBERG,
    Catalog,
    Change,
    Column,
    Partition,
    Table,
    TableFormat,
)
from lakeport.catalog.schema import catalog_partitions, catalog_table_versions, catalog_tables
from lakeport.errors import AlreadyExists, Conflict, InvalidInput, LakeportError, NotFound
from tests.catalog.catalog_kit import (
    DB,
    JSON_SERDE,
    LAZY_SIMPLE_SERDE,
    LOCATION,
    OPEN_CSV_SERDE,
    PARQUET_INPUT,
    PARQUET_OUTPUT,
    PARQUET_SERDE,
    TEXT_INPUT,
    TEXT_OUTPUT,
    orders,
    part,
    row_count,
    table_names,
)

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


def test_errors_are_lakeport_errors_with_one_line(sales: Catalog) -> None:
    with pytest.raises(LakeportError) as info:
        sales.get_table(DB, "nope")
    assert "\n" not in info.value.one_line()
    assert "lakeport catalog tables sales" in (info.value.hint or "")
