"""``lakeport crawl`` and ``lakeport catalog`` as a user runs them: separate processes, text and Glue-shaped JSON.

One lake is crawled once for the module (each ``lakeport`` process costs about half a second); the tests read it.
Only :func:`test_drop_tables_and_databases` changes the catalog, in a database of its own.
"""

from __future__ import annotations

import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeport import Lake
from lakeport.catalog import Column, Table
from tests.conftest import run_cli

BUCKET = "lakeport"
TARGET = "s3://lakeport/staging/shop/"
ORDERS = "s3://lakeport/staging/shop/orders/"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"


@dataclass(frozen=True)
class Crawled:
    root: Path
    crawl: subprocess.CompletedProcess[bytes]


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """A lake with CSV orders partitioned by year/month and a Parquet tracks table, crawled by ``lakeport crawl``
    into database ``shop``; then a new CSV file with an extra column, crawled again, makes orders version 2."""
    root = tmp_path_factory.mktemp("catalog-cli") / "lake"
    with Lake.init(root, environ={}) as lake:
        for year in (2022, 2023):
            for month in (1, 7):
                lake.storage.put_object(
                    BUCKET,
                    f"staging/shop/orders/year={year}/month={month}/part-0.csv",
                    f"id,customer,price\n{year}{month}1,ann,1.5\n{year}{month}2,bob,2.25\n".encode(),
                )
        tracks = pa.table({"track_id": ["a", "b"], "tempo": [120.5, 98.0], "plays": [3, 4]})
        lake.storage.put_object(BUCKET, "staging/shop/tracks/part-0.parquet", _parquet(tracks))

    crawl = run_cli("crawl", TARGET, "-d", "shop", lake=root)

    with Lake.open(root, environ={}) as lake:
        lake.storage.put_object(
            BUCKET,
            "staging/shop/orders/year=2024/month=1/part-0.csv",
            b"id,customer,price,coupon\n202411,cy,3.5,SPRING\n",
        )
        _, run = lake.crawlers.crawl(TARGET, database="shop")
        assert run.status == "SUCCEEDED", run.error
        assert lake.catalog.get_table("shop", "orders").version == 2
    return Crawled(root, crawl)


