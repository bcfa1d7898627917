"""Loading the real Kaggle "Spotify Dataset 2023" files: recognised by name, checked by header, landed whole or not at all.

The fixture is a handful of rows in exactly the real files' format: the real headers (from schema.py), 22-char
base62 IDs, BigQuery ``YYYY-MM-DD HH:MM:SS UTC`` timestamps, lower-case booleans, Python-list strings, non-ASCII
names and fields that need CSV quoting.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.datasets.loader import LoadResult
from lakeport.datasets.spotify import schema
from lakeport.datasets.spotify.kaggle import KNOWN, load_kaggle
from lakeport.errors import InvalidInput, LakeportError, NotFound
from tests.support.lakes import assert_nothing_uploaded, landed

# (track id, album id, album artist id) of each track
TRACKS = [
    ("6mN8nzCXWUeT5LWEcG1Utx", "3VoHMFQzFr9v163HXRvfo2", "002nyxOMwdc9EgNEo7ETcF"),
    ("1SV1fxF65n9NhRHp3KlBuu", "3VoHMFQzFr9v163HXRvfo2", "002nyxOMwdc9EgNEo7ETcF"),
    ("7qiZfU4dY1lWllzX7mPBI3", "0S0KGZnfBGSIssfF54WSJh", "6GkSLJj5CGLIckLIb8J4LR"),
    ("4iJyoBOLtHqaGxP12qzhQI", "5lJqux7orBlA1QzyiBGti1", "2o5jDhtHVPhrJdv3cEQ99Z"),
]

ALBUM_ROWS: list[dict[str, str]] = [
    {
        "track_name": "King'S Calling",
        "track_number": "1",
        "duration_ms": "555521",
        "album_type": "album",
        "artists": "['Drake', 'Future']",
        "total_tracks": "12",
        "album_name": "Black Sands: Official Soundtrack",
        "release_date": "2015-06-09 00:00:00 UTC",
        "label": "Mountain Music Inc",
        "album_popularity": "6",
        "artist_0": "Drake",
        "artist_1": "Future",
        "duration_sec": "555.521",
    },
    {
        "track_name": "Money Ain'T Sh!T, Pt. 2",
        "track_number": "2",
        "duration_ms": "216000",
        "album_type": "album",
        "artists": "['Drake']",
        "total_tracks": "12",
        "album_name": "Black Sands: Official Soundtrack",
        "release_date": "2015-06-09 00:00:00 UTC",
        "label": "Mountain Music Inc",
        "album_popularity": "6",
        "artist_0": "Drake",
        "duration_sec": "216",
    },
    {
        "track_name": 'Say "Hola", Mundo',
        "track_number": "1",
        "duration_ms": "187333",
        "album_type": "single",
        "artists": "['Taylor Swift', 'Tiësto', 'Beyoncé']",
        "total_tracks": "1",
        "album_name": "Los Años Luz",
        "release_date": "2023-01-01 00:00:00 UTC",
        "label": "Los Años Luz Discos",
        "album_popularity": "12",
        "artist_0": "Taylor Swift",
        "artist_1": "Tiësto",
        "artist_2": "Beyoncé",
        "duration_sec": "187.333",
    },
    {
        "track_name": "Ночь",
        "track_number": "3",
        "duration_ms": "240000",
        "album_type": "compilation",
        "artists": "['Кино']",
        "total_tracks": "20",
        "album_name": "Звезда По Имени Солнце",
        "release_date": "1989-01-01 00:00:00 UTC",
        "label": "",
        "album_popularity": "0",
        "artist_0": "Кино",
        "duration_sec": "240",
    },
]

ARTIST_ROWS: list[dict[str, str]] = [
    {
        "id": "002nyxOMwdc9EgNEo7ETcF",
        "name": "Drake",
        "artist_popularity": "96",
        "artist_genres": "['canadian hip hop', 'canadian pop', 'hip hop', 'rap']",
        "followers": "85384981",
        "genre_0": "canadian hip hop",
        "genre_1": "canadian pop",
        "genre_2": "hip hop",
        "genre_3": "rap",
    },
    {
        "id": "6GkSLJj5CGLIckLIb8J4LR",
        "name": "Taylor Swift",
        "artist_popularity": "100",
        "artist_genres": "['pop']",
        "followers": "115998928",
        "genre_0": "pop",
    },
    {
        "id": "2o5jDhtHVPhrJdv3cEQ99Z",
        "name": "Кино",
        "artist_popularity": "0",
        "artist_genres": "[]",
        "followers": "302",
    },
]


def _csv(columns: Sequence[str], rows: Sequence[dict[str, str]], *, crlf: bool = False) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode("utf-8")


def kaggle_files() -> dict[str, bytes]:
    """The five Kaggle CSVs, a few rows each, in exactly the real files' format."""
    albums, merged, tracks, features = [], [], [], []
    artists = {a["id"]: a for a in ARTIST_ROWS}
    for i, ((track_id, album_id, artist_id), base) in enumerate(zip(TRACKS, ALBUM_ROWS, strict=True)):
        album = base | {"track_id": track_id, "album_id": album_id, "artist_id": artist_id}
        albums.append(album)
        track = {"id": track_id, "track_popularity": str(90 - 7 * i), "explicit": "true" if i % 2 else "false"}
        tracks.append(track)
        feature = {
            "danceability": "0.612",
            "energy": f"0.{7 - i}31",
            "key": str(i - 1),
            "loudness": "-6.512",
            "mode": str(i % 2),
            "speechiness": "0.0421",
            "acousticness": "0.00118",
            "instrumentalness": "0.912" if i == 3 else "0",
            "liveness": "0.118",
            "valence": "0.456",
            "tempo": "124.997",
            "type": "audio_features",
            "id": track_id,
            "uri": f"spotify:track:{track_id}",
            "track_href": f"https://api.spotify.com/v1/tracks/{track_id}",
            "analysis_url": f"https://api.spotify.com/v1/audio-analysis/{track_id}",
            "duration_ms": album["duration_ms"],
            "time_signature": "4",
        }
        features.append(feature)
        year = album["release_date"][:4]
        artist = {k: v for k, v in artists[artist_id].items() if k != "id"}
        merged.append(
            album
            | artist
            | feature
            | track
            | {
                "artists": album["artists"].strip("[]").replace("'", ""),
                "release_year": year,
                "release_month": "June" if year == "2015" else "January",
            }
        )
    return {
        schema.ALBUMS.name: _csv(schema.ALBUMS.columns, albums),
        schema.ARTISTS.name: _csv(schema.ARTISTS.columns, ARTIST_ROWS),
        schema.TRACKS.name: _csv(schema.TRACKS.columns, tracks),
        schema.FEATURES.name: _csv(schema.FEATURES.columns, features),
        schema.MERGED.name: _csv(schema.MERGED.columns, merged),
    }


