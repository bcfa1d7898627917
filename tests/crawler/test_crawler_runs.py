"""Crawlers as Glue has them: definitions, states READY → RUNNING → STOPPING → READY, runs, stop, background.

Acceptance: a definition Glue refuses is refused naming the field; a crawler runs one crawl at a time (a second
start gets ``CrawlerRunningException``); a stopped crawl ends CANCELLED with the catalog exactly as before; a
background start returns a RUNNING run at once and a worker process finishes it.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from lakeport import Lake
from lakeport.crawler import (
    CrawlerDefinition,
    CrawlerNotFound,
    CrawlerNotRunningException,
    CrawlerRunningException,
    CrawlerStoppingException,
)
from lakeport.crawler.classifiers import _CUSTOM, ClassifierOptions, FileShape, register_classifier
from lakeport.crawler.sampling import Sample
from lakeport.errors import AlreadyExists, InvalidInput
from tests.crawler.crawl_kit import (
    Background,
    crawler_state,
    create,
    csv_bytes,
    drop_files,
    gate,
    many_csv_files,
    messages,
    put,
    put_all,
    snapshot,
    uri,
    wait_until_finished,
)

SALES = {
    "staging/sales/year=2023/a.csv": csv_bytes(["id", "item", "amount"], [[1, "tea", 2.5], [2, "cake", 4.0]]),
    "staging/sales/year=2024/b.csv": csv_bytes(["id", "item", "amount"], [[3, "tea", 2.5]]),
}


SALES_PATH = "s3://lakeport/staging/sales/"


@pytest.fixture
def sales(local_lake: Lake) -> Lake:
    put_all(local_lake, SALES)
    return local_lake


# ---- definitions


def test_create_get_list_update_delete(local_lake: Lake) -> None:
    lake = local_lake
    info = lake.crawlers.create_crawler(
        CrawlerDefinition(
            name="sales",
            targets=("s3://lakeport/staging/sales",),
            database="DB",
            update_behavior="log",
            delete_behavior="delete",
        )
    )
    assert info.state == "READY"
    assert info.version == 1
    assert info.last_crawl is None
    assert info.current_run is None
    # normalized as Glue stores it: the include path is a folder, names lower-case, policies spelled out
    assert info.definition.targets == ("s3://lakeport/staging/sales/",)
    assert info.definition.database == "db"
    assert info.definition.update_behavior == "LOG"
    assert info.definition.delete_behavior == "DELETE_FROM_DATABASE"
    assert lake.crawlers.get_crawler("sales") == info

    create(lake, "another", "s3://lakeport/staging/other/")
    assert [c.name for c in lake.crawlers.list_crawlers()] == ["another", "sales"]

    changed = lake.crawlers.update_crawler(
        CrawlerDefinition(name="sales", targets=("s3://lakeport/staging/sales/",), database="db", table_prefix="raw_")
    )
    assert changed.version == 2
    assert changed.definition.table_prefix == "raw_"
    assert changed.definition.update_behavior == "UPDATE_IN_DATABASE"  # what the new definition says
    assert changed.updated_at >= info.updated_at
    assert changed.created_at == info.created_at

    lake.crawlers.delete_crawler("sales")
    with pytest.raises(CrawlerNotFound) as caught:
        lake.crawlers.get_crawler("sales")
    assert caught.value.code == "EntityNotFoundException"
    assert [c.name for c in lake.crawlers.list_crawlers()] == ["another"]


def test_unknown_crawler_is_entity_not_found(local_lake: Lake) -> None:
    definition = CrawlerDefinition(name="ghost", targets=("s3://lakeport/x/",), database="db")
    for call in (
        lambda: local_lake.crawlers.get_crawler("ghost"),
        lambda: local_lake.crawlers.update_crawler(definition),
        lambda: local_lake.crawlers.delete_crawler("ghost"),
        lambda: local_lake.crawlers.start_crawler("ghost"),
        lambda: local_lake.crawlers.stop_crawler("ghost"),
        lambda: local_lake.crawlers.list_runs("ghost"),
    ):
        with pytest.raises(CrawlerNotFound) as caught:
            call()
        assert caught.value.code == "EntityNotFoundException"
        assert "ghost" in caught.value.message


BAD_DEFINITIONS: list[tuple[dict[str, Any], str]] = [
    ({"name": "bad name!"}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"targets": ()}, "no targets"),
    ({"targets": ("http://example.com/data/",)}, "target"),
    ({"database": "bad db!"}, "database"),
    ({"update_behavior": "REPLACE"}, "update behavior"),
    ({"delete_behavior": "DROP"}, "delete behavior"),
    ({"recrawl_behavior": "SOMETIMES"}, "recrawl behavior"),
    # Glue: "new folders only" needs both policies LOG
    ({"recrawl_behavior": "CRAWL_NEW_FOLDERS_ONLY"}, "update and delete behavior LOG"),
    ({"recrawl_behavior": "CRAWL_NEW_FOLDERS_ONLY", "update_behavior": "LOG"}, "update and delete behavior LOG"),
    ({"recrawl_behavior": "CRAWL_NEW_FOLDERS_ONLY", "delete_behavior": "LOG"}, "update and delete behavior LOG"),
    ({"exclusions": ("{a,b",)}, "exclusion pattern"),
    ({"exclusions": ("[z-a].csv",)}, "exclusion pattern"),
    ({"table_prefix": "raw-"}, "table prefix"),
    ({"table_level": 0}, "table level"),
    ({"csv_header": "maybe"}, "csv header"),
    ({"csv_delimiter": ";;"}, "csv delimiter"),
    ({"sample_bytes": 10}, "sample size"),
]


@pytest.mark.parametrize(("change", "named"), BAD_DEFINITIONS, ids=[f"{next(iter(c))}-{n}" for c, n in BAD_DEFINITIONS])
def test_invalid_definitions_are_refused_naming_the_field(local_lake: Lake, change: dict[str, Any], named: str) -> None:
    fields: dict[str, Any] = {"name": "c", "targets": ("s3://lakeport/staging/",), "database": "db", **change}
    with pytest.raises(InvalidInput) as caught:
        local_lake.crawlers.create_crawler(CrawlerDefinition(**fields))
    assert named in caught.value.message
    assert caught.value.code == "InvalidInputException"
    assert local_lake.crawlers.list_crawlers() == []

    # an update is checked the same way and leaves the crawler as it was
    good = create(local_lake, "keep", "s3://lakeport/staging/")
    with pytest.raises(InvalidInput) as again:
        local_lake.crawlers.update_crawler(
            CrawlerDefinition(**fields if "name" in change else {**fields, "name": "keep"})
        )
    assert named in again.value.message
    kept = local_lake.crawlers.get_crawler("keep")
    assert kept.version == 1
    assert kept.definition == good.checked()


def test_new_folders_only_with_log_policies_is_accepted(local_lake: Lake) -> None:
    info = create(
        local_lake,
        "c",
        "s3://lakeport/staging/",
        recrawl_behavior="new-folders-only",
        update_behavior="LOG",
        delete_behavior="log",
    )
    assert info.checked().recrawl_behavior == "CRAWL_NEW_FOLDERS_ONLY"
    glue = local_lake.crawlers.get_crawler("c").to_glue()
    assert glue["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
    assert glue["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}


def test_a_second_crawler_with_the_same_name_is_already_exists(local_lake: Lake) -> None:
    create(local_lake, "c", "s3://lakeport/staging/a/")
    with pytest.raises(AlreadyExists) as caught:
        create(local_lake, "c", "s3://lakeport/staging/b/", database="other")
    assert caught.value.code == "AlreadyExistsException"
    assert "c" in caught.value.message
    kept = local_lake.crawlers.get_crawler("c")
    assert kept.definition.targets == ("s3://lakeport/staging/a/",)
    assert kept.definition.database == "db"


def test_deleting_a_crawler_keeps_its_tables(sales: Lake) -> None:
    create(sales, "c", SALES_PATH)
    assert sales.crawlers.start_crawler("c").status == "SUCCEEDED"
    before = snapshot(sales)
    assert "db.sales" in before
    sales.crawlers.delete_crawler("c")
    assert snapshot(sales) == before
    # the name is free again, with a fresh history
    create(sales, "c", SALES_PATH)
    assert sales.crawlers.list_runs("c") == []


# ---- one crawl, its record and its log


def test_a_successful_crawl_records_state_times_summary_and_log(sales: Lake) -> None:
    create(sales, "c", SALES_PATH)
    run = sales.crawlers.start_crawler("c")

    assert run.status == "SUCCEEDED"
    assert run.error is None
    assert run.mode == "CRAWL_EVERYTHING"
    assert run.ended_at is not None
    assert run.started_at <= run.ended_at
    assert run.seconds is not None
    assert run.seconds >= 0
    summary = run.summary
    assert summary["files_listed"] == 2
    assert summary["files_read"] == 2
    assert summary["files_unchanged"] == 0
    assert summary["tables_created"] == 1
    assert summary["partitions_added"] == 2
    assert summary["tables"] == ["db.sales"]

    info = sales.crawlers.get_crawler("c")
    assert info.state == "READY"
    assert info.current_run is None
    assert info.last_crawl == run
    assert sales.crawlers.get_run(run.id) == run
    assert sales.crawlers.list_runs("c") == [run]

    assert run.log_group == "/lakeport/crawlers/c"
    assert run.log_stream == run.id
    logged = messages(sales, run)
    assert logged[0].startswith(f"crawl {run.id} started (CRAWL_EVERYTHING) on s3://lakeport/staging/")
    assert any(m.startswith("created table db.sales at s3://lakeport/staging/sales/") for m in logged)
    assert logged[-1].startswith(f"crawl {run.id} SUCCEEDED")
    assert "1 tables created" in logged[-1]
    assert "2 partitions added" in logged[-1]

    glue = info.to_glue()
    assert glue["Name"] == "c"
    assert glue["State"] == "READY"
    assert glue["LastCrawl"]["Status"] == "SUCCEEDED"
    assert glue["LastCrawl"]["LogGroup"] == "/lakeport/crawlers/c"
    assert glue["LastCrawl"]["LogStream"] == run.id
    assert glue["LastCrawl"]["ErrorMessage"] is None
    assert glue["LastCrawl"]["StartTime"] == run.to_dict()["started_at"]
    assert isinstance(glue.get("CrawlElapsedTime", 0), int)
    assert glue.get("CrawlElapsedTime", 0) >= 0
    history = run.to_glue()
    assert history["CrawlId"] == run.id
    assert history["State"] == "COMPLETED"  # ListCrawls' name for a successful crawl

    second = sales.crawlers.start_crawler("c")
    assert [r.id for r in sales.crawlers.list_runs("c")] == [second.id, run.id]
    assert sales.crawlers.get_crawler("c").last_crawl == second


def test_a_crawl_of_a_missing_bucket_succeeds_with_a_warning(local_lake: Lake) -> None:
    create(local_lake, "c", "s3://no-such-bucket/data/")
    run = local_lake.crawlers.start_crawler("c")
    assert run.status == "SUCCEEDED"
    assert run.summary["files_listed"] == 0
    warned = messages(local_lake, run, "WARN")
    assert any("no-such-bucket" in m and "does not exist" in m for m in warned)


def test_an_unknown_custom_classifier_is_refused_when_the_crawler_is_defined(sales: Lake) -> None:
    with pytest.raises(InvalidInput) as info:
        create(sales, "c", "s3://lakeport/staging/", classifiers=("no-such-classifier",))
    assert "no-such-classifier" in info.value.message
    assert [c.name for c in sales.crawlers.list_crawlers()] == []


def test_a_classifier_that_disappears_fails_the_run_and_leaves_the_crawler_ready(sales: Lake) -> None:
    """A crawler whose custom classifier is no longer registered (its plugin was uninstalled) fails cleanly."""
    register_classifier(_NamedOnly("short-lived"))
    create(sales, "c", "s3://lakeport/staging/", classifiers=("short-lived",))
    _CUSTOM.pop("short-lived")
    run = sales.crawlers.start_crawler("c")
    assert run.status == "FAILED"
    assert run.error is not None
    assert "short-lived" in run.error
    assert crawler_state(sales, "c") == ("READY", None)
    assert all(r.status != "RUNNING" for r in sales.crawlers.list_runs("c"))


class _NamedOnly:
    """A custom classifier that never claims a file."""

    def __init__(self, name: str) -> None:
        self.name = name

    def classify(self, sample: Sample, options: ClassifierOptions) -> FileShape | None:
        return None


# ---- one crawl at a time


def test_a_second_start_while_running_is_crawler_running_exception(sales: Lake) -> None:
    held = gate("hold-double-start")
    create(sales, "c", "s3://lakeport/staging/", classifiers=(held.name,))
    crawl = Background(sales, "c")
    crawl.start()
    try:
        assert held.entered.wait(20), "the crawl never reached its classifier"
        info = sales.crawlers.get_crawler("c")
        assert info.state == "RUNNING"
        assert info.current_run is not None
        assert info.current_run.status == "RUNNING"
        assert info.to_glue()["State"] == "RUNNING"
        assert info.last_crawl is None  # Glue's LastCrawl is the last finished crawl
        with pytest.raises(CrawlerRunningException) as caught:
            sales.crawlers.start_crawler("c")
        assert caught.value.code == "CrawlerRunningException"
        with pytest.raises(CrawlerRunningException):
            sales.crawlers.start_crawler("c", wait=False)
        # a running crawler cannot be changed or deleted either
        with pytest.raises(CrawlerRunningException):
            sales.crawlers.update_crawler(info.definition)
        with pytest.raises(CrawlerRunningException):
            sales.crawlers.delete_crawler("c")
    finally:
        held.release()
    run = crawl.result()
    assert run.status == "SUCCEEDED"
    assert [r.id for r in sales.crawlers.list_runs("c")] == [run.id]  # the refused starts left no run
    assert sales.crawlers.get_crawler("c").state == "READY"


def test_crawl_elapsed_time_of_a_running_crawler_counts_from_its_start(sales: Lake) -> None:
    # Glue: "If the crawler is running, contains the total time elapsed since the last crawl began."
    create(sales, "c", SALES_PATH)
    sales.crawlers.start_crawler("c")  # a short first crawl
    held = gate("hold-elapsed")
    definition = sales.crawlers.get_crawler("c").definition
    sales.crawlers.update_crawler(dataclasses.replace(definition, classifiers=(held.name,)))
    put(sales, "staging/sales/year=2025/c.csv", csv_bytes(["id", "item", "amount"], [[9, "jam", 1.0]]))
    crawl = Background(sales, "c")
    crawl.start()
    try:
        assert held.entered.wait(20)
        time.sleep(1.0)
        glue = sales.crawlers.get_crawler("c").to_glue()
    finally:
        held.release()
    crawl.result()
    assert glue["State"] == "RUNNING"
    assert glue.get("CrawlElapsedTime", 0) >= 900


def test_a_second_start_while_a_background_crawl_runs_is_refused(local_lake: Lake) -> None:
    drop_files(local_lake, many_csv_files("staging/big/", 600))
    create(local_lake, "c", "s3://lakeport/staging/")
    first = local_lake.crawlers.start_crawler("c", wait=False)
    with pytest.raises(CrawlerRunningException) as caught:
        local_lake.crawlers.start_crawler("c")
    assert caught.value.code == "CrawlerRunningException"
    assert wait_until_finished(local_lake, first.id).status == "SUCCEEDED"
    assert local_lake.crawlers.start_crawler("c").status == "SUCCEEDED"


def test_stopping_a_ready_crawler_is_crawler_not_running_exception(sales: Lake) -> None:
    create(sales, "c", SALES_PATH)
    with pytest.raises(CrawlerNotRunningException) as caught:
        sales.crawlers.stop_crawler("c")
    assert caught.value.code == "CrawlerNotRunningException"
    sales.crawlers.start_crawler("c")
    with pytest.raises(CrawlerNotRunningException):
        sales.crawlers.stop_crawler("c")
    assert sales.crawlers.get_crawler("c").state == "READY"


# ---- stop


def test_stopping_a_running_crawl_cancels_it_and_leaves_the_catalog_as_it_was(sales: Lake) -> None:
    create(sales, "c", SALES_PATH, "s3://lakeport/staging/stores/")
    first = sales.crawlers.start_crawler("c")
    assert first.status == "SUCCEEDED"
    # what the next crawl would change: a new column, a new partition, a new table, a removed partition
    put(sales, "staging/sales/year=2025/c.csv", csv_bytes(["id", "item", "amount", "shop"], [[4, "pie", 3.0, "x"]]))
    put(sales, "staging/stores/s.csv", csv_bytes(["shop", "city"], [["x", "Oslo"]]))
    sales.storage.delete_object("lakeport", "staging/sales/year=2023/a.csv")
    before = snapshot(sales)

    held = gate("hold-stop")
    definition = sales.crawlers.get_crawler("c").definition
    sales.crawlers.update_crawler(
        dataclasses.replace(definition, classifiers=(held.name,), delete_behavior="DELETE_FROM_DATABASE")
    )
    crawl = Background(sales, "c")
    crawl.start()
    try:
        assert held.entered.wait(20)
        stopping = sales.crawlers.stop_crawler("c")
        assert stopping.state == "STOPPING"
        assert stopping.to_glue()["State"] == "STOPPING"
        with pytest.raises(CrawlerStoppingException) as caught:
            sales.crawlers.stop_crawler("c")
        assert caught.value.code == "CrawlerStoppingException"
        with pytest.raises(CrawlerRunningException):
            sales.crawlers.start_crawler("c")
    finally:
        held.release()
    run = crawl.result()

    assert run.status == "CANCELLED"
    assert run.ended_at is not None
    info = sales.crawlers.get_crawler("c")
    assert info.state == "READY"
    assert info.current_run is None
    assert info.last_crawl is not None
    assert info.last_crawl.id == run.id
    assert info.to_glue()["LastCrawl"]["Status"] == "CANCELLED"
    assert run.to_glue()["State"] == "STOPPED"
    assert snapshot(sales) == before
    assert any("CANCELLED" in m for m in messages(sales, run))

    # nothing of the cancelled crawl was remembered: the next one sees and applies every change (dropping the
    # custom classifier changes how files are read, so the index is forgotten and all three files are read)
    sales.crawlers.update_crawler(dataclasses.replace(definition, delete_behavior="DELETE_FROM_DATABASE"))
    after = sales.crawlers.start_crawler("c")
    assert after.status == "SUCCEEDED"
    assert after.summary["files_read"] == 3
    assert after.summary["files_removed"] == 0
    assert after.summary["tables_created"] == 1
    assert after.summary["partitions_added"] == 1
    assert after.summary["partitions_removed"] == 1
    assert "shop" in [c.name for c in sales.catalog.get_table("db", "sales").columns]


def test_stopping_a_background_crawl_cancels_it(local_lake: Lake) -> None:
    drop_files(local_lake, many_csv_files("staging/big/", 1500))
    create(local_lake, "c", "s3://lakeport/staging/")
    before = snapshot(local_lake)
    run = local_lake.crawlers.start_crawler("c", wait=False)
    assert local_lake.crawlers.stop_crawler("c").state == "STOPPING"
    finished = wait_until_finished(local_lake, run.id)
    assert finished.status == "CANCELLED"
    assert local_lake.crawlers.get_crawler("c").state == "READY"
    assert snapshot(local_lake) == before


# ---- background


def test_a_background_start_returns_a_running_run_and_a_worker_finishes_it(sales: Lake) -> None:
    create(sales, "c", SALES_PATH)
    began = time.monotonic()
    run = sales.crawlers.start_crawler("c", wait=False)
    assert time.monotonic() - began < 5
    assert run.status == "RUNNING"
    assert run.ended_at is None
    assert run.seconds is None
    assert sales.crawlers.get_crawler("c").state in ("RUNNING", "READY")

    finished = wait_until_finished(sales, run.id)
    assert finished.status == "SUCCEEDED", finished.error
    assert finished.summary["tables_created"] == 1
    assert sales.crawlers.get_crawler("c").state == "READY"
    table = sales.catalog.get_table("db", "sales")
    assert table.location == uri("staging/sales/")
    assert [p.values for p in sales.catalog.get_partitions("db", "sales")] == [("2023",), ("2024",)]
    logged = messages(sales, finished)
    assert logged[-1].startswith(f"crawl {run.id} SUCCEEDED")
