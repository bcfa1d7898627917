"""The reference Spotify job against a plain DuckDB script written from the dataset description.

The script follows /work/shared/reference/spotify-dataset.md §3 and examples/spotify/job.yaml by hand:
albums ⋈ artists (artist_id = id) ⋈ tracks (track_id = id) ⟕ features (track_id = id), the right side's key
columns dropped, the features' type/uri/track_href/analysis_url/duration_ms dropped, artist_name = the
artist's name, release_year = year(release_date), and the declared types. It shares no code with lakeport's
compiler: the job's table must equal its result row for row (as multisets).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from lakeport import Lake
from lakeport.datasets.spotify.generator import SpotifyGenerator
from lakeport.datasets.spotify.publish import generate_into_lake
from lakeport.etl import JobDefinition

from .jobs_kit import current_snapshot, scalar, table_arrow

REPO = Path(__file__).resolve().parents[2]
JOB_FILE = REPO / "examples" / "spotify" / "job.yaml"
STAGING = "staging/spotify/"
READ = "header = true, all_varchar = true, delim = ',', quote = '\"'"

ARTIST_COLUMNS = ["artist_popularity", "artist_genres", "followers", *(f"genre_{i}" for i in range(7))]
FEATURE_COLUMNS = [
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "time_signature",
]
ICEBERG_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "long",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
}
HIVE_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "bigint",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
}


def plain_duckdb(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Create ``expected``: the Glue Studio job of the tutorials, typed as examples/spotify/job.yaml declares."""

    def csv(name: str) -> str:
        return f"read_csv('{folder / name}', {READ})"

    con.execute(
        f"""
        CREATE TEMP TABLE albums AS SELECT * REPLACE (
            CAST(track_number AS BIGINT) AS track_number,
            CAST(duration_ms AS BIGINT) AS duration_ms,
            CAST(total_tracks AS BIGINT) AS total_tracks,
            strptime(release_date, '%Y-%m-%d %H:%M:%S UTC') AS release_date,
            CAST(album_popularity AS BIGINT) AS album_popularity,
            CAST(duration_sec AS DOUBLE) AS duration_sec)
        FROM {csv("spotify-albums_data_2023.csv")};
        CREATE TEMP TABLE artists AS SELECT * REPLACE (
            CAST(artist_popularity AS BIGINT) AS artist_popularity,
            CAST(followers AS BIGINT) AS followers)
        FROM {csv("spotify_artist_data_2023.csv")};
        CREATE TEMP TABLE tracks AS SELECT * REPLACE (
            CAST(track_popularity AS BIGINT) AS track_popularity,
            CASE explicit WHEN 'true' THEN true WHEN 'false' THEN false END AS explicit)
        FROM {csv("spotify_tracks_data_2023.csv")};
        CREATE TEMP TABLE features AS SELECT
            CAST(danceability AS DOUBLE) AS danceability, CAST(energy AS DOUBLE) AS energy,
            CAST(key AS BIGINT) AS key, CAST(loudness AS DOUBLE) AS loudness, CAST(mode AS BIGINT) AS mode,
            CAST(speechiness AS DOUBLE) AS speechiness, CAST(acousticness AS DOUBLE) AS acousticness,
            CAST(instrumentalness AS DOUBLE) AS instrumentalness, CAST(liveness AS DOUBLE) AS liveness,
            CAST(valence AS DOUBLE) AS valence, CAST(tempo AS DOUBLE) AS tempo, id,
            CAST(time_signature AS BIGINT) AS time_signature
        FROM {csv("spotify_features_data_2023.csv")};
        CREATE TEMP TABLE expected AS
        SELECT al.*,
               {", ".join(f"ar.{c}" for c in ARTIST_COLUMNS)},
               t.track_popularity, t.explicit,
               {", ".join(f"f.{c}" for c in FEATURE_COLUMNS)},
               ar.name AS artist_name,
               year(al.release_date) AS release_year
        FROM albums AS al
        JOIN artists AS ar ON al.artist_id = ar.id
        JOIN tracks AS t ON al.track_id = t.id
        LEFT JOIN features AS f ON al.track_id = f.id;
        """
    )


ALBUMS_KEY = STAGING + "spotify-albums_data_2023.csv"
ORPHAN_ARTIST = "0rphanArtist0000000000"
ORPHAN_TRACK = "0rphanTrack00000000000"


