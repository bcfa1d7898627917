"""Landing a batch of files is all or nothing: a failure restores the prefix's last good state."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.datasets.staging import resolve_destination, upload_batch
from lakeport.errors import InvalidInput


def test_destination_forms() -> None:
    assert resolve_destination("staging/spotify", "lakeport").uri == "s3://lakeport/staging/spotify/"
    assert resolve_destination("s3://other/raw/x/", "lakeport").uri == "s3://other/raw/x/"
    assert resolve_destination("s3://other", "lakeport").uri == "s3://other/"
    with pytest.raises(InvalidInput, match="names no bucket"):
        resolve_destination("s3:///x", "lakeport")


def test_a_failed_batch_restores_overwritten_objects_and_removes_new_ones(lake: Lake, tmp_path: Path) -> None:
    bucket = lake.settings.storage.default_bucket
    lake.storage.put_object(bucket, "staging/set/a.csv", b"a,1\n")  # the last good state
    (tmp_path / "a.csv").write_text("a,2\n")
    (tmp_path / "b.csv").write_text("b,2\n")
    files = [("a.csv", tmp_path / "a.csv"), ("b.csv", tmp_path / "b.csv"), ("c.csv", tmp_path / "missing.csv")]
    with pytest.raises(InvalidInput, match=r"missing\.csv"):
        upload_batch(lake.storage, files, resolve_destination("staging/set/", bucket))
    assert [o.key for o in lake.storage.iter_objects(bucket, prefix="staging/set/")] == ["staging/set/a.csv"]
    assert lake.storage.read_bytes(bucket, "staging/set/a.csv") == b"a,1\n"


def test_a_whole_batch_lands(lake: Lake, tmp_path: Path) -> None:
    bucket = lake.settings.storage.default_bucket
    for name in ("x.csv", "y.json"):
        (tmp_path / name).write_text(name)
    seen: dict[str, int] = {}
    landed = upload_batch(
        lake.storage,
        [("x.csv", tmp_path / "x.csv"), ("sub/y.json", tmp_path / "y.json")],
        resolve_destination("staging/new", bucket),
        progress=lambda name, n: seen.update({name: seen.get(name, 0) + n}),
    )
    assert [f.uri for f in landed] == [f"s3://{bucket}/staging/new/x.csv", f"s3://{bucket}/staging/new/sub/y.json"]
    assert seen == {"x.csv": 5, "sub/y.json": 6}
