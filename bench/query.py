"""Query latency: the Spotify tutorial and dashboard queries through lakeport's query service, next to raw DuckDB
on the same Parquet files, in one run.

    .venv/bin/python bench/query.py [--scale 1] [--repeat 20]

lakeport is measured as an application calls it (``lake.query`` then the first page of results: translation,
catalog resolution, the sandboxed connection, the run record, the result files); DuckDB runs the same SQL on a
warm connection over ``read_parquet`` of the table's current files. Medians of ``--repeat`` warm runs each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

QUERIES = {
    "tutorial: tracks per artist": (
        "SELECT artist_name, COUNT(track_id) AS total_tracks FROM {t} GROUP BY artist_name "
        "ORDER BY total_tracks DESC LIMIT 10"
    ),
    "tracks per album": (
        "SELECT album_name, count(*) AS tracks, avg(track_popularity) AS popularity FROM {t} "
        "GROUP BY album_name ORDER BY tracks DESC, album_name LIMIT 20"
    ),
    "duration trend by release year": (
        "SELECT release_year, avg(duration_sec) AS seconds, count(*) AS tracks FROM {t} "
        "GROUP BY release_year ORDER BY release_year"
    ),
    "popular explicit tracks": (
        "SELECT track_name, artist_name, track_popularity FROM {t} WHERE explicit AND track_popularity > 80 "
        "ORDER BY track_popularity DESC, track_name LIMIT 50"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    import duckdb

    from lakeport import Lake
    from lakeport.datasets.spotify.generator import SpotifyGenerator
    from lakeport.datasets.spotify.publish import generate_into_lake
    from lakeport.etl import JobDefinition

    console = Console(width=120)
    with tempfile.TemporaryDirectory(prefix="lakeport-query-bench-") as tmp:
        lake = Lake.init(Path(tmp) / "lake", values={"storage.fsync": False})
        generate_into_lake(lake.storage, SpotifyGenerator(scale=args.scale, seed=0), "staging/spotify/")
        lake.jobs.create_job(JobDefinition.from_file(REPO / "examples" / "spotify" / "job.yaml"))
        run = lake.jobs.start_job_run("spotify", wait=True)
        if run.state != "SUCCEEDED":
            raise SystemExit(f"the Spotify job {run.state}: {run.error}")
        files = lake.warehouse.data_files("spotify", "tracks")
        console.print(f"scale {args.scale}: {run.metrics['rows_written']:,} rows in {len(files)} Parquet files")
        con = duckdb.connect()
        source = f"read_parquet({files!r})"
        table = Table("query", "lakeport median ms", "DuckDB median ms", "difference ms", title="warm query latency")
        for name, sql in QUERIES.items():
            ours, theirs = [], []
            for attempt in range(args.repeat + 1):
                started = time.perf_counter()
                execution = lake.query(sql.format(t="spotify.tracks"))
                lake.queries.get_query_results(execution.id, max_results=100)
                elapsed = time.perf_counter() - started
                if execution.state != "SUCCEEDED":
                    raise SystemExit(f"{name}: {execution.state_change_reason}")
                started = time.perf_counter()
                con.sql(sql.format(t=source)).fetchall()
                raw = time.perf_counter() - started
                if attempt:  # the first run of each warms caches
                    ours.append(elapsed * 1000)
                    theirs.append(raw * 1000)
            a, b = statistics.median(ours), statistics.median(theirs)
            table.add_row(name, f"{a:.1f}", f"{b:.1f}", f"{a - b:+.1f}")
        console.print(table)
        lake.close()


if __name__ == "__main__":
    main()
