"""Query latency, in one run: the Spotify tutorial and dashboard queries through lakeport's query service next to
raw DuckDB on the same Parquet files (at one or more ``--scale``), then the 22 TPC-H queries in Athena's dialect
through lakeport next to DuckDB on the same crawled Parquet files, with whether the answers are equal.

    .venv/bin/python bench/query.py [--scale 1 [10 ...]] [--tpch-scale 1] [--repeat 10] [--skip-tpch] [--markdown]

lakeport is measured as an application calls it (``lake.query`` then the first page of results: translation,
catalog resolution, the sandboxed connection, the run record, the result files); DuckDB runs the same SQL on a
warm connection over ``read_parquet`` of the table's current files and fetches every row. Each query runs once to
warm up (its answers from both sides are compared then), then ``--repeat`` times on each side, alternating;
medians. The Spotify target (issue 6) is lakeport within 1.2 × DuckDB + 30 ms.

Spotify data: the sample generator at the scale, then the reference ETL job writing ``spotify.tracks`` (scale 10
takes about two minutes to generate and 20 s to transform; give the temporary folder 12 GB with ``--workdir``).
TPC-H data: ``tpchgen-cli`` Parquet, uploaded to a lake's staging area and crawled (bench/query_tpch.py).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

import yaml  # noqa: E402

from bench import query_tpch  # noqa: E402
from bench.report import Report  # noqa: E402

if TYPE_CHECKING:
    import duckdb

    from lakeport import Lake

PAGE = 100  # the first page an application reads
SPOTIFY_QUERIES: dict[str, str] = yaml.safe_load((REPO / "examples" / "spotify" / "queries.yaml").read_text())


def timed_lakeport(lake: Lake, sql: str, database: str) -> float:
    """Milliseconds from ``lake.query`` to the first page of results."""
    started = time.perf_counter()
    execution = lake.query(sql, database=database)
    if execution.state != "SUCCEEDED":
        raise SystemExit(f"lakeport: {execution.state}: {execution.state_change_reason}\n{sql}")
    lake.queries.get_query_results(execution.id, max_results=PAGE)
    return (time.perf_counter() - started) * 1000


def timed_duckdb(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    started = time.perf_counter()
    con.sql(sql).fetchall()
    return (time.perf_counter() - started) * 1000


def medians(repeat: int, ours: Callable[[], float], theirs: Callable[[], float]) -> tuple[float, float]:
    """Median milliseconds of ``repeat`` runs of each, alternating (a burst of load hits both alike)."""
    a, b = [], []
    for _ in range(repeat):
        a.append(ours())
        b.append(theirs())
    return statistics.median(a), statistics.median(b)


def spotify(report: Report, scale: float, repeat: int, workdir: Path) -> None:
    import duckdb

    from lakeport import Lake
    from lakeport.datasets.spotify.generator import SpotifyGenerator
    from lakeport.datasets.spotify.publish import generate_into_lake
    from lakeport.etl import JobDefinition

    root = Path(tempfile.mkdtemp(prefix=f"spotify-{scale:g}-", dir=workdir))
    try:
        lake = Lake.init(root / "lake", values={"storage.fsync": False})
        started = time.perf_counter()
        generate_into_lake(lake.storage, SpotifyGenerator(scale=scale, seed=0), "staging/spotify/")
        generated = time.perf_counter() - started
        lake.jobs.create_job(JobDefinition.from_file(REPO / "examples" / "spotify" / "job.yaml"))
        started = time.perf_counter()
        run = lake.jobs.start_job_run("spotify", wait=True)
        if run.state != "SUCCEEDED":
            raise SystemExit(f"the Spotify job {run.state}: {run.error}")
        files = lake.warehouse.data_files("spotify", "tracks")
        report.note(
            f"Spotify scale {scale:g}: generated in {generated:.0f} s, the job wrote {run.metrics['rows_written']:,} "
            f"rows in {len(files)} Parquet files in {time.perf_counter() - started:.0f} s"
        )
        con = duckdb.connect()
        source = f"read_parquet({files!r})"
        rows = []
        for name, sql in SPOTIFY_QUERIES.items():
            ours, theirs = sql.format(t="spotify.tracks"), sql.format(t=source)
            timed_lakeport(lake, ours, "default")  # warm-up
            timed_duckdb(con, theirs)
            a, b = medians(repeat, partial(timed_lakeport, lake, ours, "default"), partial(timed_duckdb, con, theirs))
            target = 1.2 * b + 30
            rows.append(
                [name, f"{a:.1f}", f"{b:.1f}", f"{a / b:.2f}x", f"{target:.1f}", "yes" if a <= target else "no"]
            )
        header = ["query", "lakeport median ms", "DuckDB median ms", "ratio", "target ms", "within target"]
        report.table(f"Spotify scale {scale:g}: warm query latency, medians of {repeat}", header, rows)
        con.close()
        lake.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def tpch(report: Report, scale: float, repeat: int, workdir: Path) -> None:
    import duckdb

    from lakeport import Lake

    root = Path(tempfile.mkdtemp(prefix=f"tpch-{scale:g}-", dir=workdir))
    try:
        started = time.perf_counter()
        generated = query_tpch.generate(scale, root / "generated")
        lake = Lake.init(root / "lake", values={"storage.fsync": False})
        query_tpch.load(lake, generated)
        shutil.rmtree(root / "generated")
        files = query_tpch.lake_files(lake)
        megabytes = sum(p.stat().st_size for p in files.values()) / 2**20
        report.note(
            f"TPC-H scale {scale:g}: {megabytes:,.0f} MiB of Parquet generated, uploaded and crawled in "
            f"{time.perf_counter() - started:.0f} s"
        )
        con = duckdb.connect()
        query_tpch.oracle(con, files)
        rows, equal, sums = [], 0, [0.0, 0.0]
        for name in query_tpch.QUERIES:
            ours, theirs = query_tpch.athena_sql(name), query_tpch.oracle_sql(name)
            got = query_tpch.run_lakeport(lake, ours)  # the warm-up run of each side gives the answers compared
            problems = query_tpch.differences(name, got, con.sql(theirs).fetchall())
            equal += not problems
            for problem in problems[:2]:
                report.note(f"{name}: {problem}")
            a, b = medians(repeat, partial(timed_lakeport, lake, ours, "tpch"), partial(timed_duckdb, con, theirs))
            sums[0] += a
            sums[1] += b
            rows.append([name.upper(), f"{a:.1f}", f"{b:.1f}", f"{a / b:.2f}x", "no" if problems else "yes"])
        total = ["all 22", f"{sums[0]:.1f}", f"{sums[1]:.1f}", f"{sums[0] / sums[1]:.2f}x", f"{equal}/22"]
        rows.append(total)
        header = ["query", "lakeport median ms", "DuckDB median ms", "ratio", "answers equal"]
        report.table(f"TPC-H scale {scale:g}: warm query latency, medians of {repeat}", header, rows)
        con.close()
        lake.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, nargs="+", default=[1.0], help="Spotify sample scales (default 1)")
    parser.add_argument("--tpch-scale", type=float, default=1.0, help="TPC-H scale factor (default 1)")
    parser.add_argument("--repeat", type=int, default=10, help="measured runs of each query on each side")
    parser.add_argument("--skip-spotify", action="store_true", help="only the TPC-H part")
    parser.add_argument("--skip-tpch", action="store_true", help="only the Spotify part")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--workdir", type=Path, default=None, help="where the lakes go (default: the temp folder)")
    args = parser.parse_args()
    report = Report(args.markdown)
    workdir = args.workdir or Path(tempfile.gettempdir())
    workdir.mkdir(parents=True, exist_ok=True)
    if not args.skip_spotify:
        for scale in args.scale:
            spotify(report, scale, args.repeat, workdir)
    if not args.skip_tpch:
        tpch(report, args.tpch_scale, args.repeat, workdir)


if __name__ == "__main__":
    main()
