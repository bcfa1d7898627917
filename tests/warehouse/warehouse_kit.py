"""Helpers of the warehouse tests: Parquet files to commit, tables read back with DuckDB, and worker processes.

The worker roles at the bottom run in separate processes (``python -m tests.warehouse.warehouse_kit <role> ...``)
against a lake on disk, as concurrent jobs would; each writes what it saw to a JSON report the test reads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeport import Lake
from lakeport.warehouse import CommitResult

REPO = Path(__file__).resolve().parents[2]

Row = tuple[Any, ...]


def write_parquet(
    lake: Lake,
    database: str,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    schema: pa.Schema,
    *,
    name: str | None = None,
) -> str:
    """Write ``rows`` as one Parquet file into the table's data folder (uncommitted) and return its path."""
    folder = lake.warehouse.data_dir(database, table)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{uuid.uuid4().hex}.parquet")
    pq.write_table(pa.Table.from_pylist(list(rows), schema=schema), path)
    return str(path)


def read_rows(files: Sequence[str], columns: Sequence[str]) -> list[Row]:
    """The rows of ``files`` (``columns`` only, a column missing from a file reads NULL), sorted."""
    if not files:
        return []
    con = duckdb.connect()
    try:
        listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        select = ", ".join(f'"{c}"' for c in columns)
        query = f"SELECT {select} FROM read_parquet([{listing}], union_by_name = true) ORDER BY ALL"
        return [tuple(r) for r in con.execute(query).fetchall()]
    finally:
        con.close()


def table_rows(lake: Lake, database: str, table: str, columns: Sequence[str], **at: Any) -> list[Row]:
    """The rows of the table's current snapshot (or of ``snapshot_id=`` / ``as_of=``), sorted."""
    return read_rows(lake.warehouse.data_files(database, table, **at), columns)