def write_kaggle_folder(folder: Path, files: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Write the Kaggle files (or ``files``) into ``folder``; return what was written."""
    files = kaggle_files() if files is None else files
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def write_zip(path: Path, files: dict[str, bytes], *, inside: str = "") -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(inside + name, data)
    return path


def test_fixture_has_the_real_format() -> None:
    files = kaggle_files()
    assert list(files) == [f.name for f in schema.KAGGLE_FILES]
    for spec in schema.KAGGLE_FILES:
        rows = list(csv.reader(io.StringIO(files[spec.name].decode())))
        assert rows[0] == list(spec.columns)
        assert all(len(r) == len(spec.columns) for r in rows)
    albums = files[schema.ALBUMS.name].decode()
    assert "\"['Taylor Swift', 'Tiësto', 'Beyoncé']\"" in albums  # a list with commas, quoted
    assert '"Say ""Hola"", Mundo"' in albums
    assert ",2015-06-09 00:00:00 UTC," in albums
    assert ",true\n" in files[schema.TRACKS.name].decode()


def test_loads_the_folder_byte_identical(lake: Lake, tmp_path: Path) -> None:
    folder = tmp_path / "spotify-dataset-2023"
    files = write_kaggle_folder(folder)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    result = load_kaggle(lake.storage, folder, "staging/spotify/")

    bucket = lake.storage.default_bucket
    assert isinstance(result, LoadResult)
    assert result.to == f"s3://{bucket}/staging/spotify/"
    assert landed(lake) == {f"staging/spotify/{name}": data for name, data in files.items()}
    assert [f.name for f in result.files] == [f.name for f in schema.KAGGLE_FILES]
    assert [e.key for e in lake.events.read()] == [f"staging/spotify/{f.name}" for f in schema.KAGGLE_FILES]
    data = result.to_dict()
    assert data["to"] == result.to
    assert data["files"][0] == {
        "file": schema.ALBUMS.name,
        "uri": f"s3://{bucket}/staging/spotify/{schema.ALBUMS.name}",
        "bytes": len(files[schema.ALBUMS.name]),
        "etag": result.files[0].etag,
    }
    assert any(".DS_Store" in n for n in data["notes"])


@pytest.mark.parametrize("inside", ["", "spotify-dataset-2023/"], ids=["flat", "in-a-folder"])
def test_loads_the_zip_byte_identical(lake: Lake, tmp_path: Path, inside: str) -> None:
    files = kaggle_files()
    archive = write_zip(tmp_path / "archive.zip", files, inside=inside)
    with zipfile.ZipFile(archive, "a") as zf:  # what macOS' "Compress" adds
        zf.writestr(f"__MACOSX/{inside}._{schema.TRACKS.name}", b"\x00\x05\x16\x07")
    result = load_kaggle(lake.storage, archive, f"s3://{lake.storage.default_bucket}/staging/spotify/")
    assert landed(lake) == {f"staging/spotify/{name}": data for name, data in files.items()}
    assert [f.size for f in result.files] == [len(d) for d in files.values()]


def test_bom_crlf_and_a_subset_of_files_are_accepted(local_lake: Lake, tmp_path: Path) -> None:
    files = kaggle_files()
    tracks = b"\xef\xbb\xbf" + files[schema.TRACKS.name].replace(b"\n", b"\r\n")
    chosen = {schema.TRACKS.name: tracks, schema.ALBUMS.name: files[schema.ALBUMS.name]}
    write_kaggle_folder(tmp_path / "in", chosen)
    result = load_kaggle(local_lake.storage, tmp_path / "in", "staging/spotify/")
    assert landed(local_lake) == {f"staging/spotify/{name}": data for name, data in chosen.items()}
    assert any(schema.FEATURES.name in n and "kaggle files not in the source" in n for n in result.notes)


def test_underscore_albums_variant_lands_under_the_kaggle_name(lake: Lake, tmp_path: Path) -> None:
    files = kaggle_files()
    renamed = {("spotify_albums_data_2023.csv" if k == schema.ALBUMS.name else k): v for k, v in files.items()}
    archive = write_zip(tmp_path / "spotify.zip", renamed, inside="data/")
    result = load_kaggle(lake.storage, archive, "staging/spotify/")
    assert landed(lake) == {f"staging/spotify/{name}": data for name, data in files.items()}
    assert "spotify_albums_data_2023.csv landed as spotify-albums_data_2023.csv" in " ".join(result.notes)


def test_the_preprocessed_trio_is_recognised(local_lake: Lake, tmp_path: Path) -> None:
    rows = [{"track_id": "6mN8nzCXWUeT5LWEcG1Utx", "track_popularity": "90", "explicit": "false"}]
    files = {
        schema.PRE_ALBUMS.name: _csv(schema.PRE_ALBUMS.columns, [ALBUM_ROWS[0] | {"track_id": TRACKS[0][0]}]),
        schema.PRE_ARTISTS.name: _csv(schema.PRE_ARTISTS.columns, [ARTIST_ROWS[0] | {"genre": "canadian hip hop"}]),
        schema.PRE_TRACKS.name: _csv(schema.PRE_TRACKS.columns, rows),
    }
    write_kaggle_folder(tmp_path / "pre", files)
    load_kaggle(local_lake.storage, tmp_path / "pre", "staging/spotify/")
    assert landed(local_lake) == {f"staging/spotify/{name}": data for name, data in files.items()}


def test_track_csv_needs_only_its_verified_columns(local_lake: Lake, tmp_path: Path) -> None:
    """Only track_id and track_popularity of the tutorials' track.csv are known (reference §1.6)."""
    wider = _csv(
        ["track_id", "track_popularity", "explicit", "duration_ms"],
        [{"track_id": "6mN8nzCXWUeT5LWEcG1Utx", "track_popularity": "90", "explicit": "false", "duration_ms": "1"}],
    )
    write_kaggle_folder(tmp_path / "ok", {schema.PRE_TRACKS.name: wider})
    result = load_kaggle(local_lake.storage, tmp_path / "ok", "staging/spotify/")
    assert landed(local_lake) == {f"staging/spotify/{schema.PRE_TRACKS.name}": wider}
    assert any("track.csv" in n and "landed as is" in n for n in result.notes)
    lacking = _csv(["track_id", "explicit"], [{"track_id": "6mN8nzCXWUeT5LWEcG1Utx", "explicit": "false"}])
    write_kaggle_folder(tmp_path / "bad", {schema.PRE_TRACKS.name: lacking})
    with pytest.raises(InvalidInput, match="missing column"):
        load_kaggle(local_lake.storage, tmp_path / "bad", "staging/other/")


def test_merged_file_columns_may_come_in_another_order(local_lake: Lake, tmp_path: Path) -> None:
    files = kaggle_files()
    header, rows = _rows(files[schema.MERGED.name])
    files[schema.MERGED.name] = _csv(sorted(header), rows, crlf=True)
    write_kaggle_folder(tmp_path / "in", files)
    result = load_kaggle(local_lake.storage, tmp_path / "in", "staging/spotify/")
    assert landed(local_lake)[f"staging/spotify/{schema.MERGED.name}"] == files[schema.MERGED.name]
    assert any("different order" in n for n in result.notes)


def _rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(data.decode())))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _drop_column(data: bytes, column: str) -> bytes:
    header, rows = _rows(data)
    return _csv([c for c in header if c != column], rows)


