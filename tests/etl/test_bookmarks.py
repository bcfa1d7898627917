"""Job bookmarks (Glue's): a run reads only the staging objects (key + ETag) no committed run has read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.etl import JobRun
from lakeport.etl.failures import FAILPOINT_ENV

from .jobs_kit import committed_run_ids, copy_job, csv_text, current_snapshot, put, table_rows, uri

JOB = "incremental"
TABLE = "db.events"
PREFIX = "staging/events/"
HEADER = ["id", "name", "amount"]


def rows(first: int, count: int, tag: str = "v1") -> list[tuple[int, str, int]]:
    return [(i, f"{tag}-{i}", i * 3) for i in range(first, first + count)]


A, B, C, D = rows(1, 4), rows(101, 3), rows(201, 2), rows(301, 5)
B2 = rows(101, 6, "v2")  # b.csv rewritten: new content, new ETag


def stage(lake: Lake, name: str, content: list[tuple[int, str, int]]) -> str:
    return put(lake, PREFIX + name, csv_text(HEADER, content)).etag


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    stage(lake, "a.csv", A)
    stage(lake, "b.csv", B)
    lake.jobs.create_job(
        copy_job(JOB, uri(PREFIX), TABLE, columns={"id": "bigint", "amount": "bigint"}, bookmarks=True)
    )
    yield lake
    lake.close()


def run(lake: Lake, bookmark: str = "") -> JobRun:
    result = lake.jobs.start_job_run(JOB, bookmark=bookmark, wait=True)
    assert result.state == "SUCCEEDED", result.error
    return result


def files_read(result: JobRun) -> int:
    count: int = result.metrics["sources"]["src"]["files"]
    return count


def table(lake: Lake) -> list[tuple[object, ...]]:
    return table_rows(lake, TABLE)


def test_each_object_is_read_once_new_and_modified_ones_again_and_reset_reads_all(lake: Lake) -> None:
    first = run(lake)
    assert files_read(first) == 2
    assert first.metrics["rows_read"] == len(A) + len(B)
    assert table(lake) == sorted(A + B)
    entries = lake.jobs.bookmarks(JOB).entries()
    assert [(e["key"], e["run_id"], e["committed"]) for e in entries] == [
        (PREFIX + "a.csv", first.id, False),  # pending until the next run sees the commit
        (PREFIX + "b.csv", first.id, False),
    ]

    stage(lake, "c.csv", C)
    second = run(lake)
    assert files_read(second) == 1
    assert second.metrics["rows_read"] == len(C)
    assert table(lake) == sorted(A + B + C)
    assert any("bookmark skips 2 processed objects" in e.message for e in lake.logs.events(second.log_group, second.id))

    old_etag = lake.storage.head_object("lakeport", PREFIX + "b.csv").etag
    new_etag = stage(lake, "b.csv", B2)
    assert new_etag != old_etag
    third = run(lake)
    assert files_read(third) == 1
    assert third.metrics["rows_read"] == len(B2)
    assert table(lake) == sorted(A + B + C + B2)  # append: b's old rows stay, its new ones are added

    assert lake.jobs.reset_bookmark(JOB) > 0
    assert lake.jobs.bookmarks(JOB).entries() == []
    fourth = run(lake)
    assert files_read(fourth) == 3
    assert fourth.metrics["rows_read"] == len(A) + len(B2) + len(C)
    assert table(lake) == sorted(A + B + C + B2 + A + B2 + C)


def test_bookmark_disable_reads_everything_and_records_nothing(lake: Lake) -> None:
    run(lake)
    again = run(lake, bookmark="disable")
    assert files_read(again) == 2
    assert again.arguments == {"job-bookmark-option": "disable"}
    assert table(lake) == sorted(A + B + A + B)
    assert {e["run_id"] for e in lake.jobs.bookmarks(JOB).entries()} != {again.id}


def test_a_run_with_nothing_new_succeeds_and_reads_nothing(lake: Lake) -> None:
    run(lake)
    before = (current_snapshot(lake, TABLE), table(lake))
    second = lake.jobs.start_job_run(JOB, wait=True)
    assert (current_snapshot(lake, TABLE), table(lake)) == before
    assert second.state == "SUCCEEDED", second.error
    assert second.metrics["rows_read"] == 0
    assert files_read(second) == 0


def test_a_run_killed_before_its_commit_is_read_again_and_after_its_commit_is_not(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(lake)
    stage(lake, "c.csv", C)

    monkeypatch.setenv(FAILPOINT_ENV, "before-commit")
    killed = lake.jobs.start_job_run(JOB, wait=True)
    monkeypatch.delenv(FAILPOINT_ENV)
    assert killed.state == "FAILED"
    assert table(lake) == sorted(A + B)
    assert killed.id not in committed_run_ids(lake, TABLE)
    pending = [e for e in lake.jobs.bookmarks(JOB).entries() if e["run_id"] == killed.id]
    assert [(e["key"], e["committed"]) for e in pending] == [(PREFIX + "c.csv", False)]

    rerun = run(lake)
    assert files_read(rerun) == 1  # c.csv again: its first reader never committed
    assert table(lake) == sorted(A + B + C)  # 0 missing, 0 duplicated
    assert not [e for e in lake.jobs.bookmarks(JOB).entries() if e["run_id"] == killed.id]

    stage(lake, "d.csv", D)
    monkeypatch.setenv(FAILPOINT_ENV, "after-commit")
    late = lake.jobs.start_job_run(JOB, wait=True)
    monkeypatch.delenv(FAILPOINT_ENV)
    assert late.state == "FAILED"  # the worker died, but its commit is in the table
    assert late.id in committed_run_ids(lake, TABLE)
    assert table(lake) == sorted(A + B + C + D)

    stage(lake, "e.csv", rows(401, 1))
    last = run(lake)
    assert files_read(last) == 1  # only e.csv: d.csv's commit counts although its run died
    assert table(lake) == sorted(A + B + C + D + rows(401, 1))
    committed = {e["key"] for e in lake.jobs.bookmarks(JOB).entries() if e["committed"]}
    assert committed == {PREFIX + n for n in ("a.csv", "b.csv", "c.csv", "d.csv")}


def test_pause_reads_by_the_bookmark_without_moving_it(lake: Lake) -> None:
    run(lake)
    stage(lake, "c.csv", C)

    paused = run(lake, bookmark="pause")
    assert files_read(paused) == 1  # a.csv and b.csv are skipped
    assert paused.metrics["rows_read"] == len(C)
    again = run(lake, bookmark="pause")
    assert files_read(again) == 1  # c.csv once more: pause did not record it
    assert table(lake) == sorted(A + B + C + C)
    assert all(e["key"] != PREFIX + "c.csv" for e in lake.jobs.bookmarks(JOB).entries())

    lake.jobs.set_bookmark_state(JOB, "paused")
    job_paused = run(lake)
    assert files_read(job_paused) == 1
    lake.jobs.set_bookmark_state(JOB, "enabled")

    enabled = run(lake)
    assert files_read(enabled) == 1  # enable reads c.csv and moves the bookmark past it
    assert table(lake) == sorted(A + B + C + C + C + C)
    assert {e["key"] for e in lake.jobs.bookmarks(JOB).entries()} == {PREFIX + n for n in ("a.csv", "b.csv", "c.csv")}
