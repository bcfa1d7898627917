"""Disk full during an ETL write: the run fails with one clear line, the table is unchanged, the lake stays usable.

The lake's warehouse folder and its run scratch folder (DuckDB's temp directory) live on a small tmpfs, mounted
in a private mount namespace (``unshare --user --map-root-user --mount``: works as root and, where the kernel
allows user namespaces, as anyone). A ballast file leaves too little room for the second, larger write. The
scenario runs in a child process inside that namespace (the mount is visible only there) and reports what it
saw as JSON; this test asserts on the report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb

from lakeport import Lake
from lakeport.etl import JobDefinition

REPO = Path(__file__).resolve().parents[2]
JOB = "fill"
TABLE = ("db", "t")
SMALL_ROWS = 2_000
BIG_ROWS = 100_000  # about 4 MB of Parquet: random hex does not compress
FS_MB = 8
BALLAST_MB = 5  # leaves about 3 MB: the big write cannot fit until the ballast is removed


def fill_job() -> JobDefinition:
    return JobDefinition.from_dict(
        {
            "name": JOB,
            "parameters": {"path": "s3://lakeport/staging/small/"},
            "nodes": [
                {
                    "id": "src",
                    "type": "source",
                    "path": "${path}",
                    "format": "csv",
                    "options": {"header": True},
                    "columns": {"id": "bigint"},
                },
                {"id": "out", "type": "sink", "input": "src", "table": "db.t", "mode": "append"},
            ],
        }
    )


def prepare_lake(root: Path) -> None:
    """A lake with the job, its two inputs in staging (on the ordinary disk) and the folders to mount over."""
    lake = Lake.init(root)
    try:
        con = duckdb.connect()
        for name, rows in (("small", SMALL_ROWS), ("big", BIG_ROWS)):
            folder = root / "objects" / "lakeport" / "staging" / name
            folder.mkdir(parents=True)
            con.execute(
                f"COPY (SELECT i AS id, md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS v FROM range({rows}) t(i)) "
                f"TO '{folder / 'rows.csv'}' (HEADER)"
            )
        lake.jobs.create_job(fill_job())
    finally:
        lake.close()
    for folder in (root / "objects" / "lakeport" / "warehouse", root / ".lakeport" / "work"):
        folder.mkdir(parents=True, exist_ok=True)


def table_state(lake: Lake) -> dict[str, Any]:
    """The table's current snapshot, its row count read through Iceberg, and whether every data file exists."""
    table = lake.warehouse.require(*TABLE)
    snapshot = table.current_snapshot()
    files = lake.warehouse.data_files(*TABLE)
    entry = lake.catalog.get_table(*TABLE)
    metadata = lake.warehouse.local_path(entry.parameters["metadata_location"])
    return {
        "snapshot": None if snapshot is None else snapshot.snapshot_id,
        "rows": table.scan().to_arrow().num_rows,
        "files_exist": all(os.path.exists(f) for f in files),
        "catalog_metadata_exists": os.path.exists(metadata),
        "unreferenced": sorted(
            str(p)
            for p in (lake.warehouse.data_dir(*TABLE)).rglob("*.parquet")
            if str(p.resolve()) not in {str(Path(f).resolve()) for f in files}
        ),
    }


def scenario(root: Path, mount: Path, report: Path) -> None:
    """Run inside the namespace, with ``mount`` the small fs: write, fill the disk, fail, query, free, rewrite."""
    out: dict[str, Any] = {}
    ballast = mount / "ballast"
    with Lake.open(root) as lake:
        small = lake.jobs.start_job_run(JOB, wait=True)
        out["small"] = {"state": small.state, "error": small.error}
        out["before"] = table_state(lake)
        with ballast.open("wb") as handle:
            handle.write(os.urandom(BALLAST_MB * 1024 * 1024))
        big = lake.jobs.start_job_run(JOB, arguments={"path": "s3://lakeport/staging/big/"}, wait=True)
        out["big"] = {"state": big.state, "error": big.error}
        out["after_failure"] = table_state(lake)
        out["scratch_left"] = sorted(p.name for p in (root / ".lakeport" / "work").iterdir())
        query = lake.queries.start_query_execution("SELECT count(*) AS n FROM db.t", wait=True)
        rows = lake.queries.get_query_rows(query.id)[1] if query.state == "SUCCEEDED" else []
        out["query"] = {"state": query.state, "reason": query.state_change_reason, "rows": rows}
        ballast.unlink()
        again = lake.jobs.start_job_run(JOB, arguments={"path": "s3://lakeport/staging/big/"}, wait=True)
        out["again"] = {"state": again.state, "error": again.error}
        out["after_rerun"] = table_state(lake)
        history = lake.warehouse.history(*TABLE)
        out["history"] = [s.summary.get("lakeport.run-id") for s in sorted(history, key=lambda s: s.committed_at)]
        out["runs"] = {"small": small.id, "big": big.id, "again": again.id}
    report.write_text(json.dumps(out), encoding="utf-8")


