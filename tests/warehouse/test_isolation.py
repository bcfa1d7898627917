"""Snapshot isolation across real processes: readers see whole snapshots, concurrent writers lose no commit.

Writers and readers are separate Python processes on one lake (SQLite metadata DB in WAL mode, as configured
by default), so the compare-and-swap of the Iceberg metadata pointer is what keeps them apart.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from lakeport import Lake
from lakeport.warehouse import CommitConflict
from tests.warehouse.warehouse_kit import (
    REPO,
    VALUE_SCHEMA,
    finish,
    read_rows,
    spawn,
    table_rows,
    value_rows,
    write_parquet,
)

DB, TABLE = "iso", "events"

COMMITS = 8  # each commit is read by four processes between its neighbours: ~30 interleavings
ROWS_PER_FILE = 40
FILES_PER_COMMIT = 2
READERS = 4

WRITERS = 4
APPENDS_EACH = 6  # 24 commits racing from one start line
APPEND_ROWS = 3


def test_readers_see_exactly_one_committed_snapshot(local_lake: Lake, tmp_path: Path) -> None:
    # commit 0 exists before anyone reads, so every read has a snapshot to see
    first = [
        write_parquet(local_lake, DB, TABLE, value_rows(0, ROWS_PER_FILE, f * ROWS_PER_FILE), VALUE_SCHEMA)
        for f in range(FILES_PER_COMMIT)
    ]
    local_lake.warehouse.commit(DB, TABLE, files=first, schema=VALUE_SCHEMA, mode="overwrite")
    lake_path = str(local_lake.root)
    stop = tmp_path / "writer-done"
    reports = [tmp_path / f"reader-{n}.json" for n in range(READERS)]
    readers = [spawn("snapshot-reader", lake_path, DB, TABLE, str(stop), str(r)) for r in reports]
    writer = spawn(
        "overwrite-writer", lake_path, DB, TABLE, "1", str(COMMITS), str(ROWS_PER_FILE), str(FILES_PER_COMMIT)
    )
    try:
        finish([writer], timeout=120)
    finally:
        stop.touch()
    finish(readers, timeout=30)

    expected_count = ROWS_PER_FILE * FILES_PER_COMMIT
    seen: set[int] = set()
    for report in reports:
        data: dict[str, Any] = json.loads(report.read_text())
        assert data["errors"] == [], f"{report.name}: {data['errors'][:3]}"
        assert data["reads"], f"{report.name} made no read"
        last_k = -1
        for ks, count, nfiles in data["reads"]:
            assert len(ks) == 1, f"{report.name} saw a mix of commits {ks}"
            assert count == expected_count, f"{report.name} saw commit {ks[0]} with {count} rows"
            assert nfiles == FILES_PER_COMMIT
            assert ks[0] >= last_k, f"{report.name} went back in time from commit {last_k} to {ks[0]}"
            last_k = ks[0]
            seen.add(ks[0])
        assert last_k == COMMITS, f"{report.name}'s last read (after the writer finished) saw commit {last_k}"
    assert len(seen) > 2, f"the readers never overlapped the writer (saw only {sorted(seen)})"
    assert table_rows(local_lake, DB, TABLE, ["k", "i"]) == [(COMMITS, i) for i in range(expected_count)]


# what a commit imports on first use: loaded before the start line, so that no writer is still importing while
# the others commit (commits take milliseconds; imports take a second)
WARM = (
    "pyiceberg.catalog.sql",
    "pyiceberg.exceptions",
    "pyiceberg.expressions",
    "pyiceberg.io.pyarrow",
    "pyiceberg.table",
    "lakeport.catalog.external_schemas",
    "lakeport.catalog.types",
    "lakeport.warehouse.iceberg_catalog",
)


def spawn_warm_writer(*args: str) -> subprocess.Popen[bytes]:
    """:func:`warehouse_kit.spawn` of the ``append-writer`` role, in a process that has imported :data:`WARM`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    code = f"import sys, {', '.join(WARM)}; from tests.warehouse.warehouse_kit import main; main(sys.argv[1:])"
    return subprocess.Popen(
        [sys.executable, "-c", code, "append-writer", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_concurrent_appenders_lose_nothing_and_duplicate_nothing(local_lake: Lake, tmp_path: Path) -> None:
    lake_path = str(local_lake.root)
    start = tmp_path / "go"
    reports = [tmp_path / f"writer-{w}.json" for w in range(WRITERS)]
    # the Iceberg namespace exists (the race of a database's very first use has its own test, below); the table
    # does not: the writers race to create it
    local_lake.warehouse.iceberg.create_namespace(DB)
    writers = [
        spawn_warm_writer(lake_path, DB, TABLE, str(w), str(APPENDS_EACH), str(APPEND_ROWS), str(start), str(r))
        for w, r in enumerate(reports)
    ]
    try:
        # the start line: each writer stages all its files, then waits for ``start``; open it only once every
        # writer is there (each started on its own, they would commit one after another, never racing)
        data_dir = local_lake.warehouse.data_dir(DB, TABLE)
        staged = {f"w{w}-s{s}.parquet" for w in range(WRITERS) for s in range(APPENDS_EACH)}
        deadline = time.monotonic() + 120
        while not staged <= ({p.name for p in data_dir.iterdir()} if data_dir.is_dir() else set()):
            if any(w.poll() is not None for w in writers):
                break  # a writer crashed: finish() below reports its stderr
            assert time.monotonic() < deadline, "the writers did not stage their files"
            time.sleep(0.01)
        time.sleep(0.05)  # the last writer's file is closed: it is polling for ``start`` now
    finally:
        start.touch()
    started = time.monotonic()
    finish(writers, timeout=120)
    span = time.monotonic() - started

    outcomes: list[dict[str, Any]] = [o for r in reports for o in json.loads(r.read_text())]
    assert len(outcomes) == WRITERS * APPENDS_EACH
    failed = [o for o in outcomes if not o["ok"]]
    for o in failed:  # losing a race after the bounded retries is allowed, but only as CommitConflict's one line
        said = f"writer {o['writer']} commit {o['seq']}: {o['type']}: {o['line']}"
        assert o["type"] == CommitConflict.__name__, said
        assert o["code"] == "ConcurrentModificationException", said
        assert "\n" not in o["line"], said
        assert "another writer committed first" in o["line"], said
    committed = [o for o in outcomes if o["ok"]]
    assert committed, "no commit succeeded"

    expected = sorted((o["writer"], o["seq"], i) for o in committed for i in range(APPEND_ROWS))
    actual = table_rows(local_lake, DB, TABLE, ["writer", "seq", "i"])
    assert actual == expected  # every successful commit's rows exactly once; no failed commit's rows

    files = local_lake.warehouse.data_files(DB, TABLE)
    assert Counter(Path(f).name for f in files) == Counter(Path(o["file"]).name for o in committed)
    assert len({o["snapshot_id"] for o in committed}) == len(committed), "two commits reported one snapshot"
    history = local_lake.warehouse.history(DB, TABLE)
    assert {o["snapshot_id"] for o in committed} <= {s.snapshot_id for s in history}
    assert history[-1].current
    assert history[-1].summary["total-records"] == str(len(expected))
    # the snapshots form one line: each commit's parent is the snapshot before it
    assert [s.parent_id for s in history[1:]] == [s.snapshot_id for s in history[:-1]]
    # and the writers really raced (this cannot pass with one writer after another): commits were in flight at
    # the same time (their durations add up to more than the whole commit phase), or they interleave in that
    # line (one writer after another changes writer only WRITERS - 1 times), or some commit retried or lost
    writer_of = {o["snapshot_id"]: o["writer"] for o in committed}
    line = [writer_of[s.snapshot_id] for s in history if s.snapshot_id in writer_of]
    switches = sum(a != b for a, b in pairwise(line))
    retried = [o for o in outcomes if not o["ok"] or o["attempts"] > 1]
    in_flight = sum(o["seconds"] for o in outcomes)
    assert in_flight > span or switches > WRITERS - 1 or retried, (
        f"the writers never raced: {in_flight:.2f} s of commits in {span:.2f} s, in the order {line}"
    )
    # (the catalog entry's snapshot id can lag here: test_the_catalog_entry_never_goes_back_to_an_older_table_state)
    assert local_lake.catalog.get_table(DB, TABLE).table_type == "ICEBERG"
    assert read_rows(files, ["writer"]) == sorted((o["writer"],) for o in committed for _ in range(APPEND_ROWS))


def test_loading_a_table_does_not_take_the_metadata_write_lock(local_lake: Lake) -> None:
    path = write_parquet(local_lake, DB, TABLE, value_rows(0, 1), VALUE_SCHEMA)
    local_lake.warehouse.commit(DB, TABLE, files=[path], schema=VALUE_SCHEMA)
    database = local_lake.warehouse.iceberg.engine.url.database
    assert database is not None
    probes: list[str] = []

    def probe(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        """Right after a read statement of a load: can another process start writing now?"""
        if not statement.lstrip().upper().startswith("SELECT"):
            return
        other = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            probes.append("free")
        except sqlite3.OperationalError as exc:
            probes.append(str(exc))
        finally:
            other.close()

    engine = local_lake.warehouse.iceberg.engine
    event.listen(engine, "after_cursor_execute", probe)
    try:
        local_lake.warehouse.data_files(DB, TABLE)
    finally:
        event.remove(engine, "after_cursor_execute", probe)
    assert probes
    assert set(probes) == {"free"}, probes


def test_two_processes_opening_a_new_lakes_warehouse_at_once(local_lake: Lake) -> None:
    """The interleaving made certain: another process opens the warehouse right before this one's CREATE TABLE.

    (Left to chance, six processes opening a fresh lake's warehouse together hit it in most trials.)
    """
    rivals: list[subprocess.Popen[bytes]] = []

    def rival_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if rivals or not statement.lstrip().upper().startswith("CREATE TABLE ICEBERG_"):
            return
        rival = spawn("open-warehouse", str(local_lake.root))
        rivals.append(rival)
        assert rival.stdout is not None
        rival.stdout.readline()  # "ready": the lake is open; next it opens the Iceberg catalog
        with contextlib.suppress(subprocess.TimeoutExpired):
            rival.wait(timeout=5)  # a rival that waits for us (a lock) is no race: carry on

    event.listen(Engine, "before_cursor_execute", rival_first)
    try:
        local_lake.warehouse.iceberg.list_namespaces()
    finally:
        event.remove(Engine, "before_cursor_execute", rival_first)
    assert rivals, "this process never created the catalog tables"
    _, err = rivals[0].communicate(timeout=60)
    assert rivals[0].returncode == 0, err.decode(errors="replace")[-2000:]
    assert local_lake.warehouse.iceberg.list_namespaces() == []


def test_two_first_commits_into_a_new_database_at_once(local_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """The interleaving made certain: another job creates the namespace between this commit's check and insert."""
    from pyiceberg.catalog.sql import SqlCatalog

    local_lake.warehouse.iceberg.list_namespaces()
    original = SqlCatalog.namespace_exists
    raced: list[int] = []
    with Lake.open(local_lake.root) as rival:

        def racing(self: SqlCatalog, namespace: Any) -> bool:
            found = original(self, namespace)
            if not found and not raced:
                raced.append(1)
                path = write_parquet(rival, DB, "rival", value_rows(7, 1), VALUE_SCHEMA)
                rival.warehouse.commit(DB, "rival", files=[path], schema=VALUE_SCHEMA)
            return found

        monkeypatch.setattr(SqlCatalog, "namespace_exists", racing)
        path = write_parquet(local_lake, DB, TABLE, value_rows(1, 2), VALUE_SCHEMA)
        try:
            local_lake.warehouse.commit(DB, TABLE, files=[path], schema=VALUE_SCHEMA)
        finally:
            assert raced, "the rival never ran"
    assert table_rows(local_lake, DB, TABLE, ["k", "i"]) == [(1, 0), (1, 1)]
    assert table_rows(local_lake, DB, "rival", ["k", "i"]) == [(7, 0)]
