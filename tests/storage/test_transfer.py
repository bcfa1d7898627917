"""cp / mv / rm / sync planned and run through the Transfers service, in the shape of ``aws s3``, on both backends."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.errors import InvalidInput, LakeportError, NoSuchKey, NotFound
from lakeport.storage import Transfer, parse_location
from tests.support.storage_kit import md5_hex, new_bucket_name


def keys_of(lake: Lake, bucket: str, prefix: str = "") -> list[str]:
    return [o.key for o in lake.storage.iter_objects(bucket, prefix=prefix)]


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def plan_copy(lake: Lake, src: str, dst: str, *, recursive: bool = False) -> list[Transfer]:
    return lake.transfers.plan_copy(parse_location(src), parse_location(dst), recursive=recursive)


def cp(lake: Lake, src: str, dst: str, *, recursive: bool = False) -> list[Transfer]:
    return lake.transfers.run(plan_copy(lake, src, dst, recursive=recursive))


def mv(lake: Lake, src: str, dst: str, *, recursive: bool = False) -> list[Transfer]:
    return lake.transfers.move(plan_copy(lake, src, dst, recursive=recursive))


def sync(lake: Lake, src: str, dst: str, *, delete: bool = False) -> list[Transfer]:
    return lake.transfers.run(lake.transfers.plan_sync(parse_location(src), parse_location(dst), delete=delete))


def summary(plan: list[Transfer]) -> list[tuple[str, str, str]]:
    return [(t.action, str(t.source), str(t.dest)) for t in plan]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A local folder of files, nested, with one name that only prefixes another ("data" vs "data-old")."""
    root = tmp_path / "tree"
    files = {
        "a.csv": b"a,b\n1,2\n",
        "sub/b.json": b'{"b": 1}',
        "sub/deeper/c.txt": b"c" * 5000,
        "z.bin": os.urandom(70_000),
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def mid_second() -> None:
    """Wait for the start of a wall-clock second, so the next few writes and uploads share one second."""
    while not 0.05 < time.time() % 1 < 0.3:
        time.sleep(0.01)


# ---------------------------------------------------------------- cp: one object


def test_cp_file_to_a_key(lake: Lake, bucket: str, tree: Path) -> None:
    plan = plan_copy(lake, str(tree / "a.csv"), f"s3://{bucket}/in/renamed.csv")
    assert summary(plan) == [("upload", str(tree / "a.csv"), f"s3://{bucket}/in/renamed.csv")]
    assert plan[0].size == len(b"a,b\n1,2\n")
    assert keys_of(lake, bucket) == [], "planning changes nothing"
    lake.transfers.run(plan)
    assert lake.storage.read_bytes(bucket, "in/renamed.csv") == b"a,b\n1,2\n"
    assert lake.storage.head_object(bucket, "in/renamed.csv").content_type == "text/csv"
    assert (tree / "a.csv").exists(), "cp keeps the source"


@pytest.mark.parametrize(("dest", "key"), [("in/", "in/a.csv"), ("", "a.csv"), ("x/y/", "x/y/a.csv")])
def test_cp_file_to_a_prefix_keeps_its_name(lake: Lake, bucket: str, tree: Path, dest: str, key: str) -> None:
    cp(lake, str(tree / "a.csv"), f"s3://{bucket}/{dest}")
    assert keys_of(lake, bucket) == [key]


def test_cp_object_to_a_file_and_to_a_folder(lake: Lake, bucket: str, tmp_path: Path) -> None:
    lake.storage.put_object(bucket, "reports/q1.csv", b"q1")
    target = tmp_path / "out" / "renamed.csv"
    plan = plan_copy(lake, f"s3://{bucket}/reports/q1.csv", str(target))
    assert summary(plan) == [("download", f"s3://{bucket}/reports/q1.csv", str(target))]
    assert plan[0].size == 2
    lake.transfers.run(plan)
    assert target.read_bytes() == b"q1"

    folder = tmp_path / "existing"
    folder.mkdir()
    cp(lake, f"s3://{bucket}/reports/q1.csv", str(folder))
    assert files_under(folder) == {"q1.csv": b"q1"}


def test_cp_object_to_object(lake: Lake, bucket: str) -> None:
    other = new_bucket_name("other")
    lake.storage.create_bucket(other)
    data = os.urandom(20_000)
    lake.storage.put_object(bucket, "src/blob.bin", data)
    cp(lake, f"s3://{bucket}/src/blob.bin", f"s3://{bucket}/dst/copy.bin")
    cp(lake, f"s3://{bucket}/src/blob.bin", f"s3://{other}/into/")
    cp(lake, f"s3://{bucket}/src/blob.bin", f"s3://{other}")
    assert keys_of(lake, bucket) == ["dst/copy.bin", "src/blob.bin"]
    assert keys_of(lake, other) == ["blob.bin", "into/blob.bin"]
    for where in ((bucket, "dst/copy.bin"), (other, "into/blob.bin"), (other, "blob.bin")):
        assert lake.storage.head_object(*where).etag == md5_hex(data)


def test_cp_overwrites_the_destination(lake: Lake, bucket: str, tree: Path) -> None:
    lake.storage.put_object(bucket, "a.csv", b"old")
    cp(lake, str(tree / "a.csv"), f"s3://{bucket}/a.csv")
    assert lake.storage.read_bytes(bucket, "a.csv") == b"a,b\n1,2\n"


def test_cp_errors(lake: Lake, bucket: str, tree: Path, tmp_path: Path) -> None:
    with pytest.raises(NoSuchKey):
        plan_copy(lake, f"s3://{bucket}/missing.csv", str(tmp_path / "x.csv"))
    with pytest.raises(NotFound):
        plan_copy(lake, str(tmp_path / "missing.csv"), f"s3://{bucket}/x.csv")
    with pytest.raises(InvalidInput):
        plan_copy(lake, str(tree), f"s3://{bucket}/x/")  # a folder needs --recursive
    with pytest.raises(InvalidInput):
        plan_copy(lake, str(tree / "a.csv"), str(tmp_path / "copy.csv"))  # neither side in the lake
    with pytest.raises(InvalidInput):
        plan_copy(lake, f"s3://{bucket}", str(tmp_path))  # a bucket is not an object
    assert not (tmp_path / "x.csv").exists()
    assert keys_of(lake, bucket) == []


# ---------------------------------------------------------------- cp --recursive


def test_cp_recursive_folder_to_prefix_and_back(lake: Lake, bucket: str, tree: Path, tmp_path: Path) -> None:
    plan = plan_copy(lake, str(tree), f"s3://{bucket}/data", recursive=True)
    assert [t.action for t in plan] == ["upload"] * 4
    assert sum(t.size for t in plan) == sum(len(v) for v in files_under(tree).values())
    lake.transfers.run(plan)
    assert keys_of(lake, bucket) == ["data/a.csv", "data/sub/b.json", "data/sub/deeper/c.txt", "data/z.bin"]

    lake.storage.put_object(bucket, "data-old/ignored.txt", b"not under data/")
    back = tmp_path / "back"
    plan = plan_copy(lake, f"s3://{bucket}/data/", str(back), recursive=True)
    assert [t.action for t in plan] == ["download"] * 4
    lake.transfers.run(plan)
    assert files_under(back) == files_under(tree)

    again = tmp_path / "again"
    cp(lake, f"s3://{bucket}/data", str(again), recursive=True)  # the prefix without its "/" means the same
    assert files_under(again) == files_under(tree)


def test_cp_recursive_lake_to_lake(lake: Lake, bucket: str, tree: Path) -> None:
    cp(lake, str(tree), f"s3://{bucket}/src/", recursive=True)
    other = new_bucket_name("copy")
    lake.storage.create_bucket(other)
    plan = plan_copy(lake, f"s3://{bucket}/src/", f"s3://{other}/dst/", recursive=True)
    assert [t.action for t in plan] == ["copy"] * 4
    lake.transfers.run(plan)
    assert keys_of(lake, other) == ["dst/a.csv", "dst/sub/b.json", "dst/sub/deeper/c.txt", "dst/z.bin"]
    assert keys_of(lake, bucket, "src/") == ["src/a.csv", "src/sub/b.json", "src/sub/deeper/c.txt", "src/z.bin"]
    for rel, data in files_under(tree).items():
        assert lake.storage.read_bytes(other, f"dst/{rel}") == data


def test_cp_recursive_of_an_empty_prefix_plans_nothing(lake: Lake, bucket: str, tmp_path: Path) -> None:
    assert plan_copy(lake, f"s3://{bucket}/nothing/", str(tmp_path / "out"), recursive=True) == []


# ---------------------------------------------------------------- mv


def test_mv_file_to_lake_removes_the_file(lake: Lake, bucket: str, tree: Path) -> None:
    mv(lake, str(tree / "a.csv"), f"s3://{bucket}/moved/")
    assert not (tree / "a.csv").exists()
    assert lake.storage.read_bytes(bucket, "moved/a.csv") == b"a,b\n1,2\n"


def test_mv_object_to_object_and_to_file(lake: Lake, bucket: str, tmp_path: Path) -> None:
    lake.storage.put_object(bucket, "one.txt", b"1")
    lake.storage.put_object(bucket, "two.txt", b"2")
    mv(lake, f"s3://{bucket}/one.txt", f"s3://{bucket}/renamed/one.txt")
    mv(lake, f"s3://{bucket}/two.txt", str(tmp_path / "two.txt"))
    assert keys_of(lake, bucket) == ["renamed/one.txt"]
    assert lake.storage.read_bytes(bucket, "renamed/one.txt") == b"1"
    assert (tmp_path / "two.txt").read_bytes() == b"2"


def test_mv_recursive(lake: Lake, bucket: str, tree: Path, tmp_path: Path) -> None:
    expected = files_under(tree)
    mv(lake, str(tree), f"s3://{bucket}/up/", recursive=True)
    assert files_under(tree) == {}
    mv(lake, f"s3://{bucket}/up/", f"s3://{bucket}/across/", recursive=True)
    assert keys_of(lake, bucket, "up/") == []
    out = tmp_path / "down"
    mv(lake, f"s3://{bucket}/across/", str(out), recursive=True)
    assert keys_of(lake, bucket) == []
    assert files_under(out) == expected


# ---------------------------------------------------------------- rm


def test_rm_one_and_recursive(lake: Lake, bucket: str) -> None:
    for key in ("keep.txt", "logs/1.txt", "logs/2.txt", "logs/deep/3.txt", "logs-other/4.txt"):
        lake.storage.put_object(bucket, key, b"x")
    lake.transfers.run(lake.transfers.plan_remove(parse_location(f"s3://{bucket}/keep.txt")))
    plan = lake.transfers.plan_remove(parse_location(f"s3://{bucket}/logs"), recursive=True)
    assert summary(plan) == [
        ("delete", f"s3://{bucket}/{k}", f"s3://{bucket}/{k}") for k in ("logs/1.txt", "logs/2.txt", "logs/deep/3.txt")
    ]
    lake.transfers.run(plan)
    assert keys_of(lake, bucket) == ["logs-other/4.txt"]


def test_rm_of_a_missing_key_succeeds(lake: Lake, bucket: str) -> None:
    lake.transfers.run(lake.transfers.plan_remove(parse_location(f"s3://{bucket}/never.txt")))
    with pytest.raises(InvalidInput):
        lake.transfers.plan_remove(parse_location(f"s3://{bucket}"))  # the whole bucket needs --recursive


# ---------------------------------------------------------------- sync


def test_sync_up_copies_only_new_and_changed(lake: Lake, bucket: str, tree: Path) -> None:
    mid_second()  # files written and uploaded within one second, as a quick script would
    (tree / "a.csv").write_bytes(b"a,b\n1,2\n")
    first = sync(lake, str(tree), f"s3://{bucket}/mirror")
    assert sorted(t.dest.key for t in first) == [
        "mirror/a.csv",
        "mirror/sub/b.json",
        "mirror/sub/deeper/c.txt",
        "mirror/z.bin",
    ]
    assert keys_of(lake, bucket) == sorted(t.dest.key for t in first)

    assert sync(lake, str(tree), f"s3://{bucket}/mirror") == [], "nothing changed: nothing to copy"

    (tree / "sub" / "b.json").write_bytes(b'{"b": 2, "changed": true}')  # another size
    (tree / "new.txt").write_bytes(b"new")
    future = time.time() + 30  # same size, but modified after the upload
    (tree / "z.bin").write_bytes(os.urandom(70_000))
    os.utime(tree / "z.bin", (future, future))
    second = sync(lake, str(tree), f"s3://{bucket}/mirror")
    assert sorted(t.dest.key for t in second) == ["mirror/new.txt", "mirror/sub/b.json", "mirror/z.bin"]
    for rel, data in files_under(tree).items():
        assert lake.storage.read_bytes(bucket, f"mirror/{rel}") == data


def test_sync_up_with_delete_removes_extras(lake: Lake, bucket: str, tree: Path) -> None:
    sync(lake, str(tree), f"s3://{bucket}/mirror/")
    lake.storage.put_object(bucket, "mirror/extra.txt", b"only in the lake")
    lake.storage.put_object(bucket, "outside-mirror.txt", b"not under the prefix")
    (tree / "a.csv").unlink()
    assert sync(lake, str(tree), f"s3://{bucket}/mirror/") == [], "without --delete nothing is removed"
    plan = sync(lake, str(tree), f"s3://{bucket}/mirror/", delete=True)
    assert summary(plan) == [
        ("delete", f"s3://{bucket}/mirror/a.csv", f"s3://{bucket}/mirror/a.csv"),
        ("delete", f"s3://{bucket}/mirror/extra.txt", f"s3://{bucket}/mirror/extra.txt"),
    ]
    assert keys_of(lake, bucket) == [
        "mirror/sub/b.json",
        "mirror/sub/deeper/c.txt",
        "mirror/z.bin",
        "outside-mirror.txt",
    ]


def test_sync_down_and_delete_local_extras(lake: Lake, bucket: str, tree: Path, tmp_path: Path) -> None:
    sync(lake, str(tree), f"s3://{bucket}/src/")
    local = tmp_path / "local"
    first = sync(lake, f"s3://{bucket}/src/", str(local))
    assert [t.action for t in first] == ["download"] * 4
    assert files_under(local) == files_under(tree)
    assert sync(lake, f"s3://{bucket}/src/", str(local)) == []

    (local / "extra.txt").write_bytes(b"only here")
    lake.storage.put_object(bucket, "src/sub/b.json", b'{"b": "changed in the lake"}')
    plan = sync(lake, f"s3://{bucket}/src/", str(local), delete=True)
    assert sorted((t.action, t.dest.path.name if t.dest.path else "") for t in plan) == [
        ("delete", "extra.txt"),
        ("download", "b.json"),
    ]
    assert not (local / "extra.txt").exists()
    assert (local / "sub" / "b.json").read_bytes() == b'{"b": "changed in the lake"}'


def test_sync_lake_to_lake(lake: Lake, bucket: str, tree: Path) -> None:
    sync(lake, str(tree), f"s3://{bucket}/a/")
    other = new_bucket_name("sync")
    lake.storage.create_bucket(other)
    first = sync(lake, f"s3://{bucket}/a/", f"s3://{other}/b/")
    assert [t.action for t in first] == ["copy"] * 4
    assert sync(lake, f"s3://{bucket}/a/", f"s3://{other}/b/") == []
    lake.storage.put_object(other, "b/stale.txt", b"x")
    lake.storage.delete_object(bucket, "a/a.csv")
    plan = sync(lake, f"s3://{bucket}/a/", f"s3://{other}/b/", delete=True)
    assert summary(plan) == [
        ("delete", f"s3://{other}/b/a.csv", f"s3://{other}/b/a.csv"),
        ("delete", f"s3://{other}/b/stale.txt", f"s3://{other}/b/stale.txt"),
    ]
    assert keys_of(lake, other) == ["b/sub/b.json", "b/sub/deeper/c.txt", "b/z.bin"]


def test_sync_refuses_standard_io(lake: Lake, bucket: str) -> None:
    with pytest.raises(LakeportError):
        lake.transfers.plan_sync(parse_location("-"), parse_location(f"s3://{bucket}/x/"))