def _add_column(data: bytes, column: str) -> bytes:
    header, rows = _rows(data)
    return _csv([*header, column], [r | {column: "CA"} for r in rows])


def _swap_first_two(data: bytes) -> bytes:
    header, rows = _rows(data)
    return _csv([header[1], header[0], *header[2:]], rows)


BAD_HEADERS: dict[str, tuple[str, Callable[[bytes], bytes], str]] = {
    "missing": (schema.TRACKS.name, lambda d: _drop_column(d, "explicit"), "missing column(s) explicit"),
    "extra": (schema.ARTISTS.name, lambda d: _add_column(d, "country"), "unexpected column(s) country"),
    "swapped": (
        schema.FEATURES.name,
        _swap_first_two,
        "columns out of order: column 1 is 'energy' where spotify_features_data_2023.csv has 'danceability'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_HEADERS))
def test_a_wrong_header_is_refused_and_nothing_lands(lake: Lake, tmp_path: Path, case: str) -> None:
    name, damage, problem = BAD_HEADERS[case]
    files = kaggle_files()
    files[name] = damage(files[name])
    write_kaggle_folder(tmp_path / "in", files)
    with pytest.raises(InvalidInput) as caught:
        load_kaggle(lake.storage, tmp_path / "in", "staging/spotify/")
    message = caught.value.message
    assert f"{tmp_path / 'in' / name} line 1: header does not match {name}" in message
    assert problem in message
    assert f"{name} has {len(KNOWN[name].columns)} columns:" in (caught.value.hint or "")
    assert "\n" not in caught.value.one_line()
    assert_nothing_uploaded(lake)


def test_missing_column_hint_lists_the_expected_header(tmp_path: Path, local_lake: Lake) -> None:
    files = kaggle_files()
    files[schema.TRACKS.name] = _drop_column(files[schema.TRACKS.name], "explicit")
    write_kaggle_folder(tmp_path / "in", files)
    with pytest.raises(InvalidInput) as caught:
        load_kaggle(local_lake.storage, tmp_path / "in", "staging/spotify/")
    assert caught.value.hint == f"{schema.TRACKS.name} has 3 columns: id,track_popularity,explicit"


def test_a_renamed_file_is_recognised_by_its_header(tmp_path: Path, local_lake: Lake) -> None:
    files = kaggle_files()
    write_kaggle_folder(tmp_path / "in", {schema.TRACKS.name: files[schema.ARTISTS.name]})
    with pytest.raises(InvalidInput) as caught:
        load_kaggle(local_lake.storage, tmp_path / "in", "staging/spotify/")
    assert f"this is the header of {schema.ARTISTS.name}" in (caught.value.hint or "")
    assert_nothing_uploaded(local_lake)


def test_an_unknown_file_is_refused(lake: Lake, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_kaggle_folder(folder)
    (folder / "spotify_tracks_2023.csv").write_bytes(b"id\n1\n")
    with pytest.raises(InvalidInput) as caught:
        load_kaggle(lake.storage, folder, "staging/spotify/")
    assert f"{folder / 'spotify_tracks_2023.csv'}: not a file of the Spotify Dataset 2023" in caught.value.message
    for spec in (*schema.KAGGLE_FILES, *schema.PREPROCESSED_FILES):
        assert spec.name in (caught.value.hint or "")
    assert_nothing_uploaded(lake)


@pytest.mark.parametrize("member", ["../evil.csv", "/etc/evil.csv", "data/../../evil.csv", "C:/evil.csv"])
def test_a_zip_slip_member_is_refused(lake: Lake, tmp_path: Path, member: str) -> None:
    archive = write_zip(tmp_path / "spotify.zip", kaggle_files())
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr(zipfile.ZipInfo(member), b"id\n1\n")
    with pytest.raises(InvalidInput) as caught:
        load_kaggle(lake.storage, archive, "staging/spotify/")
    assert caught.value.message.startswith(f"{archive}: member {member!r} would unpack outside its folder")
    assert "zip-slip" in (caught.value.hint or "")
    assert_nothing_uploaded(lake)
    assert not (tmp_path / "evil.csv").exists()


def test_a_corrupt_zip_is_refused(lake: Lake, tmp_path: Path) -> None:
    whole = write_zip(tmp_path / "whole.zip", kaggle_files()).read_bytes()
    archive = tmp_path / "spotify-dataset-2023.zip"
    archive.write_bytes(whole[: len(whole) // 2])  # an interrupted download
    with pytest.raises(InvalidInput) as caught:
        load_kaggle(lake.storage, archive, "staging/spotify/")
    assert caught.value.message.startswith(f"{archive} is not a readable zip file")
    assert_nothing_uploaded(lake)


def test_a_damaged_zip_member_is_refused(local_lake: Lake, tmp_path: Path) -> None:
    files = kaggle_files()
    archive = tmp_path / "spotify.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    raw = bytearray(archive.read_bytes())
    at = raw.index(b"Black Sands")  # inside the stored albums file: its CRC no longer matches
    raw[at : at + 5] = b"XXXXX"
    archive.write_bytes(bytes(raw))
    with pytest.raises(InvalidInput) as caught:
        load_kaggle(local_lake.storage, archive, "staging/spotify/")
    assert caught.value.message.startswith(f"{archive}:{schema.ALBUMS.name} is damaged")
    assert_nothing_uploaded(local_lake)


def test_both_albums_names_at_once_are_refused(local_lake: Lake, tmp_path: Path) -> None:
    files = kaggle_files()
    files["spotify_albums_data_2023.csv"] = files[schema.ALBUMS.name]
    write_kaggle_folder(tmp_path / "in", files)
    with pytest.raises(InvalidInput, match=r"are both spotify-albums_data_2023\.csv"):
        load_kaggle(local_lake.storage, tmp_path / "in", "staging/spotify/")
    assert_nothing_uploaded(local_lake)


def test_a_ragged_row_is_refused_with_its_line(lake: Lake, tmp_path: Path) -> None:
    files = kaggle_files()
    files[schema.MERGED.name] += b"only,three,fields\n"  # the last file checked: nothing else may land either
    write_kaggle_folder(tmp_path / "in", files)
    with pytest.raises(InvalidInput) as caught:
        load_kaggle(lake.storage, tmp_path / "in", "staging/spotify/")
    assert caught.value.message.startswith(f"{tmp_path / 'in' / schema.MERGED.name} line 6, column 4:")
    assert_nothing_uploaded(lake)


def test_empty_or_junk_only_sources_are_refused(local_lake: Lake, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInput, match="is empty: no files of the Spotify Dataset 2023"):
        load_kaggle(local_lake.storage, empty, "staging/spotify/")
    (empty / ".DS_Store").write_bytes(b"junk")
    with pytest.raises(InvalidInput, match="has only hidden, OS or marker files"):
        load_kaggle(local_lake.storage, empty, "staging/spotify/")
    with pytest.raises(NotFound, match="does not exist"):
        load_kaggle(local_lake.storage, tmp_path / "nowhere.zip", "staging/spotify/")
    assert_nothing_uploaded(local_lake)


def test_errors_are_lakeport_errors_with_one_line(local_lake: Lake, tmp_path: Path) -> None:
    archive = tmp_path / "bad.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(LakeportError) as caught:
        load_kaggle(local_lake.storage, archive, "staging/spotify/")
    assert "\n" not in caught.value.one_line()
    assert caught.value.to_dict()["error"]["type"] == "InvalidInput"
