"""`make demo` runs what exists of the pipeline to the end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lakeport import Lake


def test_demo_runs_to_the_end_and_is_repeatable(tmp_path: Path) -> None:
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "lakeport.demo", str(tmp_path / "demo-lake"), "--scale", "0.01"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
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
        assert len(lake.events.read()) == 5
        tracks = lake.catalog.get_table("spotify", "spotify_tracks_data_2023_csv")
        assert [(c.name, c.type) for c in tracks.columns] == [
            ("id", "string"),
            ("track_popularity", "bigint"),
            ("explicit", "boolean"),
        ]
        assert len(lake.catalog.list_tables("spotify")) == 5