def rows_of(dicts: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[Row]:
    """``dicts`` as sorted tuples, for comparing with :func:`read_rows` (NULLs sort last, as DuckDB's ORDER BY)."""
    return sorted((tuple(d.get(c) for c in columns) for d in dicts), key=_null_last)


def _null_last(row: Row) -> tuple[Any, ...]:
    return tuple((v is None, v) for v in row)


def sid(result: CommitResult) -> int:
    """The snapshot a commit made (every commit that adds or removes files makes one)."""
    assert result.snapshot_id is not None, result
    return result.snapshot_id


def table_files(lake: Lake, database: str, table: str) -> set[str]:
    """Every file under the table's folder (data, manifests, metadata), as resolved paths."""
    folder = lake.warehouse.data_dir(database, table).parent
    return {str(p.resolve()) for p in folder.rglob("*") if p.is_file()}


def age(path: str | Path, seconds: float) -> None:
    """Make a file look ``seconds`` old (vacuum judges files by their modification time)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def race_before(monkeypatch: pytest.MonkeyPatch, step: str, rival: Callable[[], object]) -> list[object]:
    """Run ``rival`` (another writer's commit) once, right before this process's next ``Warehouse.<step>``.

    ``_commit_once``: after the commit read the table, before it swaps the metadata pointer (the window in which a
    concurrent job commits). ``_register``: after the swap, before the table's catalog entry is written.
    Returns what ``rival`` returned, once it ran.
    """
    from lakeport.warehouse.warehouse import Warehouse

    original = getattr(Warehouse, step)
    ran: list[object] = []
    started: list[bool] = []

    def racing(self: Warehouse, *args: Any, **kwargs: Any) -> Any:
        if not started:
            started.append(True)  # the rival's own commit goes through unpatched
            ran.append(rival())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Warehouse, step, racing)
    return ran


# ---- worker processes


def spawn(role: str, *args: str) -> subprocess.Popen[bytes]:
    """Start one worker role of this module in its own Python process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.warehouse.warehouse_kit", role, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(procs: Sequence[subprocess.Popen[bytes]], timeout: float) -> None:
    """Wait for every worker; fail with its stderr if one crashed or outlived ``timeout``."""
    deadline = time.monotonic() + timeout
    failures = []
    for proc in procs:
        try:
            _, err = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            failures.append(f"{proc.args!r} timed out:\n{err.decode(errors='replace')[-3000:]}")
            continue
        if proc.returncode != 0:
            failures.append(f"{proc.args!r} exited {proc.returncode}:\n{err.decode(errors='replace')[-3000:]}")
    if failures:
        raise AssertionError("\n\n".join(failures))


def wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.005)


def value_rows(k: int, count: int, offset: int = 0) -> list[dict[str, Any]]:
    """The rows commit ``k`` of the overwrite writer puts in one file: every row carries ``k``."""
    return [{"k": k, "i": offset + i} for i in range(count)]


VALUE_SCHEMA = pa.schema([("k", pa.int64()), ("i", pa.int64())])
APPEND_SCHEMA = pa.schema([("writer", pa.int64()), ("seq", pa.int64()), ("i", pa.int64())])


def overwrite_writer(lake_path: str, database: str, table: str, first: int, last: int, rows: int, files: int) -> None:
    """Overwrite the table once for each ``k`` in ``first..last``: ``files`` files of ``rows`` rows, all ``k``."""
    with Lake.open(lake_path) as lake:
        for k in range(first, last + 1):
            paths = [
                write_parquet(lake, database, table, value_rows(k, rows, f * rows), VALUE_SCHEMA) for f in range(files)
            ]
            lake.warehouse.commit(
                database, table, files=paths, schema=VALUE_SCHEMA, mode="overwrite", properties={"k": str(k)}
            )


def snapshot_reader(lake_path: str, database: str, table: str, stop_file: str, report: str, pause: float = 0.2) -> None:
    """Read the current snapshot again and again until ``stop_file`` exists; report what each read returned.

    ``pause`` seconds between reads leave the (one or two) CPUs of a test machine to the writer.

    A read is ``[distinct k values, row count]``; an error is its type and message.
    """
    reads: list[list[Any]] = []
    errors: list[str] = []
    stop = Path(stop_file)
    with Lake.open(lake_path) as lake:
        while True:
            last = stop.exists()  # one more read after the writer finished
            try:
                files = lake.warehouse.data_files(database, table)
                con = duckdb.connect()
                try:
                    listing = ", ".join("'" + f + "'" for f in files)
                    ks, count = con.execute(
                        f"SELECT list(DISTINCT k ORDER BY k), count(*) FROM read_parquet([{listing}])"
                    ).fetchone() or ([], 0)
                finally:
                    con.close()
                reads.append([list(ks), int(count), len(files)])
            except Exception as exc:
                errors.append(f"{type(exc).__module__}.{type(exc).__name__}: {exc}")
            if last:
                break
            time.sleep(pause)
    Path(report).write_text(json.dumps({"reads": reads, "errors": errors}))


def append_writer(
    lake_path: str, database: str, table: str, writer: int, commits: int, rows: int, start_file: str, report: str
) -> None:
    """Append ``commits`` files of ``rows`` rows each (one commit each), starting when ``start_file`` appears.

    The report lists each commit's outcome: ``ok`` with its snapshot, or the error's type, code and one line.
    """
    from lakeport.errors import LakeportError

    outcomes: list[dict[str, Any]] = []
    with Lake.open(lake_path) as lake:
        paths = [
            write_parquet(
                lake,
                database,
                table,
                [{"writer": writer, "seq": seq, "i": i} for i in range(rows)],
                APPEND_SCHEMA,
                name=f"w{writer}-s{seq}.parquet",
            )
            for seq in range(commits)
        ]
        wait_for(Path(start_file))
        for seq, path in enumerate(paths):
            outcome: dict[str, Any] = {"writer": writer, "seq": seq, "file": path}
            started = time.monotonic()
            try:
                result = lake.warehouse.commit(database, table, files=[path], schema=APPEND_SCHEMA)
                outcome.update(ok=True, snapshot_id=result.snapshot_id, attempts=result.attempts)
            except LakeportError as exc:
                outcome.update(ok=False, type=type(exc).__name__, code=exc.code, line=exc.one_line())
            except Exception as exc:
                outcome.update(ok=False, type=f"{type(exc).__module__}.{type(exc).__name__}", code="", line=str(exc))
            outcome["seconds"] = round(time.monotonic() - started, 3)
            outcomes.append(outcome)
    Path(report).write_text(json.dumps(outcomes))


def open_warehouse(lake_path: str) -> None:
    """What every job does first: open the lake and its Iceberg catalog. Says ``ready`` just before the catalog."""
    import pyiceberg.catalog.sql  # noqa: F401 - imported before "ready": what follows is only the catalog's opening

    with Lake.open(lake_path) as lake:
        print("ready", flush=True)
        lake.warehouse.iceberg.list_namespaces()


def main(argv: Sequence[str]) -> None:
    role, *args = argv
    if role == "open-warehouse":
        open_warehouse(*args)
    elif role == "overwrite-writer":
        lake_path, database, table, first, last, rows, files = args
        overwrite_writer(lake_path, database, table, int(first), int(last), int(rows), int(files))
    elif role == "snapshot-reader":
        lake_path, database, table, stop_file, report = args
        snapshot_reader(lake_path, database, table, stop_file, report)
    elif role == "append-writer":
        lake_path, database, table, writer, commits, rows, start_file, report = args
        append_writer(lake_path, database, table, int(writer), int(commits), int(rows), start_file, report)
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