def run_in_small_fs(root: Path, mount: Path, report: Path) -> subprocess.CompletedProcess[str]:
    """The scenario in a child process, in a mount namespace where the warehouse and scratch folders are on a
    ``FS_MB`` tmpfs."""
    unshare = shutil.which("unshare")
    assert unshare is not None, "this test needs util-linux's unshare (to mount a small filesystem)"
    warehouse = root / "objects" / "lakeport" / "warehouse"
    scratch = root / ".lakeport" / "work"
    script = (
        f"set -e; mount -t tmpfs -o size={FS_MB}m tmpfs '{mount}'; mkdir '{mount}/warehouse' '{mount}/work'; "
        f"mount --bind '{mount}/warehouse' '{warehouse}'; mount --bind '{mount}/work' '{scratch}'; "
        f'exec "$0" -c "$1" "$2" "$3" "$4"'
    )
    code = (
        "import sys; from pathlib import Path; from tests.reliability.test_disk_full import scenario; "
        "scenario(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [
            unshare,
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
            sys.executable,
            code,
            *map(str, (root, mount, report)),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_disk_that_fills_during_an_etl_write_fails_the_run_cleanly_and_keeps_the_table(tmp_path: Path) -> None:
    root, mount, report = tmp_path / "lake", tmp_path / "small-fs", tmp_path / "report.json"
    mount.mkdir()
    prepare_lake(root)

    done = run_in_small_fs(root, mount, report)
    assert done.returncode == 0, (
        "could not run the scenario on a small tmpfs in a private mount namespace "
        f"(unshare --user --map-root-user --mount; exit {done.returncode}):\n{done.stderr[-3000:]}"
    )
    assert report.exists(), done.stderr[-3000:]
    out = json.loads(report.read_text(encoding="utf-8"))

    assert out["small"] == {"state": "SUCCEEDED", "error": None}
    before = out["before"]
    assert before["rows"] == SMALL_ROWS

    # the write that fills the disk: FAILED with one line naming the disk problem and the table
    assert out["big"]["state"] == "FAILED"
    error = out["big"]["error"]
    assert "\n" not in error
    assert "no space left on device" in error.lower()
    assert "db.t" in error
    assert "keeps its last snapshot" in error
    # the table is unchanged: same snapshot, same rows, every file there, nothing of the failed run left behind
    after = out["after_failure"]
    assert after["snapshot"] == before["snapshot"]
    assert after["rows"] == SMALL_ROWS
    assert after["files_exist"]
    assert after["catalog_metadata_exists"]
    assert after["unreferenced"] == [], "the failed run's partial files still take space"
    assert out["scratch_left"] == [], "the failed run's scratch folder (DuckDB temp) is still there"

    # the lake stays usable: a query works while the disk is still full
    assert out["query"]["state"] == "SUCCEEDED", out["query"]["reason"]
    assert out["query"]["rows"] == [[SMALL_ROWS]] or out["query"]["rows"] == [(SMALL_ROWS,)]

    # after freeing space, the same run succeeds and adds exactly its rows in one new snapshot
    assert out["again"] == {"state": "SUCCEEDED", "error": None}
    rerun = out["after_rerun"]
    assert rerun["rows"] == SMALL_ROWS + BIG_ROWS
    assert rerun["snapshot"] != before["snapshot"]
    assert rerun["files_exist"]
    assert rerun["catalog_metadata_exists"]
    assert rerun["unreferenced"] == []
    assert out["history"] == [out["runs"]["small"], out["runs"]["again"]]

    # and outside the namespace, the lake on the ordinary disk still opens and knows every run
    with Lake.open(root) as lake:
        states = {r.id: r.state for r in lake.jobs.list_job_runs(JOB)}
        assert states == {
            out["runs"]["small"]: "SUCCEEDED",
            out["runs"]["big"]: "FAILED",
            out["runs"]["again"]: "SUCCEEDED",
        }
