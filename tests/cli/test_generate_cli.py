"""`lakeport datasets spotify generate` into a folder and into the lake."""

from __future__ import annotations

import json
from pathlib import Path

from lakeport.datasets.spotify import schema
from tests.conftest import run_cli


def test_generate_into_staging_and_into_a_folder(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run_cli("init", str(lake))
    landed = json.loads(
        run_cli("datasets", "spotify", "generate", "--scale", "0.002", "--seed", "3", "-o", "json", lake=lake).stdout
    )
    assert landed["to"] == "s3://lakeport/staging/spotify/"
    assert sorted(f["uri"] for f in landed["files"]) == sorted(
        f"s3://lakeport/staging/spotify/{f.name}" for f in schema.KAGGLE_FILES
    )
    assert all(f["rows"] > 0 for f in landed["files"])

    out = tmp_path / "folder"
    local = json.loads(
        run_cli(
            "datasets", "spotify", "generate", "--scale", "0.002", "--seed", "3", "--out", str(out), "-o", "json"
        ).stdout
    )
    assert {f["file"] for f in local["files"]} == {f.name for f in schema.KAGGLE_FILES}
    listing = json.loads(run_cli("s3", "ls", "-r", "s3://lakeport/staging/spotify/", "-o", "json", lake=lake).stdout)
    for obj in listing["Contents"]:
        name = obj["Key"].rsplit("/", 1)[1]
        assert (out / name).stat().st_size == obj["Size"]  # same seed, same bytes


def test_generate_refuses_a_bad_scale(tmp_path: Path) -> None:
    proc = run_cli("datasets", "spotify", "generate", "--scale", "500", "--out", str(tmp_path), check=False)
    assert proc.returncode == 1
    assert "scale 500.0 is outside 0.001..100" in proc.stderr.decode()
    assert list(tmp_path.iterdir()) == []