def add_orphans(lake: Lake) -> None:
    """Append album rows whose artist, or track, is unknown: the inner joins must drop them."""
    body = lake.storage.read_bytes("lakeport", ALBUMS_KEY).decode("utf-8")
    header, first = next(csv.reader(io.StringIO(body))), next(iter(csv.DictReader(io.StringIO(body))))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writerow(first | {"artist_id": ORPHAN_ARTIST, "track_name": "No Such Artist"})
    writer.writerow(first | {"track_id": ORPHAN_TRACK, "track_name": "No Such Track"})
    lake.storage.put_object("lakeport", ALBUMS_KEY, (body + out.getvalue()).encode("utf-8"))


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    generate_into_lake(lake.storage, SpotifyGenerator(scale=0.01, seed=0), STAGING)
    add_orphans(lake)
    lake.jobs.create_job(JobDefinition.from_file(JOB_FILE))
    yield lake
    lake.close()


@pytest.fixture
def con(lake: Lake) -> Iterator[duckdb.DuckDBPyConnection]:
    assert lake.objects_root is not None
    con = duckdb.connect()
    plain_duckdb(con, lake.objects_root / "lakeport" / STAGING)
    yield con
    con.close()


def expected_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute("DESCRIBE expected").fetchall()]


def load_job_output(lake: Lake, con: duckdb.DuckDBPyConnection) -> int:
    data = table_arrow(lake, "spotify.tracks")
    assert data is not None
    con.register("job_arrow", data)
    con.execute("CREATE OR REPLACE TEMP TABLE job_out AS SELECT * FROM job_arrow")
    con.unregister("job_arrow")
    return int(data.num_rows)


def difference(con: duckdb.DuckDBPyConnection, left: str, right: str) -> int:
    columns = ", ".join(f'"{name}"' for name, _ in expected_columns(con))
    return int(
        scalar(con, f"SELECT count(*) FROM (SELECT {columns} FROM {left} EXCEPT ALL SELECT {columns} FROM {right})")
    )


def test_the_reference_data_exercises_every_join(con: duckdb.DuckDBPyConnection) -> None:
    """Guards the differential test: the sample has rows each join drops, keeps with NULLs, or repeats."""
    assert scalar(con, "SELECT count(*) FROM expected") > 1000
    assert scalar(con, "SELECT count(*) FROM expected WHERE danceability IS NULL") > 0  # the left join keeps them
    assert scalar(con, "SELECT count(*) FROM albums WHERE artist_id NOT IN (SELECT id FROM artists)") == 1
    assert scalar(con, "SELECT count(*) FROM albums WHERE track_id NOT IN (SELECT id FROM tracks)") == 1
    orphans = f"'{ORPHAN_ARTIST}', '{ORPHAN_TRACK}'"
    assert scalar(con, f"SELECT count(*) FROM expected WHERE artist_id IN ({orphans}) OR track_id IN ({orphans})") == 0
    assert scalar(con, "SELECT count(*) - count(DISTINCT track_id) FROM albums") > 0  # a track on two albums
    assert scalar(con, "SELECT count(*) FROM expected WHERE explicit") > 0
    assert scalar(con, "SELECT count(*) FROM expected WHERE NOT explicit") > 0
    assert scalar(con, "SELECT count(*) FROM expected WHERE release_date IS NULL") == 0


def test_the_spotify_job_equals_a_plain_duckdb_script(lake: Lake, con: duckdb.DuckDBPyConnection) -> None:
    run = lake.jobs.start_job_run("spotify", wait=True)
    assert run.state == "SUCCEEDED", run.error

    rows = load_job_output(lake, con)
    assert rows == scalar(con, "SELECT count(*) FROM expected") == run.metrics["rows_written"]
    assert scalar(con, f"SELECT count(*) FROM job_out WHERE artist_id = '{ORPHAN_ARTIST}'") == 0
    assert scalar(con, f"SELECT count(*) FROM job_out WHERE track_id = '{ORPHAN_TRACK}'") == 0
    assert difference(con, "expected", "job_out") == 0
    assert difference(con, "job_out", "expected") == 0

    # the Iceberg table's columns, in order, with the script's types
    columns = expected_columns(con)
    assert len(columns) == 26 + len(ARTIST_COLUMNS) + 2 + len(FEATURE_COLUMNS) + 2
    assert "id" not in {n for n, _ in columns}
    assert "name" not in {n for n, _ in columns}
    assert not {"type", "uri", "track_href", "analysis_url"} & {n for n, _ in columns}
    iceberg = lake.warehouse.require("spotify", "tracks")
    assert [(f.name, str(f.field_type)) for f in iceberg.schema().fields] == [
        (name, ICEBERG_TYPES[kind]) for name, kind in columns
    ]
    types = dict(columns)
    assert {types[c] for c in ("track_id", "album_id", "artist_id")} == {"VARCHAR"}
    assert {types[c] for c in ("artist_popularity", "album_popularity", "track_popularity", "followers")} == {"BIGINT"}
    assert (types["explicit"], types["release_date"], types["duration_sec"], types["release_year"]) == (
        "BOOLEAN",
        "TIMESTAMP",
        "DOUBLE",
        "BIGINT",
    )

    # the lakeport catalog has it, as an ICEBERG table with Hive types
    table = lake.catalog.get_table("spotify", "tracks")
    assert table.table_type == "ICEBERG"
    assert table.location == "s3://lakeport/warehouse/spotify/tracks/"
    assert table.parameters["table_type"] == "ICEBERG"
    assert table.parameters["current-snapshot-id"] == str(current_snapshot(lake, "spotify.tracks"))
    assert [(c.name, c.type) for c in table.columns] == [(name, HIVE_TYPES[kind]) for name, kind in columns]

    # every row's Parquet file is Snappy-compressed
    import pyarrow.parquet as pq

    for path in lake.warehouse.data_files("spotify", "tracks"):
        meta = pq.ParquetFile(path).metadata
        assert {meta.row_group(0).column(i).compression for i in range(meta.num_columns)} == {"SNAPPY"}


