"""Warehouse history: the snapshot log, time travel by snapshot id and by timestamp, rollback, and vacuum
(snapshot expiry plus removal of files no snapshot references)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from lakeport import Lake
from lakeport.errors import NotFound
from lakeport.warehouse import CommitResult
from tests.warehouse.warehouse_kit import age, read_rows, sid, table_files, table_rows, write_parquet

DB, TABLE = "music", "plays"
SCHEMA = pa.schema([("id", pa.int64()), ("track", pa.string())])
COLS = ["id", "track"]


def commit(lake: Lake, *ids: int, **kw: Any) -> CommitResult:
    path = write_parquet(lake, DB, TABLE, [{"id": i, "track": f"t{i}"} for i in ids], SCHEMA)
    return lake.warehouse.commit(DB, TABLE, files=[path], schema=SCHEMA, **kw)


def rows(*ids: int) -> list[tuple[int, str]]:
    return [(i, f"t{i}") for i in sorted(ids)]


def pause() -> None:
    """Let the millisecond clock of Iceberg snapshot timestamps move on."""
    time.sleep(0.01)


# ---- history


def test_history_lists_snapshots_in_commit_order_with_the_current_one_marked(local_lake: Lake) -> None:
    commits = []
    for i in range(4):
        commits.append(commit(local_lake, i))
        pause()
    history = local_lake.warehouse.history(DB, TABLE)
    assert [s.snapshot_id for s in history] == [c.snapshot_id for c in commits]
    assert [s.current for s in history] == [False, False, False, True]
    assert history[0].parent_id is None
    assert [s.parent_id for s in history[1:]] == [s.snapshot_id for s in history[:-1]]
    assert [s.committed_at for s in history] == sorted(s.committed_at for s in history)
    assert all(s.committed_at.tzinfo is not None for s in history)
    assert all(abs(datetime.now(UTC) - s.committed_at) < timedelta(minutes=5) for s in history)
    assert [s.summary["total-records"] for s in history] == ["1", "2", "3", "4"]
    data = history[-1].to_dict()
    assert data["current"] is True
    assert data["snapshot_id"] == commits[-1].snapshot_id
    assert datetime.fromisoformat(data["committed_at"]) == history[-1].committed_at


def test_history_of_a_missing_table_is_not_found(local_lake: Lake) -> None:
    with pytest.raises(NotFound, match=f"{DB}.{TABLE}"):
        local_lake.warehouse.history(DB, TABLE)


# ---- time travel


def test_time_travel_by_snapshot_id_returns_that_snapshots_rows(local_lake: Lake) -> None:
    a = commit(local_lake, 1, 2)
    b = commit(local_lake, 3)
    c = commit(local_lake, 9, mode="overwrite")
    d = commit(local_lake, 10)
    wh = local_lake.warehouse
    assert table_rows(local_lake, DB, TABLE, COLS, snapshot_id=a.snapshot_id) == rows(1, 2)
    assert table_rows(local_lake, DB, TABLE, COLS, snapshot_id=b.snapshot_id) == rows(1, 2, 3)
    assert table_rows(local_lake, DB, TABLE, COLS, snapshot_id=c.snapshot_id) == rows(9)
    assert table_rows(local_lake, DB, TABLE, COLS, snapshot_id=d.snapshot_id) == rows(9, 10)
    assert table_rows(local_lake, DB, TABLE, COLS) == rows(9, 10)
    with pytest.raises(NotFound, match="12345"):
        wh.data_files(DB, TABLE, snapshot_id=12345)


def test_time_travel_by_timestamp_returns_the_snapshot_current_at_that_time(local_lake: Lake) -> None:
    results, between = [], []
    for ids, mode in (((1,), "append"), ((2,), "append"), ((7, 8), "overwrite")):
        results.append(commit(local_lake, *ids, mode=mode))
        pause()
        between.append(datetime.now(UTC))
        pause()
    expected = [rows(1), rows(1, 2), rows(7, 8)]
    by_id = {s.snapshot_id: s for s in local_lake.warehouse.history(DB, TABLE)}
    for result, moment, want in zip(results, between, expected, strict=True):
        committed = by_id[sid(result)].committed_at
        assert table_rows(local_lake, DB, TABLE, COLS, as_of=committed) == want  # at the very millisecond
        assert table_rows(local_lake, DB, TABLE, COLS, as_of=moment) == want  # any time until the next commit
    first = by_id[sid(results[0])].committed_at
    with pytest.raises(NotFound, match="no snapshot as of"):
        local_lake.warehouse.data_files(DB, TABLE, as_of=first - timedelta(milliseconds=1))


def test_time_travel_into_other_time_zones_means_the_same_instant(local_lake: Lake) -> None:
    commit(local_lake, 1)
    pause()
    moment = datetime.now(UTC)
    pause()
    commit(local_lake, 2)
    tokyo = moment.astimezone(ZoneInfo("Asia/Tokyo"))
    assert table_rows(local_lake, DB, TABLE, COLS, as_of=tokyo) == rows(1)


# ---- rollback


def test_rollback_makes_an_older_snapshot_current(local_lake: Lake) -> None:
    wh = local_lake.warehouse
    a = commit(local_lake, 1)
    b = commit(local_lake, 2)
    c = commit(local_lake, 3)
    pause()
    rolled = wh.rollback(DB, TABLE, sid(a))
    assert rolled.snapshot_id == a.snapshot_id
    assert rolled.current

    history = wh.history(DB, TABLE)
    assert [s.snapshot_id for s in history] == [a.snapshot_id, b.snapshot_id, c.snapshot_id]  # nothing is lost
    assert [s.current for s in history] == [True, False, False]
    assert table_rows(local_lake, DB, TABLE, COLS) == rows(1)
    assert table_rows(local_lake, DB, TABLE, COLS, snapshot_id=c.snapshot_id) == rows(1, 2, 3)  # still there
    assert table_rows(local_lake, DB, TABLE, COLS, as_of=datetime.now(UTC)) == rows(1)

    entry = local_lake.catalog.get_table(DB, TABLE)
    assert entry.parameters["current-snapshot-id"] == str(a.snapshot_id)
    assert entry.parameters["metadata_location"] == wh.require(DB, TABLE).metadata_location

    # the next commit builds on the rolled-back snapshot
    d = commit(local_lake, 4)
    history = wh.history(DB, TABLE)
    assert history[-1].snapshot_id == d.snapshot_id
    assert history[-1].parent_id == a.snapshot_id
    assert table_rows(local_lake, DB, TABLE, COLS) == rows(1, 4)

    # and a rollback can go forward again, to a snapshot that is no longer an ancestor
    wh.rollback(DB, TABLE, sid(c))
    assert table_rows(local_lake, DB, TABLE, COLS) == rows(1, 2, 3)
    assert local_lake.catalog.get_table(DB, TABLE).parameters["current-snapshot-id"] == str(c.snapshot_id)


def test_rollback_to_an_unknown_snapshot_is_not_found_and_changes_nothing(local_lake: Lake) -> None:
    commit(local_lake, 1)
    before = local_lake.warehouse.history(DB, TABLE)
    with pytest.raises(NotFound, match="424242"):
        local_lake.warehouse.rollback(DB, TABLE, 424242)
    assert local_lake.warehouse.history(DB, TABLE) == before


def test_rollback_is_seen_by_another_lake_handle(local_lake: Lake) -> None:
    a = commit(local_lake, 1)
    commit(local_lake, 2)
    with Lake.open(local_lake.root) as other:
        assert table_rows(other, DB, TABLE, COLS) == rows(1, 2)
        local_lake.warehouse.rollback(DB, TABLE, sid(a))
        assert table_rows(other, DB, TABLE, COLS) == rows(1)


# ---- vacuum


def test_vacuum_with_zero_retention_keeps_only_the_newest_snapshot_and_its_files(local_lake: Lake) -> None:
    wh = local_lake.warehouse
    commit(local_lake, 1)
    b = commit(local_lake, 2)
    c = commit(local_lake, 5, 6, mode="overwrite")
    d = commit(local_lake, 7)
    replaced = {str(Path(f).resolve()) for f in wh.data_files(DB, TABLE, snapshot_id=b.snapshot_id)}
    assert len(replaced) == 2
    live = {str(Path(f).resolve()) for f in wh.data_files(DB, TABLE)}
    orphan = write_parquet(local_lake, DB, TABLE, [{"id": 99, "track": "never"}], SCHEMA)  # a run that died
    nested = Path(wh.data_dir(DB, TABLE)) / "run-jr_dead-sink"
    nested.mkdir()
    nested_orphan = write_parquet(local_lake, DB, TABLE, [{"id": 98, "track": "never"}], SCHEMA, name="x.parquet")
    Path(nested_orphan).rename(nested / "x.parquet")
    snapshots_before = len(wh.history(DB, TABLE))
    sizes = {p: Path(p).stat().st_size for p in table_files(local_lake, DB, TABLE)}
    time.sleep(0.01)

    result = wh.vacuum(DB, TABLE, retain=timedelta(0))

    assert result.table == f"{DB}.{TABLE}"
    assert result.snapshots_expired == snapshots_before - 1
    history = wh.history(DB, TABLE)
    assert [(s.snapshot_id, s.current) for s in history] == [(d.snapshot_id, True)]
    remaining = table_files(local_lake, DB, TABLE)
    assert live <= remaining, "vacuum deleted a file the current snapshot reads"
    assert not Path(orphan).exists()
    assert not (nested / "x.parquet").exists()
    assert not (replaced & remaining), "files only expired snapshots referenced were kept"
    data_left = {p for p in remaining if p.endswith(".parquet") and "/data/" in p}
    assert data_left == live
    gone = set(sizes) - remaining  # (expiring snapshots writes a new metadata file: remaining has it too)
    assert result.files_deleted == len(gone) >= len(replaced) + 2
    assert result.bytes_deleted == sum(sizes[p] for p in gone)

    # the table still reads fully, in this handle and a fresh one; expired snapshots are gone for time travel
    assert table_rows(local_lake, DB, TABLE, COLS) == rows(5, 6, 7)
    with Lake.open(local_lake.root) as fresh:
        assert table_rows(fresh, DB, TABLE, COLS) == rows(5, 6, 7)
    with pytest.raises(NotFound):
        wh.data_files(DB, TABLE, snapshot_id=c.snapshot_id)
    # and it takes new commits
    commit(local_lake, 8)
    assert table_rows(local_lake, DB, TABLE, COLS) == rows(5, 6, 7, 8)


def test_vacuum_keeps_the_newest_snapshots_when_asked(local_lake: Lake) -> None:
    for i in range(4):
        commit(local_lake, i)
    result = local_lake.warehouse.vacuum(DB, TABLE, retain=timedelta(0), keep_last=2)
    assert result.snapshots_expired == 2
    history = local_lake.warehouse.history(DB, TABLE)
    assert len(history) == 2
    assert history[-1].current
    assert table_rows(local_lake, DB, TABLE, COLS, snapshot_id=history[0].snapshot_id) == rows(0, 1, 2)
    assert table_rows(local_lake, DB, TABLE, COLS) == rows(0, 1, 2, 3)


def test_vacuum_keeps_files_younger_than_the_retention(local_lake: Lake) -> None:
    wh = local_lake.warehouse
    commit(local_lake, 1)
    commit(local_lake, 2, mode="overwrite")  # the first file is now unreferenced by the current snapshot
    fresh_orphan = write_parquet(local_lake, DB, TABLE, [{"id": 3, "track": "in flight"}], SCHEMA)
    old_orphan = write_parquet(local_lake, DB, TABLE, [{"id": 4, "track": "long dead"}], SCHEMA)
    age(old_orphan, 2 * 3600)
    snapshots = [s.snapshot_id for s in wh.history(DB, TABLE)]

    result = wh.vacuum(DB, TABLE, retain=timedelta(hours=1))

    assert result.snapshots_expired == 0  # every snapshot is younger than an hour
    assert [s.snapshot_id for s in wh.history(DB, TABLE)] == snapshots
    assert Path(fresh_orphan).exists(), "a file a running job may still commit was deleted"
    assert not Path(old_orphan).exists()
    assert result.files_deleted == 1
    assert result.bytes_deleted > 0
    for s in snapshots:  # time travel to every kept snapshot still works
        read_rows(wh.data_files(DB, TABLE, snapshot_id=s), COLS)
    assert table_rows(local_lake, DB, TABLE, COLS, snapshot_id=snapshots[0]) == rows(1)


def test_vacuum_with_the_default_retention_deletes_nothing_recent(local_lake: Lake) -> None:
    commit(local_lake, 1)
    commit(local_lake, 2, mode="overwrite")
    before = table_files(local_lake, DB, TABLE)
    result = local_lake.warehouse.vacuum(DB, TABLE)
    assert (result.snapshots_expired, result.files_deleted, result.bytes_deleted) == (0, 0, 0)
    assert table_files(local_lake, DB, TABLE) == before


def test_vacuum_after_a_rollback_keeps_the_current_snapshot(local_lake: Lake) -> None:
    wh = local_lake.warehouse
    a = commit(local_lake, 1)
    commit(local_lake, 2)
    commit(local_lake, 3, mode="overwrite")
    wh.rollback(DB, TABLE, sid(a))
    wh.vacuum(DB, TABLE, retain=timedelta(0))
    assert any(s.snapshot_id == a.snapshot_id and s.current for s in wh.history(DB, TABLE))
    assert table_rows(local_lake, DB, TABLE, COLS) == rows(1)


def test_vacuum_deletes_files_the_current_snapshot_removed(local_lake: Lake) -> None:
    wh = local_lake.warehouse
    commit(local_lake, 1)
    commit(local_lake, 2)
    old = set(wh.data_files(DB, TABLE))
    wh.commit(DB, TABLE, files=[], schema=SCHEMA, mode="overwrite")  # empty the table: its last commit deletes
    time.sleep(0.01)
    wh.vacuum(DB, TABLE, retain=timedelta(0))
    assert wh.data_files(DB, TABLE) == []
    assert [p for p in old if Path(p).exists()] == []
