"""`make demo` runs what exists of the pipeline to the end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from lakeport import Lake


def run_demo(lake: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "lakeport.demo", str(lake), "--scale", "0.01"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_demo_runs_to_the_end_and_is_repeatable(tmp_path: Path) -> None:
    for _ in range(2):
        proc = run_demo(tmp_path / "demo-lake")
        assert "staging/spotify/spotify-albums_data_2023.csv" in proc.stdout
        assert "demo finished" in proc.stdout
        assert "crawled staging: SUCCEEDED" in proc.stdout
    with Lake.open(tmp_path / "demo-lake") as lake:
        keys = [o.key for o in lake.storage.iter_objects("lakeport", prefix="staging/")]
        assert keys == [
            "staging/spotify/spotify-albums_data_2023.csv",
            "staging/spotify/spotify_artist_data_2023.csv",
            "staging/spotify/spotify_data_12_20_2023.csv",
            "staging/spotify/spotify_features_data_2023.csv",
            "staging/spotify/spotify_tracks_data_2023.csv",
        ]
        header = lake.storage.read_bytes("lakeport", keys[0]).decode().splitlines()[0]
        assert header.startswith("track_name,track_id,track_number,duration_ms,album_type,artists")
        # Running the demo twice lands the same bytes: no duplicate events.
        assert len(lake.events.read(prefix="staging/")) == 5
        tracks = lake.catalog.get_table("spotify", "spotify_tracks_data_2023_csv")
        assert [(c.name, c.type) for c in tracks.columns] == [
            ("id", "string"),
            ("track_popularity", "bigint"),
            ("explicit", "boolean"),
        ]
        names = sorted(t.name for t in lake.catalog.list_tables("spotify"))
        assert len(names) == 6
        assert "tracks" in names  # the ETL job's Iceberg table, next to the five crawled ones
        assert lake.catalog.get_table("spotify", "tracks").table_type == "ICEBERG"


def test_the_tutorial_query_returns_what_duckdb_returns_on_the_same_files(tmp_path: Path) -> None:
    """Acceptance (issue 6): the tutorials' Athena query through lakeport equals raw DuckDB on the Parquet files."""
    proc = run_demo(tmp_path / "demo-lake")
    assert "Athena: most popular artists by tracks" in proc.stdout
    with Lake.open(tmp_path / "demo-lake") as lake:
        execution = lake.query(
            "SELECT artist_name, COUNT(track_id) AS total_tracks FROM spotify.tracks GROUP BY artist_name "
            "ORDER BY total_tracks DESC, artist_name"
        )
        assert execution.state == "SUCCEEDED", execution.state_change_reason
        page = lake.queries.get_query_results(execution.id, max_results=1000)
        got = [tuple(c.get("VarCharValue") for c in r["Data"]) for r in page["ResultSet"]["Rows"][1:]]
        files = lake.warehouse.data_files("spotify", "tracks")
        expected = (
            duckdb.connect()
            .sql(
                f"SELECT artist_name, COUNT(track_id) AS total_tracks FROM read_parquet({files!r}) "
                "GROUP BY artist_name ORDER BY total_tracks DESC, artist_name LIMIT 999"
            )
            .fetchall()
        )
        assert got == [(name, str(count)) for name, count in expected]
        assert len(got) > 10
