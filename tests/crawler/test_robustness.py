"""Crawls that are killed, that race each other, and that meet bad files: the catalog stays whole.

Acceptance: a crawl process killed at any point (while listing and sampling, or inside its one apply
transaction) leaves the catalog exactly as it was, and the next start marks the dead run FAILED and succeeds;
two crawlers over overlapping paths started at once in two processes both succeed or one fails cleanly, and the
catalog is consistent afterwards, on SQLite and on PostgreSQL; bad files never crash a crawl.

Every process here is a real OS process killed with SIGKILL, on real SQLite and PostgreSQL databases.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from lakeport import Lake
from lakeport.crawler import CrawlRun
from lakeport.crawler.classifiers import ClassifierOptions, FileShape, register_classifier
from lakeport.crawler.sampling import Sample
from tests.crawler.crawl_kit import (
    CLI_WITH_SLOW_CLASSIFIER,
    HOLD_IN_APPLY,
    MEET_AT_APPLY,
    cli_popen,
    crawler_state,
    create,
    csv_bytes,
    drop_files,
    many_csv_files,
    messages,
    put,
    python_popen,
    run_pid,
    snapshot,
    spy_on,
    uri,
    wait_for,
)

HEADER = ["id", "item", "amount"]


@pytest.fixture(params=["sqlite", "postgresql"])
def metadata(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for a lake whose metadata is in SQLite (in the lake) or in a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return {}
    url: str = request.getfixturevalue("postgres_db_url")
    return {"metadata.url": url}


@pytest.fixture
def shared_lake(tmp_path: Path, metadata: dict[str, str]) -> Iterator[Lake]:
    """A local lake other processes open too, on either metadata database."""
    lake = Lake.init(tmp_path / "lake", values=metadata)
    yield lake
    lake.close()


def finish(process: subprocess.Popen[bytes], timeout: float = 60) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out.decode(), err.decode()


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL, then reap it (a zombie would still look alive to ``kill(pid, 0)``)."""
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def runs_by_status(lake: Lake, name: str) -> dict[str, list[CrawlRun]]:
    out: dict[str, list[CrawlRun]] = {}
    for run in lake.crawlers.list_runs(name):
        out.setdefault(run.status, []).append(run)
    return out


def assert_consistent(lake: Lake) -> None:
    """Every table whole (partitioned ones have partitions inside their location); no location twice."""
    locations: list[str] = []
    for database in lake.catalog.list_databases():
        for table in lake.catalog.list_tables(database.name):
            locations.append(table.location)
            partitions = lake.catalog.get_partitions(database.name, table.name)
            if table.partition_keys:
                assert partitions, f"{table.full_name} has partition keys but no partitions"
            for partition in partitions:
                assert len(partition.values) == len(table.partition_keys)
                assert partition.location.startswith(table.location), (table.full_name, partition.location)
    assert len(locations) == len(set(locations)), f"a location is catalogued twice: {sorted(locations)}"
    if lake.db.dialect == "sqlite":
        with lake.db.read() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    for crawler in lake.crawlers.list_crawlers():
        assert crawler.state == "READY", crawler.name
        assert all(r.status != "RUNNING" for r in lake.crawlers.list_runs(crawler.name))


# ---- killed crawls


def test_a_crawl_killed_while_reading_leaves_the_catalog_and_the_next_start_recovers(local_lake: Lake) -> None:
    lake = local_lake
    drop_files(lake, many_csv_files("staging/big/", 40, partitions=4))
    create(lake, "c", "s3://lakeport/staging/big/", delete_behavior="DELETE_FROM_DATABASE")
    assert lake.crawlers.start_crawler("c").status == "SUCCEEDED"
    # enough new work (30 new partitions) to keep the next crawl busy for a second or two
    drop_files(
        lake,
        {f"staging/big/part={10 + i % 30}/g{i:05d}.csv": csv_bytes(["id", "name"], [[i, "x"]]) for i in range(2000)},
    )
    before = snapshot(lake)

    process = cli_popen(lake.root, "crawler", "start", "c")
    try:
        wait_for(lambda: crawler_state(lake, "c")[0] == "RUNNING", timeout=60, what="the crawl to start")
        run_id = crawler_state(lake, "c")[1]
        assert run_id is not None
        wait_for(lambda: bool(lake.logs.events("/lakeport/crawlers/c", run_id)), what="the crawl's first log event")
    finally:
        kill(process)

    dead = lake.crawlers.get_run(run_id)
    assert dead.status == "RUNNING", "the crawl finished before it could be killed: give it more files"
    assert snapshot(lake) == before
    assert crawler_state(lake, "c") == ("RUNNING", run_id)  # nobody has looked yet

    run = lake.crawlers.start_crawler("c")
    assert run.status == "SUCCEEDED"
    failed = lake.crawlers.get_run(run_id)
    assert failed.status == "FAILED"
    assert failed.error == "the crawl process stopped before it finished"
    assert failed.ended_at is not None
    assert lake.crawlers.get_crawler("c").last_crawl == run
    # the killed crawl remembered nothing: this one read every new file and applied everything
    assert run.summary["files_read"] == 2000
    assert run.summary["files_unchanged"] == 40
    assert run.summary["partitions_added"] == 30
    assert len(lake.catalog.get_partitions("db", "big")) == 34
    assert_consistent(lake)