def cli(crawled: Crawled, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return run_cli(*args, lake=crawled.root, check=check)


def as_json(proc: subprocess.CompletedProcess[bytes]) -> Any:
    return json.loads(proc.stdout)


def error_lines(proc: subprocess.CompletedProcess[bytes]) -> list[str]:
    """The error a user sees: exit code 1, ``error: …`` on one line, then ``hint: …``; nothing on stdout."""
    assert proc.returncode == 1, proc
    assert proc.stdout == b""
    text = proc.stderr.decode()
    assert "Traceback" not in text
    lines = text.strip().splitlines()
    assert len(lines) == 2, text
    assert lines[0].startswith("error: "), text
    assert lines[1].startswith("hint: "), text
    return lines


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the tables in rich text output, as lists of stripped cells."""
    return [[cell.strip() for cell in line.split("│")] for line in text.splitlines() if "│" in line]


# ---- crawl


def test_crawl_creates_the_tables_and_prints_what_it_did(crawled: Crawled) -> None:
    out = crawled.crawl.stdout.decode()
    assert "SUCCEEDED" in out
    assert "tables: 2 created, 0 updated" in out
    assert "partitions: 4 added" in out
    assert "files: 5 read" in out
    assert "shop.orders" in out
    assert "shop.tracks" in out
    assert crawled.crawl.returncode == 0


# ---- databases and tables


def test_databases_json_is_glues_database_list(crawled: Crawled) -> None:
    databases = as_json(cli(crawled, "catalog", "databases", "-o", "json"))["DatabaseList"]
    assert [d["Name"] for d in databases] == ["shop"]
    assert set(databases[0]) >= {"Name", "Description", "Parameters", "CreateTime", "CatalogId"}


def test_tables_text(crawled: Crawled) -> None:
    out = cli(crawled, "catalog", "tables", "shop").stdout.decode()
    assert table_rows(out) == [
        ["orders", "EXTERNAL_TABLE", "csv", "4", "year, month", "2", ORDERS],
        ["tracks", "EXTERNAL_TABLE", "parquet", "3", "", "1", "s3://lakeport/staging/shop/tracks/"],
    ]


def test_tables_json_is_glues_table_list(crawled: Crawled) -> None:
    tables = {t["Name"]: t for t in as_json(cli(crawled, "catalog", "tables", "shop", "-o", "json"))["TableList"]}
    assert sorted(tables) == ["orders", "tracks"]
    orders, tracks = tables["orders"], tables["tracks"]
    assert orders["DatabaseName"] == "shop"
    assert orders["TableType"] == "EXTERNAL_TABLE"
    assert orders["VersionId"] == "2"
    assert orders["Parameters"]["classification"] == "csv"
    assert orders["Parameters"]["skip.header.line.count"] == "1"
    assert orders["StorageDescriptor"]["Location"] == ORDERS
    assert orders["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == LAZY_SIMPLE_SERDE
    assert orders["StorageDescriptor"]["SerdeInfo"]["Parameters"]["field.delim"] == ","
    assert [k["Name"] for k in orders["PartitionKeys"]] == ["year", "month"]
    assert tracks["Parameters"]["classification"] == "parquet"
    assert tracks["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    assert tracks["StorageDescriptor"]["Columns"] == [
        {"Name": "track_id", "Type": "string"},
        {"Name": "tempo", "Type": "double"},
        {"Name": "plays", "Type": "bigint"},
    ]
    assert tracks["PartitionKeys"] == []


def test_show_text(crawled: Crawled) -> None:
    out = cli(crawled, "catalog", "show", "SHOP.Orders").stdout.decode()
    assert out.splitlines()[0] == "shop.orders (EXTERNAL_TABLE, version 2)"
    assert f"location:  {ORDERS}" in out
    assert "format:    csv, delimiter ',', header row" in out
    assert LAZY_SIMPLE_SERDE in out
    cells = table_rows(out)
    for column, kind in (("id", "bigint"), ("customer", "string"), ("price", "double"), ("coupon", "string")):
        assert [column, kind, "", ""] in cells, column
    assert ["year", "bigint", "partition key", ""] in cells
    assert ["month", "bigint", "partition key", ""] in cells
    assert ["classification", "csv"] in cells


def test_show_json_is_glues_table(crawled: Crawled) -> None:
    table = as_json(cli(crawled, "catalog", "show", "shop.tracks", "-o", "json"))["Table"]
    assert table["Name"] == "tracks"
    assert table["StorageDescriptor"]["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert table["Parameters"]["recordCount"] == "2"
    assert table["VersionId"] == "1"


def test_columns_json(crawled: Crawled) -> None:
    data = as_json(cli(crawled, "catalog", "columns", "shop.orders", "-o", "json"))
    assert data == {
        "Columns": [
            {"Name": "id", "Type": "bigint"},
            {"Name": "customer", "Type": "string"},
            {"Name": "price", "Type": "double"},
            {"Name": "coupon", "Type": "string"},
        ],
        "PartitionKeys": [{"Name": "year", "Type": "bigint"}, {"Name": "month", "Type": "bigint"}],
    }


# ---- partitions


def test_partitions_filtered_by_an_expression_text(crawled: Crawled) -> None:
    out = cli(crawled, "catalog", "partitions", "shop.orders", "-e", "year = 2023 AND month > 6").stdout.decode()
    assert "1 partitions" in out
    rows = table_rows(out)
    assert len(rows) == 1
    year, month, files, _size, _rows, location = rows[0]
    assert (year, month, files, location) == ("2023", "7", "1", f"{ORDERS}year=2023/month=7/")


def test_partitions_json_is_glues_partitions(crawled: Crawled) -> None:
    proc = cli(
        crawled, "catalog", "partitions", "shop.orders", "--expression", "month IN (1) AND year >= 2023", "-o", "json"
    )
    partitions = as_json(proc)["Partitions"]
    assert sorted(p["Values"] for p in partitions) == [["2023", "1"], ["2024", "1"]]
    first = next(p for p in partitions if p["Values"] == ["2023", "1"])
    assert first["DatabaseName"] == "shop"
    assert first["TableName"] == "orders"
    assert first["StorageDescriptor"]["Location"] == f"{ORDERS}year=2023/month=1/"
    assert first["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == LAZY_SIMPLE_SERDE
    assert first["Parameters"]["objectCount"] == "1"
    assert int(first["Parameters"]["sizeKey"]) > 0


def test_a_bad_expression_names_the_position(crawled: Crawled) -> None:
    proc = cli(crawled, "catalog", "partitions", "shop.orders", "-e", "year = 2023 AND AND", check=False)
    lines = error_lines(proc)
    assert "character 17" in lines[0]
    assert "year = 2023 AND AND" in lines[0]
    assert "expressions look like" in lines[1]


# ---- versions


def test_versions_json_lists_every_version(crawled: Crawled) -> None:
    versions = as_json(cli(crawled, "catalog", "versions", "shop.orders", "-o", "json"))["TableVersions"]
    assert [v["VersionId"] for v in versions] == ["1", "2"]
    assert [c["Name"] for c in versions[0]["Table"]["StorageDescriptor"]["Columns"]] == ["id", "customer", "price"]
    assert [c["Name"] for c in versions[1]["Table"]["StorageDescriptor"]["Columns"]][-1] == "coupon"
    assert versions[1]["Table"]["VersionId"] == "2"


def test_versions_diff_text(crawled: Crawled) -> None:
    out = cli(crawled, "catalog", "versions", "shop.orders", "--diff", "1", "2").stdout.decode()
    lines = out.splitlines()
    assert "+ column coupon: string" in lines
    assert not any(line.startswith("- column") for line in lines)


# ---- search


def test_search_json(crawled: Crawled) -> None:
    found = as_json(cli(crawled, "catalog", "search", "TEMPO", "-o", "json"))["TableList"]
    assert [(t["DatabaseName"], t["Name"]) for t in found] == [("shop", "tracks")]


# ---- errors and drop


def test_a_missing_table_is_one_error_line_with_a_hint(crawled: Crawled) -> None:
    lines = error_lines(cli(crawled, "catalog", "show", "shop.nope", check=False))
    assert lines == ["error: table shop.nope not found", "hint: list them with: lakeport catalog tables shop"]


def test_drop_tables_and_databases(crawled: Crawled) -> None:
    with Lake.open(crawled.root, environ={}) as lake:
        lake.catalog.create_database("scratch")
        for name in ("t1", "t2"):
            lake.catalog.create_table(Table("scratch", name, (Column("a", "int"),), f"s3://lakeport/scratch/{name}/"))

    assert cli(crawled, "catalog", "drop", "scratch.t1").stdout.decode().strip() == "dropped table scratch.t1"

    lines = error_lines(cli(crawled, "catalog", "drop", "scratch", check=False))
    assert lines[0] == "error: database scratch has 1 tables"
    assert "lakeport catalog drop scratch --cascade" in lines[1]

    dropped = as_json(cli(crawled, "catalog", "drop", "scratch", "--cascade", "-o", "json"))
    assert dropped == {"Dropped": "database scratch"}
    with Lake.open(crawled.root, environ={}) as lake:
        assert [d.name for d in lake.catalog.list_databases()] == ["shop"]
        assert [t.name for t in lake.catalog.list_tables("shop")] == ["orders", "tracks"]
