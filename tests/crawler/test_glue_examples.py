"""The examples of AWS Glue's documentation on how crawlers group files into tables and partitions.

From "How does a crawler determine when to create partitions?" and "Creating a single schema for each Amazon S3
include path" in the Glue developer guide: the documented inputs, and the tables the documentation says a crawler
makes of them.
"""

from __future__ import annotations

import json

from lakeport import Lake
from tests.crawler.crawl_kit import create, put


def json_line(record: dict[str, object]) -> bytes:
    return (json.dumps(record) + "\n").encode()


def tables(lake: Lake) -> dict[str, tuple[list[str], list[tuple[str, str]]]]:
    """``name → (columns, partition keys with types)`` of database ``db``."""
    return {
        t.name: ([c.name for c in t.columns], [(k.name, k.type) for k in t.partition_keys])
        for t in lake.catalog.list_tables("db")
    }


def test_sales_by_year_month_day_is_one_table_with_three_partition_keys(local_lake: Lake) -> None:
    for month in ("Jan", "Feb"):
        for day in ("1", "2"):
            for n in range(2):
                put(
                    local_lake,
                    f"sales/year=2019/month={month}/day={day}/f{n}.json",
                    json_line({"id": n, "amount": 1.5}),
                )
    create(local_lake, "c", "s3://lakeport/sales/")
    assert local_lake.crawlers.start_crawler("c").status == "SUCCEEDED"
    assert tables(local_lake) == {
        "sales": (["id", "amount"], [("year", "bigint"), ("month", "string"), ("day", "bigint")])
    }
    values = {p.values for p in local_lake.catalog.get_partitions("db", "sales")}
    assert values == {("2019", m, d) for m in ("Jan", "Feb") for d in ("1", "2")}


def test_similar_table_folders_under_one_include_path_become_partition_keys(local_lake: Lake) -> None:
    layout = {"table1": ("partition1", "partition2", "partition3"), "table2": ("partition4", "partition5")}
    for folder, parts in layout.items():
        for part in parts:
            put(local_lake, f"folder1/{folder}/{part}/file.json", json_line({"a": 1, "b": "x"}))
    create(local_lake, "c", "s3://lakeport/folder1/")
    assert local_lake.crawlers.start_crawler("c").status == "SUCCEEDED"
    assert tables(local_lake) == {"folder1": (["a", "b"], [("partition_0", "string"), ("partition_1", "string")])}
    values = {p.values for p in local_lake.catalog.get_partitions("db", "folder1")}
    assert values == {(folder, part) for folder, parts in layout.items() for part in parts}


def test_one_include_path_per_table_makes_separate_tables(local_lake: Lake) -> None:
    """The documentation's remedy: each table's root folder as its own data store."""
    for folder, parts in {"table1": ("partition1", "partition2"), "table2": ("partition4",)}.items():
        for part in parts:
            put(local_lake, f"folder1/{folder}/{part}/file.json", json_line({"a": 1, "b": "x"}))
    create(local_lake, "c", "s3://lakeport/folder1/table1/", "s3://lakeport/folder1/table2/")
    assert local_lake.crawlers.start_crawler("c").status == "SUCCEEDED"
    assert tables(local_lake) == {
        "table1": (["a", "b"], [("partition_0", "string")]),
        "table2": (["a", "b"], [("partition_0", "string")]),
    }


def _dissimilar_years(lake: Lake) -> None:
    put(lake, "table1/year=2017/data1.json", json_line({"A": 1, "B": 2}))
    put(lake, "table1/year=2018/data2.json", json_line({"C": 3, "D": 4}))


def test_dissimilar_partition_folders_become_a_table_each(local_lake: Lake) -> None:
    _dissimilar_years(local_lake)
    create(local_lake, "c", "s3://lakeport/table1/")
    assert local_lake.crawlers.start_crawler("c").status == "SUCCEEDED"
    assert tables(local_lake) == {"year_2017": (["a", "b"], []), "year_2018": (["c", "d"], [])}


def test_combine_compatible_schemas_makes_one_table_with_every_column(local_lake: Lake) -> None:
    _dissimilar_years(local_lake)
    create(local_lake, "c", "s3://lakeport/table1/", combine_compatible_schemas=True, partition_types="string")
    assert local_lake.crawlers.start_crawler("c").status == "SUCCEEDED"
    assert tables(local_lake) == {"table1": (["a", "b", "c", "d"], [("year", "string")])}
