"""Re-crawls do only the work the changes need: Glue's incremental crawls and its three recrawl policies.

Acceptance: an unchanged file is never opened again; a changed one is re-read alone; new partition folders are
added; removed ones follow the delete policy; "new folders only" reads only new folders; "event mode" reads only
the objects named in object events after a first full crawl, and lists nothing when there are none.
"""

from __future__ import annotations

import dataclasses

import pytest

from lakeport import Lake
from tests.crawler.crawl_kit import (
    Background,
    create,
    csv_bytes,
    drop_files,
    gate,
    messages,
    put,
    put_all,
    spy_on,
    uri,
)

HEADER = ["id", "item", "amount"]


def sales_files(years: range = range(2021, 2024), per_year: int = 2) -> dict[str, bytes]:
    return {
        f"staging/sales/year={y}/part-{n}.csv": csv_bytes(HEADER, [[y * 10 + n, f"item{n}", n + 0.5]])
        for y in years
        for n in range(per_year)
    }


SALES_PATH = "s3://lakeport/staging/sales/"


def partition_values(lake: Lake, table: str = "sales") -> list[tuple[str | None, ...]]:
    return sorted(p.values for p in lake.catalog.get_partitions("db", table))


# ---- crawl everything: the object index


def test_a_recrawl_of_unchanged_data_opens_no_file(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    files = sales_files()
    put_all(lake, files)
    create(lake, "c", uri("staging/sales/", lake))
    spy = spy_on(lake, monkeypatch)

    first = lake.crawlers.start_crawler("c")
    assert first.status == "SUCCEEDED"
    assert first.summary["files_read"] == len(files)
    assert set(spy.opened) == set(files)
    table = lake.catalog.get_table("db", "sales")

    spy.reset()
    second = lake.crawlers.start_crawler("c")
    assert second.status == "SUCCEEDED"
    assert spy.opened == []
    assert second.summary["files_read"] == 0
    assert second.summary["files_listed"] == len(files)
    assert second.summary["files_unchanged"] == len(files)
    assert second.summary["tables_updated"] == 0
    assert lake.catalog.get_table("db", "sales") == table

    # one file's content changes (same size, so only its ETag tells): that file alone is read again
    changed = "staging/sales/year=2022/part-1.csv"
    new_content = files[changed].replace(b"item1", b"itemX")
    assert len(new_content) == len(files[changed])
    put(lake, changed, new_content)
    spy.reset()
    third = lake.crawlers.start_crawler("c")
    assert third.status == "SUCCEEDED"
    assert set(spy.opened) == {changed}
    assert third.summary["files_read"] == 1
    assert third.summary["files_unchanged"] == len(files) - 1
    assert lake.catalog.get_table("db", "sales").version == table.version  # same schema: no new version


def test_a_changed_schema_in_one_file_is_found_by_reading_only_that_file(
    local_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_all(local_lake, sales_files())
    create(local_lake, "c", SALES_PATH)
    local_lake.crawlers.start_crawler("c")
    spy = spy_on(local_lake, monkeypatch)
    put(local_lake, "staging/sales/year=2023/part-0.csv", csv_bytes([*HEADER, "shop"], [[1, "tea", 2.5, "oslo"]]))
    run = local_lake.crawlers.start_crawler("c")
    assert set(spy.opened) == {"staging/sales/year=2023/part-0.csv"}
    assert run.summary["tables_updated"] == 1
    table = local_lake.catalog.get_table("db", "sales")
    assert [c.name for c in table.columns] == [*HEADER, "shop"]
    assert table.version == 2


def test_new_partition_folders_are_added(local_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    put_all(local_lake, sales_files(range(2021, 2023)))
    create(local_lake, "c", SALES_PATH)
    local_lake.crawlers.start_crawler("c")
    assert partition_values(local_lake) == [("2021",), ("2022",)]

    new = sales_files(range(2023, 2025), per_year=1)
    put_all(local_lake, new)
    spy = spy_on(local_lake, monkeypatch)
    run = local_lake.crawlers.start_crawler("c")
    assert run.summary["partitions_added"] == 2
    assert run.summary["files_read"] == 2
    assert set(spy.opened) == set(new)
    assert partition_values(local_lake) == [("2021",), ("2022",), ("2023",), ("2024",)]
    added = local_lake.catalog.get_partition("db", "sales", ("2024",))
    assert added.location == uri("staging/sales/year=2024/")
    assert added.file_count == 1
    assert local_lake.catalog.get_table("db", "sales").version == 1


@pytest.mark.parametrize("delete_behavior", ["DELETE_FROM_DATABASE", "LOG"])
def test_a_removed_partition_folder_follows_the_delete_behavior(local_lake: Lake, delete_behavior: str) -> None:
    files = sales_files()
    put_all(local_lake, files)
    create(local_lake, "c", SALES_PATH, delete_behavior=delete_behavior)
    local_lake.crawlers.start_crawler("c")
    assert partition_values(local_lake) == [("2021",), ("2022",), ("2023",)]

    for key in files:
        if "year=2022/" in key:
            local_lake.storage.delete_object("lakeport", key)
    run = local_lake.crawlers.start_crawler("c")
    assert run.status == "SUCCEEDED"
    assert run.summary["files_removed"] == 2
    if delete_behavior == "DELETE_FROM_DATABASE":
        assert partition_values(local_lake) == [("2021",), ("2023",)]
        assert run.summary["partitions_removed"] == 1
        assert any("removed 1 partitions of db.sales" in m for m in messages(local_lake, run))
    else:
        assert partition_values(local_lake) == [("2021",), ("2022",), ("2023",)]
        assert run.summary["partitions_removed"] == 0
        assert any("db.sales" in m and "no files" in m for m in messages(local_lake, run, "WARN"))
    assert local_lake.catalog.get_table("db", "sales").version == 1


# ---- crawl new folders only


def test_new_folders_only_reads_only_new_folders(local_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    files = sales_files()
    put_all(local_lake, files)
    create(
        local_lake,
        "c",
        SALES_PATH,
        recrawl_behavior="CRAWL_NEW_FOLDERS_ONLY",
        update_behavior="LOG",
        delete_behavior="LOG",
    )
    first = local_lake.crawlers.start_crawler("c")
    assert first.summary["files_read"] == len(files)  # the first crawl reads everything
    assert first.mode == "CRAWL_NEW_FOLDERS_ONLY"
    table = local_lake.catalog.get_table("db", "sales")

    # a known folder changes (a rewritten file with another schema, an extra file) and a new folder appears
    put(local_lake, "staging/sales/year=2021/part-0.csv", csv_bytes([*HEADER, "shop"], [[1, "tea", 2.5, "oslo"]]))
    put(local_lake, "staging/sales/year=2022/part-9.csv", csv_bytes(HEADER, [[9, "pie", 1.5]]))
    put(local_lake, "staging/sales/year=2024/part-0.csv", csv_bytes(HEADER, [[5, "jam", 3.5]]))
    spy = spy_on(local_lake, monkeypatch)
    run = local_lake.crawlers.start_crawler("c")

    assert run.status == "SUCCEEDED"
    assert spy.opened == ["staging/sales/year=2024/part-0.csv"]
    assert run.summary["files_read"] == 1
    assert run.summary["partitions_added"] == 1
    assert partition_values(local_lake) == [("2021",), ("2022",), ("2023",), ("2024",)]
    assert local_lake.catalog.get_table("db", "sales") == table  # what exists is never changed

    # and the next crawl reads nothing at all
    spy.reset()
    again = local_lake.crawlers.start_crawler("c")
    assert spy.opened == []
    assert again.summary["files_read"] == 0
    assert again.summary["partitions_added"] == 0


# ---- event mode


def event_crawler(lake: Lake) -> None:
    create(lake, "c", SALES_PATH, recrawl_behavior="CRAWL_EVENT_MODE", delete_behavior="DELETE_FROM_DATABASE")


def test_event_mode_crawls_everything_first_then_only_the_objects_in_events(
    local_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = sales_files()
    put_all(local_lake, files)
    event_crawler(local_lake)
    spy = spy_on(local_lake, monkeypatch)

    first = local_lake.crawlers.start_crawler("c")
    assert first.mode == "CRAWL_EVENT_MODE"
    assert first.summary["files_listed"] == len(files)
    assert first.summary["files_read"] == len(files)
    assert spy.listings >= 1
    assert partition_values(local_lake) == [("2021",), ("2022",), ("2023",)]

    # one new object through the storage service (an event), one event outside the include path, and one
    # file copied into the folder by hand (no event: event mode does not see it)
    put(local_lake, "staging/sales/year=2024/part-0.csv", csv_bytes(HEADER, [[5, "jam", 3.5]]))
    put(local_lake, "staging/elsewhere/x.csv", csv_bytes(["a"], [[1]]))
    drop_files(local_lake, {"staging/sales/year=2025/part-0.csv": csv_bytes(HEADER, [[6, "pie", 1.0]])})
    spy.reset()
    second = local_lake.crawlers.start_crawler("c")
    assert second.status == "SUCCEEDED"
    assert spy.opened == ["staging/sales/year=2024/part-0.csv"]
    assert spy.listings == 0
    assert second.summary["files_listed"] == 1
    assert second.summary["files_read"] == 1
    assert second.summary["partitions_added"] == 1
    assert partition_values(local_lake) == [("2021",), ("2022",), ("2023",), ("2024",)]

    # no new event: nothing listed, nothing read, nothing changed
    spy.reset()
    idle = local_lake.crawlers.start_crawler("c")
    assert idle.status == "SUCCEEDED"
    assert spy.opened == []
    assert spy.listings == 0
    assert idle.summary["files_listed"] == 0
    assert idle.summary["files_read"] == 0
    assert partition_values(local_lake) == [("2021",), ("2022",), ("2023",), ("2024",)]

    # an object rewritten with a new column: read again, the table updated
    put(local_lake, "staging/sales/year=2021/part-0.csv", csv_bytes([*HEADER, "shop"], [[1, "tea", 2.5, "oslo"]]))
    spy.reset()
    rewritten = local_lake.crawlers.start_crawler("c")
    assert spy.opened == ["staging/sales/year=2021/part-0.csv"]
    assert rewritten.summary["tables_updated"] == 1
    assert "shop" in [c.name for c in local_lake.catalog.get_table("db", "sales").columns]


def test_event_mode_drops_deleted_objects(local_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    files = sales_files()
    put_all(local_lake, files)
    event_crawler(local_lake)
    local_lake.crawlers.start_crawler("c")

    for key in files:
        if "year=2023/" in key:
            local_lake.storage.delete_object("lakeport", key)
    spy = spy_on(local_lake, monkeypatch)
    run = local_lake.crawlers.start_crawler("c")
    assert run.status == "SUCCEEDED"
    assert spy.opened == []
    assert spy.listings == 0
    assert run.summary["files_listed"] == 2
    assert run.summary["files_removed"] == 2
    assert run.summary["partitions_removed"] == 1
    assert partition_values(local_lake) == [("2021",), ("2022",)]

    # every file gone: the table goes too (delete behavior DELETE_FROM_DATABASE)
    for key in files:
        local_lake.storage.delete_object("lakeport", key)
    run = local_lake.crawlers.start_crawler("c")
    assert run.summary["tables_deleted"] == 1
    assert local_lake.catalog.list_tables("db") == []


def test_event_mode_after_a_cancelled_first_crawl_still_crawls_everything(local_lake: Lake) -> None:
    files = sales_files()
    put_all(local_lake, files)
    held = gate("hold-event-first")
    create(local_lake, "c", SALES_PATH, recrawl_behavior="CRAWL_EVENT_MODE", classifiers=(held.name,))
    crawl = Background(local_lake, "c")
    crawl.start()
    try:
        assert held.entered.wait(20)
        local_lake.crawlers.stop_crawler("c")
    finally:
        held.release()
    assert crawl.result().status == "CANCELLED"

    definition = local_lake.crawlers.get_crawler("c").definition
    local_lake.crawlers.update_crawler(dataclasses.replace(definition, classifiers=()))
    run = local_lake.crawlers.start_crawler("c")
    assert run.summary["files_listed"] == len(files)
    assert run.summary["files_read"] == len(files)
    assert partition_values(local_lake) == [("2021",), ("2022",), ("2023",)]


def test_changing_how_files_are_read_makes_the_next_crawl_read_them_again(local_lake: Lake) -> None:
    lake = local_lake
    put(lake, "staging/names/a.csv", b"first,last\nada,lovelace\ngrace,hopper\n")
    definition = create(lake, "c", "s3://lakeport/staging/names/")
    lake.crawlers.start_crawler("c")
    assert [c.name for c in lake.catalog.get_table("db", "names").columns] == ["first", "last"]

    lake.crawlers.update_crawler(dataclasses.replace(definition, csv_header="absent"))
    run = lake.crawlers.start_crawler("c")
    assert run.summary["files_read"] == 1
    assert [c.name for c in lake.catalog.get_table("db", "names").columns] == ["col0", "col1"]

    lake.crawlers.update_crawler(dataclasses.replace(definition, csv_header="absent", description="same reading"))
    assert lake.crawlers.start_crawler("c").summary["files_read"] == 0
