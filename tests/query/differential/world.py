"""The data both sides query, built once per test session: a lake holding

- the Spotify 2023 sample (lakeport's generator, a small scale) as crawled CSV tables ``spotify_csv.albums``,
  ``artists``, ``tracks``, ``features`` (one folder each), and the Iceberg table ``spotify.tracks`` that the
  reference ETL job (examples/spotify/job.yaml) writes from the same files;
- TPC-H at scale factor 0.001 (``tpchgen-cli``) as Parquet, one folder per table, crawled into ``tpch``;

and the oracle: a plain DuckDB connection holding one table per catalog table, loaded once from the very same
files with ``read_csv`` / ``read_parquet`` (CSV fields read as text and cast to the declared types, an empty
field NULL) — written here from the files' layout, never from lakeport's table resolution.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lakeport import Lake
from lakeport.datasets.spotify.generator import SpotifyGenerator
from lakeport.etl import JobDefinition
from tests.query.differential.catalog import SPOTIFY_CSV, SPOTIFY_ICEBERG, TABLES, TPCH, TableSpec
from tests.query.differential.nodes import NUMERIC, Value

REPO = Path(__file__).resolve().parents[3]
BUCKET = "lakeport"
SPOTIFY_SCALE = 0.005  # about 2,100 album tracks, 185 artists
TPCH_SCALE = "0.001"  # 6,005 line items, 1,500 orders
SPOTIFY_FILES = {
    "albums": "spotify-albums_data_2023.csv",
    "artists": "spotify_artist_data_2023.csv",
    "tracks": "spotify_tracks_data_2023.csv",
    "features": "spotify_features_data_2023.csv",
}
SAMPLES = 32


@dataclass(frozen=True)
class ColumnStats:
    samples: tuple[Value, ...]  # distinct non-NULL values, spread over the column's range
    bound: float  # the largest magnitude (numbers), else 0
    nullable: bool


@dataclass
class World:
    lake: Lake
    oracle: duckdb.DuckDBPyConnection
    views: dict[str, str] = field(default_factory=dict)  # oracle table → the SELECT that read it
    stats: dict[tuple[str, str], ColumnStats] = field(default_factory=dict)  # (table, column) → stats
    sizes: dict[str, int] = field(default_factory=dict)  # table → rows

    def close(self) -> None:
        self.oracle.close()
        self.lake.close()


def tpchgen() -> str:
    found = Path(sys.executable).parent / "tpchgen-cli"
    if found.exists():
        return str(found)
    which = shutil.which("tpchgen-cli")
    if which is None:
        raise RuntimeError("tpchgen-cli is missing: pip install -e '.[dev]' installs it")
    return which


def _put(lake: Lake, key: str, path: Path) -> None:
    lake.storage.put_object(BUCKET, key, path.read_bytes())


def _load_spotify(lake: Lake, scratch: Path) -> None:
    result = SpotifyGenerator(scale=SPOTIFY_SCALE, seed=0).generate(scratch / "spotify")
    files = {f.name: f.path for f in result.files}
    for folder, name in SPOTIFY_FILES.items():
        _put(lake, f"staging/spotify_csv/{folder}/{name}", files[name])
        _put(lake, f"staging/spotify_raw/{name}", files[name])
    lake.crawlers.crawl(f"s3://{BUCKET}/staging/spotify_csv/", database="spotify_csv")
    lake.jobs.create_job(JobDefinition.from_file(REPO / "examples" / "spotify" / "job.yaml"))
    run = lake.jobs.start_job_run("spotify", arguments={"staging": f"s3://{BUCKET}/staging/spotify_raw/"}, wait=True)
    if run.state != "SUCCEEDED":
        raise RuntimeError(f"the Spotify job {run.state}: {run.error}")


def _load_tpch(lake: Lake, scratch: Path) -> None:
    out = scratch / "tpch"
    command = [tpchgen(), "parquet", "-s", TPCH_SCALE, "-o", str(out), "-n", "1", "-q"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    for spec in TPCH:
        _put(lake, f"staging/tpch/{spec.name}/{spec.name}.parquet", out / f"{spec.name}.parquet")
    lake.crawlers.crawl(f"s3://{BUCKET}/staging/tpch/", database="tpch")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _csv_cast(name: str, hive_type: str) -> str:
    """A CSV field (read as text; an empty field is NULL) as the declared type."""
    text = f"NULLIF({_quote(name)}, '')"
    if hive_type == "string":
        return f"{text} AS {_quote(name)}"
    if hive_type == "timestamp":
        return f"strptime({text}, '%Y-%m-%d %H:%M:%S UTC') AS {_quote(name)}"
    duck = {"bigint": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN"}[hive_type]
    return f"CAST({text} AS {duck}) AS {_quote(name)}"


def _oracle_views(lake: Lake) -> dict[str, str]:
    objects = lake.objects_root
    assert objects is not None, "the differential lake is a local one"
    views: dict[str, str] = {}
    for spec in SPOTIFY_CSV:
        path = objects / BUCKET / "staging" / "spotify_csv" / spec.name / SPOTIFY_FILES[spec.name]
        picks = ", ".join(_csv_cast(c.name, c.hive_type) for c in spec.columns)
        reader = f"read_csv('{path}', header = true, all_varchar = true, delim = ',', quote = '\"')"
        views[spec.oracle_view] = f"SELECT {picks} FROM {reader}"
    for spec in TPCH:
        path = objects / BUCKET / "staging" / "tpch" / spec.name / f"{spec.name}.parquet"
        picks = ", ".join(_quote(c.name) for c in spec.columns)
        views[spec.oracle_view] = f"SELECT {picks} FROM read_parquet('{path}')"
    files = lake.warehouse.data_files(SPOTIFY_ICEBERG.database, SPOTIFY_ICEBERG.name)
    picks = ", ".join(_quote(c.name) for c in SPOTIFY_ICEBERG.columns)
    views[SPOTIFY_ICEBERG.oracle_view] = f"SELECT {picks} FROM read_parquet({[str(f) for f in files]!r})"
    return views


def _stats(oracle: duckdb.DuckDBPyConnection, spec: TableSpec) -> dict[tuple[str, str], ColumnStats]:
    found: dict[tuple[str, str], ColumnStats] = {}
    for column in spec.columns:
        name = _quote(column.name)
        values = [
            r[0]
            for r in oracle.sql(
                f"SELECT DISTINCT {name} FROM {spec.oracle_view} WHERE {name} IS NOT NULL ORDER BY {name}"
            ).fetchall()
        ]
        step = max(1, len(values) // SAMPLES)
        samples = tuple(values[::step][:SAMPLES])
        nulls = oracle.sql(f"SELECT count(*) FROM {spec.oracle_view} WHERE {name} IS NULL").fetchall()[0][0]
        bound = max((abs(float(v)) for v in values), default=0.0) if column.kind in NUMERIC else 0.0
        found[(spec.qualified, column.name)] = ColumnStats(samples, bound, nulls > 0)
    return found


def build_world(scratch: Path) -> World:
    lake = Lake.init(scratch / "lake")
    _load_spotify(lake, scratch)
    _load_tpch(lake, scratch)
    return attach(lake)


def attach(lake: Lake) -> World:
    """The oracle over a lake ``build_world`` made: its tables, and the columns' samples for the generator."""
    oracle = duckdb.connect(config={"threads": 1})
    world = World(lake, oracle, _oracle_views(lake))
    for view, select in world.views.items():
        oracle.execute(f"CREATE TABLE {view} AS {select}")  # the files are read once, not once per query
    for spec in TABLES:
        world.stats.update(_stats(oracle, spec))
        world.sizes[spec.qualified] = oracle.sql(f"SELECT count(*) FROM {spec.oracle_view}").fetchall()[0][0]
    return world
