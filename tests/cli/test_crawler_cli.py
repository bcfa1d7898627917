"""``lakeport crawler`` as a user runs it: named crawlers, background crawls, their runs and logs.

Each ``lakeport`` process costs about half a second, so the tests share one lake and few calls; each test uses
its own crawler and database.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.crawler import CrawlerDefinition
from lakeport.errors import NotFound
from tests.conftest import run_cli

TARGET = "s3://lakeport/staging/music/"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake with a partitioned CSV table (plays) and an unpartitioned one (artists) under staging/music/."""
    lake_root = tmp_path_factory.mktemp("crawler-cli") / "lake"
    with Lake.init(lake_root, environ={}) as lake:
        for day in ("2024-01-01", "2024-01-02"):
            lake.storage.put_object(
                "lakeport", f"staging/music/plays/dt={day}/plays.csv", b"track,seconds\nabc,31\ndef,200\n"
            )
        lake.storage.put_object("lakeport", "staging/music/artists/artists.csv", b"id,name\n1,Nina\n2,Miles\n")
    return lake_root


def cli(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return run_cli(*args, lake=root, check=check)


def as_json(proc: subprocess.CompletedProcess[bytes]) -> Any:
    return json.loads(proc.stdout)


def rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("│")] for line in text.splitlines() if "│" in line]


def test_create_get_update_list_delete(root: Path) -> None:
    created = as_json(
        cli(
            root,
            "crawler",
            "create",
            "nightly",
            "-t",
            TARGET,
            "-d",
            "music",
            "--description",
            "every night",
            "-o",
            "json",
        )
    )["Crawler"]
    assert created["Name"] == "nightly"
    assert created["DatabaseName"] == "music"
    assert created["Description"] == "every night"
    assert created["Targets"] == {"S3Targets": [{"Path": TARGET, "Exclusions": []}]}
    assert created["SchemaChangePolicy"] == {
        "UpdateBehavior": "UPDATE_IN_DATABASE",
        "DeleteBehavior": "DEPRECATE_IN_DATABASE",
    }
    assert created["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}
    assert created["State"] == "READY"
    assert created["Version"] == 1
    assert "LastCrawl" not in created

    shown = cli(root, "crawler", "get", "nightly").stdout.decode()
    assert shown.splitlines()[0] == "nightly READY (version 1)"
    cells = rows(shown)
    assert ["targets", TARGET] in cells
    assert ["database", "music"] in cells
    assert ["recrawl", "CRAWL_EVERYTHING"] in cells

    updated = as_json(
        cli(
            root,
            "crawler",
            "update",
            "nightly",
            "--table-prefix",
            "raw_",
            "--exclude",
            "**.tmp",
            "--delete-behavior",
            "log",
            "-o",
            "json",
        )
    )["Crawler"]
    assert updated["Version"] == 2
    assert updated["TablePrefix"] == "raw_"
    assert updated["Targets"] == {"S3Targets": [{"Path": TARGET, "Exclusions": ["**.tmp"]}]}
    assert updated["SchemaChangePolicy"]["DeleteBehavior"] == "LOG"
    # What was not given stays as it was.
    assert updated["Description"] == "every night"
    assert updated["DatabaseName"] == "music"

    listed = rows(cli(root, "crawler", "list").stdout.decode())
    assert ["nightly", "READY", "music", TARGET, "", ""] in listed

    assert cli(root, "crawler", "delete", "nightly").stdout.decode().strip() == "deleted crawler nightly"
    with Lake.open(root, environ={}) as lake, pytest.raises(NotFound, match="crawler nightly not found"):
        lake.crawlers.get_crawler("nightly")


def test_stopping_a_ready_crawler_fails_with_a_clear_message(root: Path) -> None:
    with Lake.open(root, environ={}) as lake:
        lake.crawlers.create_crawler(CrawlerDefinition(name="idle", targets=(TARGET,), database="idle_db"))
    proc = cli(root, "crawler", "stop", "idle", check=False)
    assert proc.returncode == 1
    assert proc.stdout == b""
    text = proc.stderr.decode()
    assert "Traceback" not in text
    assert text.splitlines()[0] == "error: crawler idle is not running"
    with Lake.open(root, environ={}) as lake:
        assert lake.crawlers.get_crawler("idle").state == "READY"


def _wait_until_ready(root: Path, name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    with Lake.open(root, environ={}) as lake:
        while lake.crawlers.get_crawler(name).state != "READY":
            assert time.monotonic() < deadline, f"crawler {name} still {lake.crawlers.get_crawler(name).state}"
            time.sleep(0.1)


def test_start_in_the_background_then_runs_and_log(root: Path) -> None:
    with Lake.open(root, environ={}) as lake:
        lake.crawlers.create_crawler(CrawlerDefinition(name="background", targets=(TARGET,), database="bg"))

    started = as_json(cli(root, "crawler", "start", "background", "--no-wait", "-o", "json"))["Crawl"]
    assert started["crawler"] == "background"
    assert started["status"] == "RUNNING"
    assert started["ended_at"] is None
    _wait_until_ready(root, "background")

    crawls = as_json(cli(root, "crawler", "runs", "background", "-o", "json"))["Crawls"]
    assert len(crawls) == 1
    crawl = crawls[0]
    assert crawl["CrawlId"] == started["id"]
    assert crawl["State"] == "COMPLETED"
    assert crawl["ErrorMessage"] is None
    assert crawl["EndTime"] >= crawl["StartTime"]
    summary = json.loads(crawl["Summary"])
    assert summary["tables_created"] == 2
    assert summary["partitions_added"] == 2
    assert sorted(summary["tables"]) == ["bg.artists", "bg.plays"]
    assert crawl["LogGroup"] == "/lakeport/crawlers/background"
    assert crawl["LogStream"] == started["id"]

    log = cli(root, "crawler", "log", "background").stdout.decode().splitlines()
    assert f"started (CRAWL_EVERYTHING) on {TARGET}" in log[0]
    assert any("created table bg.plays" in line and "2 partitions" in line for line in log)
    assert "SUCCEEDED" in log[-1]
    assert all(line.split()[1] in {"INFO", "WARN", "DEBUG"} for line in log)

    with Lake.open(root, environ={}) as lake:
        plays = lake.catalog.get_table("bg", "plays")
        assert [k.name for k in plays.partition_keys] == ["dt"]
        assert [c.name for c in plays.columns] == ["track", "seconds"]
        info = lake.crawlers.get_crawler("background")
        assert info.last_crawl is not None
        assert info.last_crawl.status == "SUCCEEDED"
