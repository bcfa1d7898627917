"""A real lake with one small warehouse table (``music.tracks``) and datasets and a dashboard over it; the same
rows as an Arrow table for independent DuckDB answers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeport import Lake

GENRES = ["pop", "rock", "jazz", None]
TYPES = ["album", "single", "compilation"]


def tracks_table(rows: int = 120, seed: int = 7) -> pa.Table:
    rnd = random.Random(seed)
    start = datetime(1990, 1, 1)
    data: dict[str, list[Any]] = {k: [] for k in (
        "track_id", "artist", "album", "genre", "album_type", "explicit", "release_year", "release_date",
        "duration_sec", "popularity", "energy", "followers")}  # fmt: skip
    for i in range(rows):
        day = start + timedelta(days=rnd.randrange(0, 30 * 365))
        data["track_id"].append(f"t{i:04d}")
        data["artist"].append(f"artist-{rnd.randrange(12)}")
        data["album"].append(f"album-{rnd.randrange(30)}")
        data["genre"].append(rnd.choice(GENRES))
        data["album_type"].append(rnd.choice(TYPES))
        data["explicit"].append(rnd.random() < 0.3)
        data["release_year"].append(day.year)
        data["release_date"].append(day)
        data["duration_sec"].append(round(rnd.uniform(90, 420), 2))
        data["popularity"].append(rnd.randrange(0, 100))
        data["energy"].append(round(rnd.random(), 3))
        data["followers"].append(rnd.randrange(0, 1_000_000))
    schema = pa.schema([
        ("track_id", pa.string()), ("artist", pa.string()), ("album", pa.string()), ("genre", pa.string()),
        ("album_type", pa.string()), ("explicit", pa.bool_()), ("release_year", pa.int64()),
        ("release_date", pa.timestamp("us")), ("duration_sec", pa.float64()), ("popularity", pa.int64()),
        ("energy", pa.float64()), ("followers", pa.int64()),
    ])  # fmt: skip
    return pa.table(data, schema=schema)


def write_table(lake: Lake, table: pa.Table, database: str = "music", name: str = "tracks") -> None:
    if database not in {d.name for d in lake.catalog.list_databases()}:
        lake.catalog.create_database(database)
    folder = lake.warehouse.data_dir(database, name)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{len(list(folder.iterdir()))}.parquet"
    pq.write_table(table, path)
    lake.warehouse.commit(database, name, files=[str(path)], schema=table.schema)


DATASET = {"name": "tracks", "source": "music.tracks", "calculated_fields": {"duration_min": "duration_sec / 60"}}

DASHBOARD: dict[str, Any] = {
    "name": "music",
    "title": "Music",
    "theme": "midnight",
    "parameters": [{"name": "top", "type": "integer", "default": 5, "control": "slider", "min": 1, "max": 20}],
    "filters": [
        {"name": "years", "field": "release_year", "type": "range", "control": "slider"},
        {"name": "genre", "field": "genre", "type": "values", "control": "multi_select"},
        {"name": "kind", "field": "album_type", "type": "values", "control": "dropdown"},
        {"name": "search", "field": "artist", "type": "text", "control": "text"},
    ],
    "sheets": [
        {
            "name": "Overview",
            "visuals": [
                {"id": "kpis", "kind": "kpi", "dataset": "tracks",
                 "measures": ["count(*)", "count_distinct(album)", {"field": "duration_min", "aggregation": "avg",
                                                                     "name": "avg_minutes", "format": ",.1f"}]},
                {"id": "top-artists", "kind": "bar", "orientation": "horizontal", "dataset": "tracks",
                 "dimensions": ["artist"], "measures": ["sum(followers)", "avg(popularity)"],
                 "sort": ["-sum_followers"], "limit": "${top}"},
                {"id": "stacked", "kind": "bar", "mode": "stacked", "dataset": "tracks",
                 "dimensions": ["release_year"], "color": "album_type", "measures": ["count(*)"]},
                {"id": "trend", "kind": "line", "dataset": "tracks",
                 "dimensions": [{"field": "release_date", "granularity": "year", "name": "year"}],
                 "measures": ["avg(duration_sec)"]},
                {"id": "area", "kind": "area", "dataset": "tracks", "granularity": "quarter",
                 "dimensions": ["release_date"], "measures": ["count(*)"]},
                {"id": "types", "kind": "donut", "dataset": "tracks", "dimensions": ["album_type"],
                 "measures": ["count(*)"]},
                {"id": "genres", "kind": "pie", "dataset": "tracks", "dimensions": ["genre"],
                 "measures": ["count_distinct(track_id)"]},
            ],
        },
        {
            "name": "Details",
            "visuals": [
                {"id": "scatter", "kind": "scatter", "dataset": "tracks", "x": "energy", "y": "popularity",
                 "size": "duration_sec", "color": "album_type", "trend_line": True},
                {"id": "scatter-agg", "kind": "scatter", "dataset": "tracks", "dimensions": ["artist"],
                 "x": "avg(energy)", "y": "avg(popularity)", "size": "count(*)"},
                {"id": "hist", "kind": "histogram", "dataset": "tracks", "field": "energy", "bins": 5},
                {"id": "heat", "kind": "heatmap", "dataset": "tracks", "dimensions": ["album_type", "explicit"],
                 "measures": ["avg(popularity)"]},
                {"id": "box", "kind": "box", "dataset": "tracks", "field": "duration_sec",
                 "dimensions": ["album_type"]},
                {"id": "rows", "kind": "table", "dataset": "tracks", "columns": ["track_id", "artist", "popularity"],
                 "sort": ["-popularity", "track_id"], "limit": 7},
                {"id": "agg-table", "kind": "table", "dataset": "tracks", "dimensions": ["album"],
                 "measures": ["count(*)", "max(popularity)"], "limit": 4},
                {"id": "pivot", "kind": "pivot", "dataset": "tracks", "rows": ["album_type"],
                 "columns": ["explicit"], "measures": ["count(*)"], "totals": True},
                {"id": "median", "kind": "kpi", "dataset": "tracks", "measures": ["median(popularity)"]},
            ],
        },
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def music(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lake, pa.Table]]:
    """One lake per test module: music.tracks, dataset ``tracks`` and dashboard ``music``."""
    lake = Lake.init(tmp_path_factory.mktemp("dash") / "lake")
    data = tracks_table()
    write_table(lake, data)
    lake.dashboards.datasets.create_data_set(DATASET)
    lake.dashboards.create_dashboard(DASHBOARD)
    yield lake, data
    lake.close()


def duck(table: pa.Table, sql: str) -> list[tuple[Any, ...]]:
    """An independent answer: DuckDB over the Arrow table (as ``t``), outside lakeport."""
    con = duckdb.connect()
    con.register("t", table)
    con.execute("SET TimeZone = 'UTC'")
    return [tuple(r) for r in con.execute(sql).fetchall()]


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    write_table(lake, tracks_table())
    yield lake
    lake.close()
