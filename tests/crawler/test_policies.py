"""Glue's schema-change and delete policies, and what a crawler must never take from a person.

Acceptance: a new column becomes table version 2 under UPDATE_IN_DATABASE and only a WARN under LOG (new
partitions are added either way); a table whose files are all gone is deleted, deprecated or kept as the delete
behavior says; comments and descriptions people wrote survive re-crawls; table names get the crawler's prefix,
and a name taken by a table elsewhere gets a short hash of the location.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

import pytest

from lakeport import Lake
from lakeport.catalog.model import Column, Table
from lakeport.catalog.versions import Change
from tests.crawler.crawl_kit import create, csv_bytes, messages, put, put_all, snapshot, uri

HEADER = ["id", "item", "amount"]
SALES_PATH = "s3://lakeport/staging/sales/"
SALES = {
    "staging/sales/year=2023/a.csv": csv_bytes(HEADER, [[1, "tea", 2.5], [2, "cake", 4.0]]),
    "staging/sales/year=2024/b.csv": csv_bytes(HEADER, [[3, "tea", 2.5]]),
}
WITH_SHOP = csv_bytes([*HEADER, "shop"], [[4, "pie", 3.0, "oslo"]])


def crawled(lake: Lake, **options: str) -> Table:
    put_all(lake, SALES)
    create(lake, "c", SALES_PATH, **options)
    assert lake.crawlers.start_crawler("c").status == "SUCCEEDED"
    return lake.catalog.get_table("db", "sales")


def partition_values(lake: Lake) -> list[tuple[str | None, ...]]:
    return sorted(p.values for p in lake.catalog.get_partitions("db", "sales"))


# ---- schema changes


def test_a_new_column_under_update_in_database_makes_version_2(local_lake: Lake) -> None:
    first = crawled(local_lake)
    assert first.version == 1
    assert [c.name for c in first.columns] == HEADER
    put(local_lake, "staging/sales/year=2025/c.csv", WITH_SHOP)

    run = local_lake.crawlers.start_crawler("c")
    assert run.summary["tables_updated"] == 1
    assert run.summary["partitions_added"] == 1
    assert run.summary["schema_changes_logged"] == 0
    table = local_lake.catalog.get_table("db", "sales")
    assert table.version == 2
    assert [(c.name, c.type) for c in table.columns] == [
        ("id", "bigint"),
        ("item", "string"),
        ("amount", "double"),
        ("shop", "string"),
    ]
    assert [v.version for v in local_lake.catalog.table_versions("db", "sales")] == [1, 2]
    changes = local_lake.catalog.diff_versions("db", "sales", 1, 2)
    assert Change("added", "column shop", new="string") in changes
    assert not [c for c in changes if c.item.startswith("column ") and c.item != "column shop"]
    assert partition_values(local_lake) == [("2023",), ("2024",), ("2025",)]
    assert any("updated table db.sales to version 2" in m and "shop" in m for m in messages(local_lake, run))

    # the same data again: no version 3
    assert local_lake.crawlers.start_crawler("c").summary["tables_updated"] == 0
    assert local_lake.catalog.get_table("db", "sales").version == 2


def test_a_new_column_under_log_is_only_logged_but_its_partition_is_added(local_lake: Lake) -> None:
    first = crawled(local_lake, update_behavior="LOG")
    put(local_lake, "staging/sales/year=2025/c.csv", WITH_SHOP)

    run = local_lake.crawlers.start_crawler("c")
    assert run.status == "SUCCEEDED"
    assert run.summary["schema_changes_logged"] == 1
    assert run.summary["tables_updated"] == 0
    table = local_lake.catalog.get_table("db", "sales")
    assert table == first
    assert table.version == 1
    assert [v.version for v in local_lake.catalog.table_versions("db", "sales")] == [1]
    warned = messages(local_lake, run, "WARN")
    assert any("schema change in db.sales" in m and "shop" in m and "LOG" in m for m in warned)
    # new partitions are always added, whatever the update behavior
    assert run.summary["partitions_added"] == 1
    assert partition_values(local_lake) == [("2023",), ("2024",), ("2025",)]


# ---- all files of a table gone


@pytest.mark.parametrize("delete_behavior", ["DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE", "LOG"])
def test_a_table_whose_files_are_gone_follows_the_delete_behavior(local_lake: Lake, delete_behavior: str) -> None:
    crawled(local_lake, delete_behavior=delete_behavior)
    before = snapshot(local_lake)
    for key in SALES:
        local_lake.storage.delete_object("lakeport", key)

    run = local_lake.crawlers.start_crawler("c")
    assert run.status == "SUCCEEDED"
    assert run.summary["files_removed"] == len(SALES)
    if delete_behavior == "DELETE_FROM_DATABASE":
        assert local_lake.catalog.list_tables("db") == []
        assert run.summary["tables_deleted"] == 1
        assert any("deleted table db.sales" in m for m in messages(local_lake, run))
    elif delete_behavior == "DEPRECATE_IN_DATABASE":
        table = local_lake.catalog.get_table("db", "sales")
        assert "DEPRECATED_BY_CRAWLER" in table.parameters
        assert run.summary["tables_deprecated"] == 1
        assert [c.name for c in table.columns] == HEADER
        assert partition_values(local_lake) == [("2023",), ("2024",)]
        # deprecated once, not again on every crawl
        again = local_lake.crawlers.start_crawler("c")
        assert again.summary["tables_deprecated"] == 0
        assert local_lake.catalog.get_table("db", "sales") == table
        # the files come back: the mark goes
        put_all(local_lake, SALES)
        local_lake.crawlers.start_crawler("c")
        assert "DEPRECATED_BY_CRAWLER" not in local_lake.catalog.get_table("db", "sales").parameters
    else:
        assert snapshot(local_lake) == before
        assert run.summary["tables_deleted"] == run.summary["tables_deprecated"] == 0
        assert any("db.sales" in m and "gone" in m for m in messages(local_lake, run, "WARN"))


def test_a_crawler_never_deletes_tables_it_did_not_make(local_lake: Lake) -> None:
    crawled(local_lake)  # crawler c made db.sales
    local_lake.catalog.create_table(Table("db", "handmade", (Column("x", "int"),), location=uri("staging/hand/")))
    before = snapshot(local_lake)
    for key in SALES:
        local_lake.storage.delete_object("lakeport", key)
    put(local_lake, "staging/stores/s.csv", csv_bytes(["shop", "city"], [["oslo", "Oslo"]]))

    # another crawler over the whole area, deleting what is gone: only its own tables are its business
    create(local_lake, "other", "s3://lakeport/staging/", delete_behavior="DELETE_FROM_DATABASE", table_level=3)
    run = local_lake.crawlers.start_crawler("other")
    assert run.status == "SUCCEEDED"
    assert run.summary["tables_created"] == 1
    assert run.summary["tables_deleted"] == 0
    after = snapshot(local_lake)
    assert after.pop("db.stores")
    assert after == before

    # the crawler that made db.sales deprecates it (its delete behavior, the default)
    assert local_lake.crawlers.start_crawler("c").summary["tables_deprecated"] == 1
    assert "DEPRECATED_BY_CRAWLER" in local_lake.catalog.get_table("db", "sales").parameters


# ---- what people wrote


def test_a_column_comment_and_description_set_by_a_person_survive_recrawls(local_lake: Lake) -> None:
    table = crawled(local_lake)
    edited = local_lake.catalog.update_table(
        table.with_changes(
            columns=tuple(
                dataclasses.replace(c, comment="price in EUR") if c.name == "amount" else c for c in table.columns
            ),
            description="sales per year",
            parameters={**table.parameters, "owner_team": "finance"},
        )
    )

    unchanged = local_lake.crawlers.start_crawler("c")
    assert unchanged.summary["tables_updated"] == 0
    assert local_lake.catalog.get_table("db", "sales") == edited

    put(local_lake, "staging/sales/year=2025/c.csv", WITH_SHOP)
    local_lake.crawlers.start_crawler("c")
    after = local_lake.catalog.get_table("db", "sales")
    assert after.version == edited.version + 1
    assert [c.name for c in after.columns] == [*HEADER, "shop"]
    amount = after.column("amount")
    assert amount is not None
    assert amount.comment == "price in EUR"
    assert after.description == "sales per year"
    assert after.parameters["owner_team"] == "finance"


def test_a_partition_key_comment_set_by_a_person_survives_a_recrawl(local_lake: Lake) -> None:
    table = crawled(local_lake)
    edited = local_lake.catalog.update_table(
        table.with_changes(partition_keys=(Column("year", "bigint", "the sale's calendar year"),))
    )
    run = local_lake.crawlers.start_crawler("c")
    assert run.summary["tables_updated"] == 0
    after = local_lake.catalog.get_table("db", "sales")
    assert after.partition_keys == edited.partition_keys
    assert after.version == edited.version


# ---- names


def test_the_table_prefix_is_applied(local_lake: Lake) -> None:
    put_all(local_lake, SALES)
    create(local_lake, "c", SALES_PATH, table_prefix="raw_")
    run = local_lake.crawlers.start_crawler("c")
    assert run.summary["tables"] == ["db.raw_sales"]
    assert [t.name for t in local_lake.catalog.list_tables("db")] == ["raw_sales"]

    # a table is matched by its location: changing the prefix later does not rename or duplicate it
    definition = local_lake.crawlers.get_crawler("c").definition
    local_lake.crawlers.update_crawler(dataclasses.replace(definition, table_prefix="new_"))
    local_lake.crawlers.start_crawler("c")
    assert [t.name for t in local_lake.catalog.list_tables("db")] == ["raw_sales"]


def test_a_name_taken_by_a_table_elsewhere_gets_a_hash_suffix(local_lake: Lake) -> None:
    local_lake.catalog.create_database("db")
    theirs = local_lake.catalog.create_table(
        Table("db", "sales", (Column("x", "string"),), location="s3://lakeport/warehouse/sales/")
    )
    put_all(local_lake, SALES)
    create(local_lake, "c", SALES_PATH)
    run = local_lake.crawlers.start_crawler("c")

    suffix = hashlib.sha1(SALES_PATH.encode()).hexdigest()[:8]
    assert run.summary["tables"] == [f"db.sales_{suffix}"]
    names = sorted(t.name for t in local_lake.catalog.list_tables("db"))
    assert names == ["sales", f"sales_{suffix}"]
    assert re.fullmatch(r"sales_[0-9a-f]{8}", names[1])
    assert local_lake.catalog.get_table("db", "sales") == theirs
    mine = local_lake.catalog.get_table("db", names[1])
    assert mine.location == SALES_PATH
    assert [c.name for c in mine.columns] == HEADER

    # stable: the next crawl finds its table by location
    put(local_lake, "staging/sales/year=2025/c.csv", csv_bytes(HEADER, [[9, "jam", 1.0]]))
    again = local_lake.crawlers.start_crawler("c")
    assert again.summary["tables"] == [f"db.sales_{suffix}"]
    assert again.summary["tables_created"] == 0
    assert sorted(t.name for t in local_lake.catalog.list_tables("db")) == names


def test_two_folders_with_the_same_table_name_in_one_crawl_get_distinct_names(local_lake: Lake) -> None:
    put(local_lake, "staging/a/sales/x.csv", csv_bytes(["id", "amount"], [[1, 2.5]]))
    put(local_lake, "staging/b/sales/y.json", b'{"name": "x", "ok": true}\n')
    create(local_lake, "c", "s3://lakeport/staging/a/sales/", "s3://lakeport/staging/b/sales/")
    run = local_lake.crawlers.start_crawler("c")
    tables = {t.location: t.name for t in local_lake.catalog.list_tables("db")}
    assert set(tables) == {uri("staging/a/sales/"), uri("staging/b/sales/")}
    assert len(set(tables.values())) == 2
    assert tables[uri("staging/a/sales/")] == "sales"  # the first in location order keeps the plain name
    assert re.fullmatch(r"sales_[0-9a-f]{8}", tables[uri("staging/b/sales/")])
    assert sorted(run.summary["tables"]) == sorted(f"db.{n}" for n in tables.values())
