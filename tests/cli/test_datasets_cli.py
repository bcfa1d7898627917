"""``lakeport datasets spotify load`` and ``lakeport datasets load`` as a user runs them: a separate process."""

from __future__ import annotations

import json
from pathlib import Path

from lakeport.datasets.spotify import schema
from tests.conftest import run_cli
from tests.datasets.test_kaggle_loader import write_kaggle_folder


def test_spotify_load_lands_the_kaggle_files(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run_cli("init", str(lake))
    files = write_kaggle_folder(tmp_path / "spotify-dataset-2023")

    data = json.loads(
        run_cli("datasets", "spotify", "load", str(tmp_path / "spotify-dataset-2023"), "-o", "json", lake=lake).stdout
    )
    assert data["to"] == "s3://lakeport/staging/spotify/"
    assert [(f["file"], f["uri"], f["bytes"]) for f in data["files"]] == [
        (spec.name, f"s3://lakeport/staging/spotify/{spec.name}", len(files[spec.name])) for spec in schema.KAGGLE_FILES
    ]
    back = tmp_path / "back.csv"
    run_cli("s3", "cp", f"s3://lakeport/staging/spotify/{schema.ALBUMS.name}", str(back), lake=lake)
    assert back.read_bytes() == files[schema.ALBUMS.name]

    text = run_cli("datasets", "spotify", "load", str(tmp_path / "spotify-dataset-2023"), lake=lake).stdout.decode()
    assert "s3://lakeport/staging/spotify/spotify_tracks_data_2023.csv" in text


def test_load_any_folder_to_a_prefix(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run_cli("init", str(lake))
    src = tmp_path / "mydata"
    (src / "2023").mkdir(parents=True)
    (src / "albums.csv").write_text('id,name\n1,"Los Años Luz, Vol. 2"\n', encoding="utf-8")
    (src / "2023" / "plays.jsonl").write_text('{"id": 1}\n{"id": 2}\n')

    data = json.loads(run_cli("datasets", "load", str(src), "--to", "staging/mydata/", "-o", "json", lake=lake).stdout)
    assert data["to"] == "s3://lakeport/staging/mydata/"
    assert sorted(f["uri"] for f in data["files"]) == [
        "s3://lakeport/staging/mydata/2023/plays.jsonl",
        "s3://lakeport/staging/mydata/albums.csv",
    ]
    listing = json.loads(
        run_cli("s3", "ls", "--recursive", "s3://lakeport/staging/mydata/", "-o", "json", lake=lake).stdout
    )
    assert sorted(o["Key"] for o in listing["Contents"]) == [
        "staging/mydata/2023/plays.jsonl",
        "staging/mydata/albums.csv",
    ]


def test_a_bad_file_fails_with_one_error_line_and_lands_nothing(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run_cli("init", str(lake))
    src = tmp_path / "spotify"
    files = write_kaggle_folder(src)
    bad = src / schema.TRACKS.name
    bad.write_bytes(files[schema.TRACKS.name].replace(b"id,track_popularity,explicit", b"id,track_popularity", 1))

    proc = run_cli("datasets", "spotify", "load", str(src), lake=lake, check=False)
    assert proc.returncode == 1
    assert proc.stdout == b""
    lines = proc.stderr.decode().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1
    assert f"{bad} line 1: header does not match {schema.TRACKS.name}: missing column(s) explicit" in errors[0]
    assert [line for line in lines if not line.startswith(("error:", "hint:"))] == []

    as_json = run_cli("datasets", "spotify", "load", str(src), "-o", "json", lake=lake, check=False)
    assert as_json.returncode == 1
    assert json.loads(as_json.stderr)["error"]["type"] == "InvalidInput"

    listing = json.loads(run_cli("s3", "ls", "--recursive", "s3://lakeport/", "-o", "json", lake=lake).stdout)
    assert listing.get("Contents", []) == []
    assert json.loads(run_cli("events", "list", "-o", "json", lake=lake).stdout)["Records"] == []
