"""The Spotify ETL job end to end, next to the same join written as plain DuckDB, pandas, Polars and PySpark.

    .venv/bin/python bench/etl.py [--scale 1] [--repeat 3] [--memory-limit 512MB]

Each contender runs in its own fresh process, on the same generated CSVs, in the same run; the table shows the
median wall time and the peak resident memory. lakeport is measured as a user runs it: the ``lakeport jobs
start spotify`` command (CLI start, the run record, the worker process, DuckDB, the Iceberg commit and the
catalog update), its memory being the worker's peak. The others run the same join — albums ⋈ artists on
artist_id = id ⋈ tracks on track_id = id, left join features on track_id = id, typed columns — and write
Parquet with Snappy. PySpark runs when the ``spark`` extra is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

FILES = {
    "albums": "spotify-albums_data_2023.csv",
    "artists": "spotify_artist_data_2023.csv",
    "tracks": "spotify_tracks_data_2023.csv",
    "features": "spotify_features_data_2023.csv",
}
# VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a child would report its parent's peak.
RSS = "print('RSS', next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:')))"

DUCKDB = """
import duckdb, sys
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.sql(f'''COPY (
  SELECT a.*, r.* EXCLUDE (id, name), r.name AS artist_name, t.track_popularity, t.explicit,
         f.* EXCLUDE (id, type, uri, track_href, analysis_url, duration_ms), year(a.release_date) AS release_year
  FROM read_csv('{src}/{FILES["albums"]}', types={{'release_date': 'TIMESTAMP'}}) a
  JOIN read_csv('{src}/{FILES["artists"]}') r ON a.artist_id = r.id
  JOIN read_csv('{src}/{FILES["tracks"]}', types={{'explicit': 'BOOLEAN'}}) t ON a.track_id = t.id
  LEFT JOIN read_csv('{src}/{FILES["features"]}') f ON a.track_id = f.id
) TO '{out}/duckdb.parquet' (FORMAT parquet, COMPRESSION snappy)''')
"""

PANDAS = """
import pandas as pd, sys
src, out = sys.argv[1], sys.argv[2]
albums = pd.read_csv(f'{src}/{FILES["albums"]}', dtype={'track_id': str, 'artist_id': str, 'album_id': str}, parse_dates=['release_date'])
artists = pd.read_csv(f'{src}/{FILES["artists"]}', dtype={'id': str}).rename(columns={'name': 'artist_name'})
tracks = pd.read_csv(f'{src}/{FILES["tracks"]}', dtype={'id': str})
features = pd.read_csv(f'{src}/{FILES["features"]}', dtype={'id': str}).drop(columns=['type', 'uri', 'track_href', 'analysis_url', 'duration_ms'])
df = albums.merge(artists, left_on='artist_id', right_on='id').drop(columns=['id'])
df = df.merge(tracks, left_on='track_id', right_on='id').drop(columns=['id'])
df = df.merge(features, how='left', left_on='track_id', right_on='id').drop(columns=['id'])
df['release_year'] = df['release_date'].dt.year
df.to_parquet(f'{out}/pandas.parquet', compression='snappy', index=False)
"""

POLARS = """
import polars as pl, sys
src, out = sys.argv[1], sys.argv[2]
albums = pl.scan_csv(f'{src}/{FILES["albums"]}', schema_overrides={'track_id': pl.String, 'artist_id': pl.String, 'release_date': pl.String})
albums = albums.with_columns(pl.col('release_date').str.to_datetime('%Y-%m-%d %H:%M:%S UTC'))
artists = pl.scan_csv(f'{src}/{FILES["artists"]}').rename({'name': 'artist_name'})
tracks = pl.scan_csv(f'{src}/{FILES["tracks"]}')
features = pl.scan_csv(f'{src}/{FILES["features"]}').drop(['type', 'uri', 'track_href', 'analysis_url', 'duration_ms'])
df = (albums.join(artists, left_on='artist_id', right_on='id').join(tracks, left_on='track_id', right_on='id')
      .join(features, how='left', left_on='track_id', right_on='id'))
df = df.with_columns(pl.col('release_date').dt.year().alias('release_year'))
df.sink_parquet(f'{out}/polars.parquet', compression='snappy')
"""

SPARK = """
import sys
from pyspark.sql import SparkSession, functions as F
src, out = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.master('local[2]').config('spark.ui.enabled', 'false').getOrCreate()
r = lambda n: spark.read.csv(f'{src}/{FILES[n]}', header=True, inferSchema=True, multiLine=True, escape='"')
albums, artists, tracks, features = r('albums'), r('artists').withColumnRenamed('name', 'artist_name'), r('tracks'), r('features')
features = features.drop('type', 'uri', 'track_href', 'analysis_url', 'duration_ms')
df = (albums.join(artists, albums.artist_id == artists.id).drop(artists.id)
      .join(tracks, albums.track_id == tracks.id).drop(tracks.id)
      .join(features, albums.track_id == features.id, 'left').drop(features.id))
