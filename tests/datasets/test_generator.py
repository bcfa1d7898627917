"""The Spotify generator: exact headers, value formats on every row, relationships and distributions.

Expectations come from the dataset reference (shared/reference/spotify-dataset.md), not from the
generator's output.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from lakeport.datasets.spotify import schema
from lakeport.datasets.spotify.generator import SpotifyGenerator
from lakeport.errors import InvalidInput

ID = r"[0-9A-Za-z]{22}"
INT = r"-?\d+"
FLOAT = r"-?\d+(\.\d+)?(e-?\d+)?"
DATE = r"\d{4}-\d\d-\d\d 00:00:00 UTC"
BOOL = r"true|false"
# Python's repr() of a list of str: ['a', "b's"] (quotes chosen as repr does)
PYLIST = r"\[((?:'[^']*'|\"[^\"]*\")(, (?:'[^']*'|\"[^\"]*\"))*)?\]"
DURATION_SEC = r"\d+(\.\d*[1-9])?"  # duration_ms / 1000 without trailing zeros or ".0"

ALBUM_FORMATS = {
    "track_id": ID,
    "track_number": r"\d+",
    "duration_ms": r"\d+",
    "album_type": r"album|single|compilation",
    "artists": PYLIST,
    "total_tracks": r"\d+",
    "release_date": DATE,
    "album_popularity": r"\d{1,3}",
    "album_id": ID,
    "artist_id": ID,
    "duration_sec": DURATION_SEC,
}
ARTIST_FORMATS = {
    "id": ID,
    "artist_popularity": r"\d{1,3}",
    "artist_genres": PYLIST,
    "followers": r"\d+",
}
TRACK_FORMATS = {"id": ID, "track_popularity": r"\d{1,3}", "explicit": BOOL}
FEATURE_FORMATS = {
    **{c: FLOAT for c in ("danceability", "energy", "loudness", "speechiness", "acousticness")},
    **{c: FLOAT for c in ("instrumentalness", "liveness", "valence", "tempo")},
    "key": INT,
    "mode": r"[01]",
    "type": "audio_features",
    "id": ID,
    "duration_ms": r"\d+",
    "time_signature": r"\d",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spotify")
    SpotifyGenerator(scale=0.01, seed=11).generate(out)
    return out


def rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def test_exact_file_names_and_headers_byte_for_byte(sample: Path) -> None:
    assert sorted(p.name for p in sample.iterdir()) == sorted(f.name for f in schema.KAGGLE_FILES)
    assert (sample / "spotify-albums_data_2023.csv").exists()  # the hyphen
    for f in schema.KAGGLE_FILES:
        first_line = (sample / f.name).read_bytes().split(b"\n", 1)[0]
        assert first_line == ",".join(f.columns).encode(), f.name
    assert schema.ALBUMS.columns[13:25] == tuple(f"artist_{i}" for i in range(12))
    assert len(schema.ALBUMS.columns) == 26
    assert len(schema.ARTISTS.columns) == 12
    assert len(schema.FEATURES.columns) == 18


@pytest.mark.parametrize(
    ("spec", "formats"),
    [
        (schema.ALBUMS, ALBUM_FORMATS),
        (schema.ARTISTS, ARTIST_FORMATS),
        (schema.TRACKS, TRACK_FORMATS),
        (schema.FEATURES, FEATURE_FORMATS),
    ],
)
def test_every_value_has_the_real_format(sample: Path, spec: schema.SpotifyFile, formats: dict[str, str]) -> None:
    compiled = {col: re.compile(rf"(?:{pattern})\Z") for col, pattern in formats.items()}
    count = 0
    for line, row in enumerate(rows(sample / spec.name), start=2):
        assert None not in row, f"{spec.name}:{line} has more fields than the header"
        for col, pattern in compiled.items():
            assert pattern.match(row[col]), f"{spec.name}:{line} {col}={row[col]!r}"
        count += 1
    assert count > 300


def test_album_rows_are_consistent(sample: Path) -> None:
    for line, row in enumerate(rows(sample / schema.ALBUMS.name), start=2):
        ms = int(row["duration_ms"])
        assert float(row["duration_sec"]) == pytest.approx(ms / 1000), line
        assert not row["duration_sec"].endswith(".0"), line
        listed = ast.literal_eval(row["artists"])  # a Python list repr, as the author wrote it
        assert isinstance(listed, list), line
        assert 1 <= len(listed) <= 12, line
        # artist_0..11 hold the `artists` list in order, the rest empty
        assert [row[f"artist_{i}"] for i in range(12)] == listed + [""] * (12 - len(listed)), line
        assert 1 <= int(row["track_number"]) <= int(row["total_tracks"]), line
    artists = (sample / schema.ARTISTS.name).read_text(encoding="utf-8")
    assert "[]" in artists  # artists without genres


def test_text_needs_real_csv_quoting_and_unicode(sample: Path) -> None:
    albums = (sample / schema.ALBUMS.name).read_text(encoding="utf-8")
    assert re.search(r"[^\x00-\x7f]", albums), "no non-ASCII names"
    assert "\"['" in albums, "list strings with commas must be quoted"
    assert re.search(r"[A-Za-z]'[A-Z]", albums), "no str.title() apostrophe artefact like King'S"
    names = [r["name"] for r in rows(sample / schema.ARTISTS.name)]
    assert any("," in n for n in names) or any('"' in n for n in names)


def test_relationships(sample: Path) -> None:
    con = duckdb.connect()

    def q(sql: str) -> list[tuple[object, ...]]:
        return con.execute(sql.format(d=sample)).fetchall()

    albums = "read_csv('{d}/spotify-albums_data_2023.csv', all_varchar=true)"
    artists = "read_csv('{d}/spotify_artist_data_2023.csv', all_varchar=true)"
    tracks = "read_csv('{d}/spotify_tracks_data_2023.csv', all_varchar=true)"
    features = "read_csv('{d}/spotify_features_data_2023.csv', all_varchar=true)"
    # every albums.track_id has exactly one tracks row
    assert q(
        f"SELECT count(*) FROM (SELECT DISTINCT track_id FROM {albums}) a ANTI JOIN {tracks} t ON a.track_id = t.id"
    ) == [(0,)]
    assert q(f"SELECT count(*) - count(DISTINCT id) FROM {tracks}") == [(0,)]
    assert q(f"SELECT count(*) FROM {tracks} t ANTI JOIN {albums} a ON a.track_id = t.id") == [(0,)]
    # features cover at least 99 % of tracks, one per track
    ((covered,),) = q(f"SELECT avg((f.id IS NOT NULL)::INT) FROM {tracks} t LEFT JOIN {features} f ON f.id = t.id")
    assert isinstance(covered, float)
    assert 0.99 <= covered < 1.0
    # every albums.artist_id is an artist, and every artist is an album artist
    assert q(f"SELECT count(*) FROM {albums} a ANTI JOIN {artists} r ON a.artist_id = r.id") == [(0,)]
    assert q(f"SELECT count(*) FROM {artists} r ANTI JOIN {albums} a ON a.artist_id = r.id") == [(0,)]
    # album fields are repeated on each of its track rows
    assert q(
        f"SELECT count(*) FROM (SELECT album_id FROM {albums} GROUP BY album_id HAVING count(DISTINCT album_name || release_date || artist_id) > 1)"
    ) == [(0,)]
    # a small number of duplicate track rows, as in the real file (838 of 438,938)
    ((dups,),) = q(f"SELECT count(*) - count(DISTINCT track_id) FROM {albums}")
    assert isinstance(dups, int)
    assert 0 < dups < 0.01 * 4000
    # the album's artist is the first artist of the album (artist_0 names the track's first artist)
    ((same,),) = q(f"SELECT avg((a.artist_0 = r.name)::INT) FROM {albums} a JOIN {artists} r ON a.artist_id = r.id")
    assert isinstance(same, float)
    assert same > 0.9


def test_distributions_follow_the_reference(sample: Path) -> None:
    con = duckdb.connect()
    artists = f"read_csv('{sample}/spotify_artist_data_2023.csv')"
    albums = f"read_csv('{sample}/spotify-albums_data_2023.csv', all_varchar=true)"
    zero, p50, p75, p90, p99 = (
        con.execute(
            f"SELECT avg((artist_popularity = 0)::INT), quantile_disc(artist_popularity, 0.5), quantile_disc(artist_popularity, 0.75),"
            f" quantile_disc(artist_popularity, 0.9), quantile_disc(artist_popularity, 0.99) FROM {artists}"
        ).fetchone()
        or ()
    )
    assert zero == pytest.approx(0.27, abs=0.03)
    assert p50 == pytest.approx(7, abs=3)
    assert p75 == pytest.approx(26, abs=4)
    assert p90 == pytest.approx(45, abs=5)
    assert p99 == pytest.approx(73, abs=8)
    f50, f90, fmax, no_genre = (
        con.execute(
            f"SELECT quantile_disc(followers, 0.5), quantile_disc(followers, 0.9), max(followers), avg((genre_0 IS NULL)::INT) FROM {artists}"
        ).fetchone()
        or ()
    )
    assert 100 < f50 < 1000  # median 302
    assert 20_000 < f90 < 200_000  # p90 66,624
    assert fmax > 1_000_000
    assert no_genre == pytest.approx(0.70, abs=0.05)
    shares = dict(
        con.execute(f"SELECT album_type, count(*) / sum(count(*)) OVER () FROM {albums} GROUP BY 1").fetchall()
    )
    assert shares["album"] == pytest.approx(0.70, abs=0.05)
    assert shares["single"] == pytest.approx(0.20, abs=0.05)
    assert shares["compilation"] == pytest.approx(0.10, abs=0.04)
    years = dict(con.execute(f"SELECT substr(release_date, 1, 4)::INT, count(*) FROM {albums} GROUP BY 1").fetchall())
    assert years[2023] > years[2019] > years[2015]  # recency skew
    jan = con.execute(f"SELECT avg((substr(release_date, 6, 5) = '01-01')::INT) FROM {albums}").fetchone() or (0,)
    assert jan[0] > 0.04  # the January-1 spike of year-only dates (1/365 would be 0.3 %)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    def digest(seed: int, folder: str) -> dict[str, str]:
        out = tmp_path / folder
        # large enough that DuckDB splits the work across threads: order must not depend on scheduling
        SpotifyGenerator(scale=0.03, seed=seed).generate(out)
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir()}

    first = digest(5, "a")
    assert digest(5, "b") == first
    assert digest(6, "c") != first


def test_preprocessed_profile(tmp_path: Path) -> None:
    SpotifyGenerator(scale=0.002, seed=1, profile="preprocessed").generate(tmp_path)
    for f in schema.PREPROCESSED_FILES:
        assert (tmp_path / f.name).read_text(encoding="utf-8").split("\n", 1)[0] == ",".join(f.columns)
    for row in rows(tmp_path / "albums.csv"):
        assert all(row.values()), "the preprocessed albums file has no empty fields"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": 0}, "outside 0.001..100"),
        ({"scale": 101}, "outside 0.001..100"),
        ({"profile": "nope"}, "unknown profile"),
        ({"seed": -1}, "negative"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SpotifyGenerator(**kwargs)  # type: ignore[arg-type]


@pytest.mark.slow
def test_scale_one_canonical_join(tmp_path: Path) -> None:
    """Acceptance: albums ⋈ artists (artist_id = id) ⋈ tracks (track_id = id) ≈ albums' row count (±1 %)."""
    result = SpotifyGenerator(scale=1, seed=0).generate(tmp_path)
    counts = {f.name: f.rows for f in result.files}
    assert counts[schema.ARTISTS.name] == schema.SCALE1_ARTISTS
    assert counts[schema.ALBUMS.name] == pytest.approx(schema.SCALE1_TRACKS, rel=0.03)
    con = duckdb.connect()
    ((joined,),) = con.execute(
        f"""SELECT count(*) FROM read_csv('{tmp_path}/spotify-albums_data_2023.csv', all_varchar=true) al
            JOIN read_csv('{tmp_path}/spotify_artist_data_2023.csv', all_varchar=true) ar ON al.artist_id = ar.id
            JOIN read_csv('{tmp_path}/spotify_tracks_data_2023.csv', all_varchar=true) tr ON al.track_id = tr.id"""
    ).fetchall()
    assert joined == pytest.approx(counts[schema.ALBUMS.name], rel=0.01)
    ((albums,),) = con.execute(
        f"SELECT count(DISTINCT album_id) FROM read_csv('{tmp_path}/spotify-albums_data_2023.csv', all_varchar=true)"
    ).fetchall()
    assert albums == schema.SCALE1_ALBUMS