def test_a_crawl_killed_inside_its_apply_transaction_changes_nothing(
    shared_lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = shared_lake
    put(lake, "staging/sales/year=2023/a.csv", csv_bytes(HEADER, [[1, "tea", 2.5]]))
    create(lake, "c", "s3://lakeport/staging/sales/", delete_behavior="DELETE_FROM_DATABASE")
    assert lake.crawlers.start_crawler("c").status == "SUCCEEDED"
    lake.storage.delete_object("lakeport", "staging/sales/year=2023/a.csv")
    put(lake, "staging/sales/year=2024/b.csv", csv_bytes([*HEADER, "shop"], [[2, "pie", 3.0, "oslo"]]))
    put(lake, "staging/sales/year=2025/c.csv", csv_bytes(HEADER, [[3, "jam", 1.0]]))
    before = snapshot(lake)

    marker = tmp_path / "inside-apply"
    process = python_popen(HOLD_IN_APPLY, str(lake.root), "c", str(marker))
    try:
        wait_for(marker.exists, timeout=60, what="the crawl to reach its apply transaction")
    finally:
        kill(process)

    # the dead transaction had added a column, added and removed partitions and saved the index: none of it stays
    assert snapshot(lake) == before
    state, run_id = crawler_state(lake, "c")
    assert state == "RUNNING"
    assert run_id is not None

    spy = spy_on(lake, monkeypatch)
    run = lake.crawlers.start_crawler("c")
    assert run.status == "SUCCEEDED"
    assert lake.crawlers.get_run(run_id).status == "FAILED"
    assert sorted(spy.opened) == ["staging/sales/year=2024/b.csv", "staging/sales/year=2025/c.csv"]
    assert run.summary["files_removed"] == 1
    assert run.summary["partitions_added"] == 2
    assert run.summary["partitions_removed"] == 1
    table = lake.catalog.get_table("db", "sales")
    assert [c.name for c in table.columns] == [*HEADER, "shop"]
    assert sorted(p.values for p in lake.catalog.get_partitions("db", "sales")) == [("2024",), ("2025",)]
    assert_consistent(lake)


def test_stop_after_a_killed_crawl_recovers_the_crawler(local_lake: Lake, tmp_path: Path) -> None:
    lake = local_lake
    put(lake, "staging/sales/year=2023/a.csv", csv_bytes(HEADER, [[1, "tea", 2.5]]))
    create(lake, "c", "s3://lakeport/staging/sales/")
    marker = tmp_path / "inside-apply"
    process = python_popen(HOLD_IN_APPLY, str(lake.root), "c", str(marker))
    try:
        wait_for(marker.exists, timeout=60, what="the crawl to reach its apply transaction")
    finally:
        kill(process)
    _, run_id = crawler_state(lake, "c")
    assert run_id is not None

    # "stop" on a crawler whose crawl died: nothing to stop, the dead run is closed and the crawler READY again
    assert lake.crawlers.stop_crawler("c").state == "READY"
    dead = lake.crawlers.get_run(run_id)
    assert dead.status == "FAILED"
    assert dead.error == "the crawl process stopped before it finished"
    assert lake.catalog.list_databases() == []
    assert lake.crawlers.start_crawler("c").status == "SUCCEEDED"
    assert_consistent(lake)


class _Placeholder:
    """Stands in for the subprocess's slow classifier in this process (it never runs here)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def classify(self, sample: Sample, options: ClassifierOptions) -> FileShape | None:
        return None


def interrupt_a_crawl_command(lake: Lake, tmp_path: Path) -> tuple[CrawlRun, int, str]:
    """``lakeport crawler start c`` stopped with Ctrl-C (SIGINT) while it reads: (its run, exit code, stderr)."""
    put(lake, "staging/sales/year=2023/a.csv", csv_bytes(HEADER, [[1, "tea", 2.5]]))
    put(lake, "staging/sales/year=2024/b.csv", csv_bytes(HEADER, [[2, "pie", 1.0]]))
    register_classifier(_Placeholder("slow"))  # known here too, so that the definition is accepted
    create(lake, "c", "s3://lakeport/staging/sales/", classifiers=("slow",))
    marker = tmp_path / "reading"
    process = python_popen(CLI_WITH_SLOW_CLASSIFIER, str(marker), "--lake", str(lake.root), "crawler", "start", "c")
    try:
        wait_for(marker.exists, timeout=60, what="the crawl to read a file")
        process.send_signal(signal.SIGINT)
        code, _, err = finish(process)
    finally:
        if process.returncode is None:
            kill(process)
    runs = lake.crawlers.list_runs("c")
    assert len(runs) == 1
    return runs[0], code, err


def test_an_interrupted_crawl_command_fails_its_run_and_changes_nothing(local_lake: Lake, tmp_path: Path) -> None:
    lake = local_lake
    before = snapshot(lake)
    run, _, _ = interrupt_a_crawl_command(lake, tmp_path)
    assert run.status == "FAILED"
    assert run.error == "interrupted"
    assert crawler_state(lake, "c") == ("READY", None)  # closed by the crawl itself: no recovery needed
    assert snapshot(lake) == before
    assert any("FAILED" in m for m in messages(lake, run, "ERROR"))
    definition = lake.crawlers.get_crawler("c").definition
    lake.crawlers.update_crawler(dataclasses.replace(definition, classifiers=()))
    assert lake.crawlers.start_crawler("c").summary["files_read"] == 2


def test_an_interrupted_crawl_command_exits_non_zero(local_lake: Lake, tmp_path: Path) -> None:
    _, code, err = interrupt_a_crawl_command(local_lake, tmp_path)
    assert code == 130
    assert "interrupted" in err


def test_a_killed_background_worker_is_recovered_by_the_next_start(local_lake: Lake) -> None:
    lake = local_lake
    drop_files(lake, many_csv_files("staging/big/", 1500, partitions=15))
    create(lake, "c", "s3://lakeport/staging/big/")
    before = snapshot(lake)
    run = lake.crawlers.start_crawler("c", wait=False)
    wait_for(lambda: bool(lake.logs.events(run.log_group, run.log_stream)), what="the worker to start the crawl")
    worker = run_pid(lake, run.id)
    os.kill(worker, signal.SIGKILL)
    wait_for(lambda: _dead(worker), what="the worker to die")

    assert lake.crawlers.get_run(run.id).status == "RUNNING"
    assert snapshot(lake) == before
    again = lake.crawlers.start_crawler("c")
    assert again.status == "SUCCEEDED"
    assert lake.crawlers.get_run(run.id).status == "FAILED"
    assert_consistent(lake)


def _dead(pid: int) -> bool:
    """Gone, or a zombie: killed and not yet reaped by its parent (this process)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


# ---- two crawlers at once


def overlapping_data(lake: Lake) -> None:
    """``staging/a/`` (CSV, partitioned by year) and ``staging/b/`` (JSON): two tables for a crawler of staging/."""
    for year in (2023, 2024):
        put(lake, f"staging/a/year={year}/x.csv", csv_bytes(HEADER, [[year, "tea", 2.5]]))
    put(lake, "staging/b/y.json", b'{"name": "x", "ok": true}\n')


def check_race(lake: Lake, outputs: list[tuple[int, str, str]]) -> None:
    results: dict[str, Any] = {}
    for name, (code, out, err) in zip(("whole", "part"), outputs, strict=True):
        assert "Traceback" not in err, f"crawler {name} crashed:\n{err}"
        assert code == 0, err
        results[name] = json.loads(out.strip().splitlines()[-1])
    statuses = sorted(r.get("status", "RAISED") for r in results.values())
    assert statuses in (["SUCCEEDED", "SUCCEEDED"], ["FAILED", "SUCCEEDED"]), results
    for name, result in results.items():
        if result["status"] == "FAILED":  # it lost the race to create a table: it says which, and changed nothing
            assert "already exists" in result["error"], f"crawler {name}: {result['error']}"
    assert_consistent(lake)
    tables = {t.location: t for t in lake.catalog.list_tables("db")}
    assert uri("staging/a/") in tables
    assert sorted(p.values for p in lake.catalog.get_partitions("db", tables[uri("staging/a/")].name)) == [
        ("2023",),
        ("2024",),
    ]
    # and afterwards both crawlers work, and agree
    for name in ("whole", "part"):
        assert lake.crawlers.start_crawler(name).status == "SUCCEEDED"
    assert_consistent(lake)


RACES = [
    pytest.param("sqlite", "", id="sqlite-same-name"),
    pytest.param("sqlite", "part_", id="sqlite-other-prefix"),
    pytest.param("postgresql", "", id="postgresql-same-name"),
    pytest.param("postgresql", "part_", id="postgresql-other-prefix"),
]


@pytest.mark.parametrize(("metadata", "prefix"), RACES, indirect=["metadata"])
def test_two_crawlers_over_overlapping_paths_applying_at_once(shared_lake: Lake, tmp_path: Path, prefix: str) -> None:
    lake = shared_lake
    overlapping_data(lake)
    lake.catalog.create_database("db")  # it exists already, as it does for every crawl after the first
    create(lake, "whole", "s3://lakeport/staging/")
    create(lake, "part", "s3://lakeport/staging/a/", table_prefix=prefix)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    # Meet just before the apply transactions, which then start together: SQLite queues them at BEGIN IMMEDIATE,
    # on PostgreSQL the crawler's per-database advisory lock must
    processes = [python_popen(MEET_AT_APPLY, str(lake.root), name, str(barrier), "2") for name in ("whole", "part")]
    outputs = [finish(p) for p in processes]
    assert sorted(p.name for p in barrier.iterdir()) == ["part", "whole"]
    check_race(lake, outputs)


def test_two_crawl_commands_started_at_once(local_lake: Lake) -> None:
    lake = local_lake
    overlapping_data(lake)
    drop_files(lake, {f"staging/a/year=2025/f{i:03d}.csv": csv_bytes(HEADER, [[i, "jam", 1.0]]) for i in range(200)})
    create(lake, "whole", "s3://lakeport/staging/")
    create(lake, "part", "s3://lakeport/staging/a/")
    processes = [cli_popen(lake.root, "--output", "json", "crawler", "start", n) for n in ("whole", "part")]
    outputs = [finish(p) for p in processes]
    results = []
    for code, out, err in outputs:
        assert "Traceback" not in err, err
        assert code in (0, 1), err
        results.append(json.loads(out)["Crawl"] if out.strip() else {"status": "FAILED", "error": err})
    assert sorted(r["status"] for r in results) in (["SUCCEEDED", "SUCCEEDED"], ["FAILED", "SUCCEEDED"])
    assert_consistent(lake)


# ---- bad files


def test_bad_and_unreadable_files_never_crash_a_crawl(local_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = local_lake
    put(lake, "staging/mixed/good.csv", csv_bytes(HEADER, [[1, "tea", 2.5]]))
    put(lake, "staging/mixed/noise.bin", os.urandom(4096))
    put(lake, "staging/mixed/empty.csv", b"")
    put(lake, "staging/mixed/broken.gz", b"\x1f\x8b\x08\x00garbage")
    put(lake, "staging/mixed/locked.csv", csv_bytes(HEADER, [[2, "pie", 1.0]]))
    real_get = lake.storage.get_object

    def get_object(bucket: str, key: str, **kwargs: Any) -> Any:
        if key.endswith("locked.csv"):
            raise PermissionError(13, "Permission denied", key)
        return real_get(bucket, key, **kwargs)

    monkeypatch.setattr(lake.storage, "get_object", get_object)
    create(lake, "c", "s3://lakeport/staging/mixed/")
    run = lake.crawlers.start_crawler("c")
    assert run.status == "SUCCEEDED", run.error
    warned = {w["file"]: w["reason"] for w in run.warnings}
    for name in ("noise.bin", "empty.csv", "broken.gz", "locked.csv"):
        assert uri(f"staging/mixed/{name}") in warned, name
    assert "Permission denied" in warned[uri("staging/mixed/locked.csv")]
    assert run.summary["files_skipped"] == 4
    assert [t.name for t in lake.catalog.list_tables("db")] == ["good_csv"] or [
        t.location for t in lake.catalog.list_tables("db")
    ] == [uri("staging/mixed/")]
    logged = messages(lake, run, "WARN")
    assert any("locked.csv" in m for m in logged)
    assert_consistent(lake)