df.withColumn('release_year', F.year('release_date')).write.mode('overwrite').option('compression', 'snappy').parquet(f'{out}/spark')
import os
def hwm(pid):
    try:
        return next(int(l.split()[1]) * 1024 for l in open(f'/proc/{pid}/status') if l.startswith('VmHWM:'))
    except (OSError, StopIteration):
        return 0
def parent(pid):
    try:
        return int(open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0
kids = [int(p) for p in os.listdir('/proc') if p.isdigit() and parent(p) == os.getpid()]
print('RSS', hwm(os.getpid()) + sum(hwm(k) for k in kids))  # the driver and its JVM
spark.stop()
"""


def run_python(code: str, src: Path, out: Path) -> tuple[float, int]:
    program = f"FILES = {FILES!r}\n" + code + "\n" + RSS
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", program, str(src), str(out)], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    rss = int(next(line.split()[1] for line in proc.stdout.splitlines() if line.startswith("RSS")))
    return seconds, rss


# Installed lakeport has compiled bytecode; a development environment may say not to write it (every start would
# then compile lakeport's sources again): measure lakeport as installed.
LAKEPORT_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_lakeport(lake: Path, job: str = "spotify") -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lakeport.cli.main",
            "--lake",
            str(lake),
            "--output",
            "json",
            "jobs",
            "start",
            job,
        ],
        capture_output=True,
        text=True,
        check=False,
        env=LAKEPORT_ENV,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    run = json.loads(proc.stdout)["JobRun"]
    return seconds, int(run["metrics"]["peak_memory_bytes"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-limit", default="", help="also run lakeport with this DuckDB memory limit")
    parser.add_argument("--skip", default="", help="contenders to leave out, comma-separated (e.g. spark)")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    from lakeport import Lake
    from lakeport.datasets.spotify.generator import SpotifyGenerator
    from lakeport.datasets.spotify.publish import generate_into_lake
    from lakeport.etl import JobDefinition

    console = Console(width=120)
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="lakeport-etl-bench-") as tmp:
        root = Path(tmp)
        lake = Lake.init(root / "lake", values={"storage.fsync": False})
        sample = generate_into_lake(lake.storage, SpotifyGenerator(scale=args.scale, seed=0), "staging/spotify/")
        console.print(f"generated scale {args.scale} in {sample.seconds:.1f}s: {sample.rows}")
        definition = JobDefinition.from_file(REPO / "examples" / "spotify" / "job.yaml")
        lake.jobs.create_job(definition)
        if args.memory_limit:
            limited = JobDefinition.from_dict(
                {**definition.to_dict(), "name": "spotify-limited", "memory_limit": args.memory_limit}
            )
            lake.jobs.create_job(limited)
        lake.close()
        src = root / "lake" / "objects" / "lakeport" / "staging" / "spotify"
        out = root / "out"
        out.mkdir()
        contenders: list[tuple[str, object]] = [("lakeport (jobs start, end to end)", None), ("DuckDB script", DUCKDB)]
        contenders += [("Polars", POLARS), ("pandas", PANDAS)]
        try:
            import pyspark  # type: ignore[import-not-found,unused-ignore]  # noqa: F401

            contenders.append(("PySpark local[2]", SPARK))
        except ImportError:
            console.print("PySpark: not installed (pip install 'lakeport[spark]'); left out")
        for name, code in contenders:
            if any(s in name.lower() for s in skip):
                continue
            times, peaks = [], []
            for attempt in range(args.repeat + 1):  # the first run warms the page cache (and compiles bytecode)
                seconds, rss = run_lakeport(root / "lake") if code is None else run_python(str(code), src, out)
                if attempt == 0:
                    continue
                times.append(seconds)
                peaks.append(rss)
            rows.append((name, statistics.median(times), max(peaks) / 2**20))
            console.print(f"{name}: {statistics.median(times):.2f}s, {max(peaks) / 2**20:.0f} MiB")
        if args.memory_limit:
            times, peaks = [], []
            for _ in range(args.repeat):
                seconds, peak = run_lakeport(root / "lake", "spotify-limited")
                times.append(seconds)
                peaks.append(peak)
            rows.append((f"lakeport, memory_limit {args.memory_limit}", statistics.median(times), max(peaks) / 2**20))
    table = Table(
        "contender",
        "median seconds",
        "peak memory (MiB)",
        title=f"Spotify join, scale {args.scale}, {args.repeat} runs each",
    )
    for name, seconds, mib in rows:
        table.add_row(name, f"{seconds:.2f}", f"{mib:.0f}")
    console.print(table)


if __name__ == "__main__":
    main()
