"""examples/spotify/dashboard.yaml and datasets.yaml: valid, and every visual answers on a tiny generated lake;
a few checked against DuckDB over the warehouse table read with pyiceberg (not the query service)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from lakeport import Lake
from lakeport.dashboards import VisualData, load_document, parse_datasets
from lakeport.datasets.spotify.generator import SpotifyGenerator
from lakeport.datasets.spotify.publish import generate_into_lake
from lakeport.etl import JobDefinition
from tests.dashboards.conftest import duck

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "spotify"


@pytest.fixture(scope="module")
def spotify(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lake, pa.Table]]:
    lake = Lake.init(tmp_path_factory.mktemp("spotify") / "lake")
    generate_into_lake(lake.storage, SpotifyGenerator(scale=0.005, seed=0), "staging/spotify/")
    lake.jobs.create_job(JobDefinition.from_file(EXAMPLES / "job.yaml"))
    assert lake.jobs.start_job_run("spotify", wait=True).state == "SUCCEEDED"
    for definition in parse_datasets(load_document(EXAMPLES / "datasets.yaml")[0]):
        lake.dashboards.datasets.create_data_set(definition)
    lake.dashboards.create_dashboard((EXAMPLES / "dashboard.yaml").read_text())
    table = lake.warehouse.load("spotify", "tracks")
    assert table is not None
    yield lake, table.scan().to_arrow()
    lake.close()


def test_every_visual_of_every_sheet_answers_with_rows(spotify: tuple[Lake, pa.Table]) -> None:
    lake, _ = spotify
    board = lake.dashboards.describe_dashboard("spotify")
    assert board.summary()["Sheets"] == ["Overview", "Audio features", "Details"]
    for sheet in board.summary()["Sheets"]:
        for answer in lake.dashboards.dashboard_data("spotify", sheet, filters={"years": [1990, 2023]}):
            data = answer.to_dict()
            assert "Error" not in data, data
            assert data["Rows"], f"{sheet}/{data['Visual']} is empty"


def test_kpis_top_albums_and_explicit_share_match_duckdb(spotify: tuple[Lake, pa.Table]) -> None:
    lake, tracks = spotify
    filters = {"years": [2005, 2020], "album_type": ["album", "single"]}
    where = "release_year BETWEEN 2005 AND 2020 AND album_type IN ('album', 'single')"
    answers = {
        a.visual: a for a in lake.dashboards.dashboard_data("spotify", filters=filters) if isinstance(a, VisualData)
    }
    want = duck(tracks, f"SELECT count(DISTINCT track_id), count(DISTINCT album_id), count(DISTINCT artist_id), "
                        f"avg(duration_sec / 60) FROM t WHERE {where}")[0]  # fmt: skip
    got = [answers[k].rows[0][0] for k in ("tracks", "albums", "artists", "avg-duration")]
    assert got[:3] == list(want[:3])
    assert got[3] == pytest.approx(want[3])
    albums = duck(tracks, f"SELECT album_name, count(DISTINCT track_id) FROM t WHERE {where} "
                          "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10")  # fmt: skip
    assert answers["top-albums"].rows == [list(r) for r in albums]
    share = duck(tracks, f"SELECT release_year, avg(CASE WHEN explicit THEN 1.0 ELSE 0.0 END) FROM t WHERE {where} "
                         "GROUP BY 1 ORDER BY 1")  # fmt: skip
    assert [r[0] for r in answers["explicit-share"].rows] == [r[0] for r in share]
    assert [r[1] for r in answers["explicit-share"].rows] == pytest.approx([float(r[1]) for r in share])


def test_the_genre_filter_reaches_the_artists_dataset_too(spotify: tuple[Lake, pa.Table]) -> None:
    lake, tracks = spotify
    (genre,) = duck(
        tracks, "SELECT genre_0 FROM t WHERE genre_0 IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    )[0]
    leaders = lake.dashboards.visual_data("spotify", "Details", "artist-leaders", filters={"genre": [genre]})
    assert leaders.rows
    assert {r[1] for r in leaders.rows} == {genre}