def test_overwrite_replaces_and_append_doubles(lake: Lake, con: duckdb.DuckDBPyConnection) -> None:
    first = lake.jobs.start_job_run("spotify", wait=True)
    assert first.state == "SUCCEEDED", first.error
    count = load_job_output(lake, con)

    again = lake.jobs.start_job_run("spotify", wait=True)  # mode: overwrite (the job's default)
    assert again.state == "SUCCEEDED", again.error
    assert load_job_output(lake, con) == count
    assert difference(con, "expected", "job_out") == 0
    assert difference(con, "job_out", "expected") == 0

    appended = lake.jobs.start_job_run("spotify", arguments={"mode": "append"}, wait=True)
    assert appended.state == "SUCCEEDED", appended.error
    assert appended.metrics["sinks"]["warehouse"]["mode"] == "append"
    assert load_job_output(lake, con) == 2 * count
    con.execute("CREATE TEMP TABLE twice AS SELECT * FROM expected UNION ALL SELECT * FROM expected")
    assert difference(con, "twice", "job_out") == 0
    assert difference(con, "job_out", "twice") == 0

    history = lake.warehouse.history("spotify", "tracks")
    runs = [s.summary.get("lakeport.run-id") for s in sorted(history, key=lambda s: s.committed_at)]
    assert runs[0] == first.id
    assert runs[-1] == appended.id
    assert again.id in runs


def test_under_a_memory_limit_each_join_is_staged_and_the_table_is_the_same(
    lake: Lake, con: duckdb.DuckDBPyConnection
) -> None:
    """With ``memory_limit`` set, each join's rows go to scratch Parquet before the next node reads them (one hash
    table at a time, each able to spill): the same rows, types and per-source accounting as the single plan."""
    whole = lake.jobs.start_job_run("spotify", wait=True)
    assert whole.state == "SUCCEEDED", whole.error
    limited = JobDefinition.from_dict({**JobDefinition.from_file(JOB_FILE).to_dict(), "memory_limit": "256MB"})
    lake.jobs.update_job(limited)
    run = lake.jobs.start_job_run("spotify", wait=True)
    assert run.state == "SUCCEEDED", run.error

    messages = [e.message for e in lake.logs.events(run.log_group, run.log_stream)]
    staged = [m.split(":")[0] for m in messages if m.startswith("join ") and "staged in" in m]
    assert staged == ["join with_artist", "join with_track", "join with_features"]
    assert load_job_output(lake, con) == scalar(con, "SELECT count(*) FROM expected") == run.metrics["rows_written"]
    assert difference(con, "expected", "job_out") == 0
    assert difference(con, "job_out", "expected") == 0
    assert [(f.name, str(f.field_type)) for f in lake.warehouse.require("spotify", "tracks").schema().fields] == [
        (name, ICEBERG_TYPES[kind]) for name, kind in expected_columns(con)
    ]
    assert run.metrics["sources"] == whole.metrics["sources"]
    assert run.metrics["rows_read"] == whole.metrics["rows_read"]


def test_a_memory_limit_too_small_fails_in_one_line_and_keeps_the_table(lake: Lake) -> None:
    first = lake.jobs.start_job_run("spotify", wait=True)
    assert first.state == "SUCCEEDED", first.error
    before = current_snapshot(lake, "spotify.tracks")
    tiny = JobDefinition.from_dict({**JobDefinition.from_file(JOB_FILE).to_dict(), "memory_limit": "1MB"})
    lake.jobs.update_job(tiny)

    run = lake.jobs.start_job_run("spotify", wait=True)

    assert run.state == "FAILED"
    assert run.error is not None
    assert "\n" not in run.error
    assert run.error.startswith("job spotify ran out of memory (memory_limit 1MB): Out of Memory Error")
    assert current_snapshot(lake, "spotify.tracks") == before
