"""Keys and bucket names that try to leave their bucket are refused, on both backends, before anything is done.

Every refusal is an InvalidKey / InvalidBucketName naming the offending key or name; nothing is read from or
written to outside the bucket. On the local backend, symbolic links inside a bucket that lead outside it are
neither followed for reading or writing nor listed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.errors import InvalidBucketName, InvalidKey, LakeportError, NoSuchKey
from lakeport.storage import Storage
from lakeport.storage.local import LocalBackend
from tests.support.storage_kit import moto_s3_backend, new_bucket_name

Attempt = Callable[[], object]

ESCAPING_KEYS = [
    "../x",
    "a/../../x",
    "/etc/passwd",
    "..",
    ".",
    "a/./b",
    "a//b",
    "a\\..\\b",
    "..\\..\\x",
    "a/..",
    "./a",
    "a/.",
    "../../../../../../../../etc/passwd",
    "a/b/../../../c",
    "//etc/passwd",
    "../../lakeport.toml",
    "../lakeport/staging",
    "x\x00y",
    "\x00",
    "a\nb",
    "a\rb",
    "a\tb",
    "\x1b[2Jclear",
    "x\x7f",
    "a/",
    "a/b/",
    "/",
    "",
    "x" * 1025,
    "é" * 513,
    "dir/" + "y" * 1021,
    "C:\\Windows\\system32",
    "\\\\server\\share\\x",
    "ok/\udc80bad",
]

ESCAPING_BUCKETS = [
    "../x",
    ".",
    "..",
    "A",
    "a_b",
    "192.168.0.1",
    "10.0.0.255",
    "ab",
    "a" * 64,
    "-abc",
    "abc-",
    "a..b",
    "a.-b",
    "a-.b",
    "xn--abc",
    "abc-s3alias",
    ".lakeport",
    "My-Bucket",
    "a/b",
    "lakeport/..",
    "a b",
    "",
    "abc\x00",
    "é-bucket",
]


def key_id(value: str) -> str:
    return ascii(value)[1:-1][:40] or "empty"


def names(message: str, value: str) -> bool:
    """Whether an error message names ``value`` (as written, or escaped as Python would print it)."""
    return value in message or repr(value) in message or ascii(value)[1:-1] in message


def snapshot(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` (size, mtime) except SQLite's, which record nothing of ours on refusals."""
    out: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in [*files, *dirs]:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if name.startswith("lakeport.db") or any(rel.startswith(s) for s in skip):
                continue
            st = path.lstat()
            out[rel] = (st.st_size, st.st_mtime_ns if not path.is_dir() else 0)
    return out


def store_state(lake: Lake) -> object:
    """What a refused call must not change: the files under the lake's folder (local) or every key (S3)."""
    if isinstance(lake.backend, LocalBackend):
        return snapshot(lake.root.parent)
    # Every bucket and key of the S3 endpoint, read from moto's store in this process (no request per bucket).
    return {name: sorted(fake.keys.keys()) for name, fake in moto_s3_backend().buckets.items()}


def key_attempts(storage: Storage, bucket: str, key: str, upload: Path, download: Path) -> dict[str, Attempt]:
    """Every call that takes an object key, aimed at ``key``."""
    return {
        "put": lambda: storage.put_object(bucket, key, b"pwned"),
        "get": lambda: storage.get_object(bucket, key),
        "read": lambda: storage.read_bytes(bucket, key),
        "head": lambda: storage.head_object(bucket, key),
        "delete": lambda: storage.delete_object(bucket, key),
        "copy from": lambda: storage.copy_object(bucket, key, bucket, "copied.txt"),
        "copy to": lambda: storage.copy_object(bucket, "inside.txt", bucket, key),
        "upload": lambda: storage.upload_file(upload, bucket, key),
        "download": lambda: storage.download_file(bucket, key, download),
        "presign": lambda: storage.presign(bucket, key),
    }


def bucket_attempts(storage: Storage, bucket: str, name: str, upload: Path, download: Path) -> dict[str, Attempt]:
    """Every call that takes a bucket name, aimed at ``name`` (``bucket`` is a real one, for copies)."""
    return {
        "create": lambda: storage.create_bucket(name),
        "exists": lambda: storage.bucket_exists(name),
        "delete": lambda: storage.delete_bucket(name, force=True),
        "list": lambda: storage.list_objects(name),
        "put": lambda: storage.put_object(name, "k.txt", b"pwned"),
        "get": lambda: storage.get_object(name, "inside.txt"),
        "head": lambda: storage.head_object(name, "inside.txt"),
        "delete object": lambda: storage.delete_object(name, "inside.txt"),
        "copy from": lambda: storage.copy_object(name, "inside.txt", bucket, "copied.txt"),
        "copy to": lambda: storage.copy_object(bucket, "inside.txt", name, "copied.txt"),
        "upload": lambda: storage.upload_file(upload, name, "k.txt"),
        "download": lambda: storage.download_file(name, "inside.txt", download),
    }


@pytest.fixture
def guarded(lake: Lake, tmp_path: Path) -> tuple[Lake, str, Path]:
    """A bucket holding one object, and a local file to upload."""
    bucket = new_bucket_name("guard")
    lake.storage.create_bucket(bucket)
    lake.storage.put_object(bucket, "inside.txt", b"inside")
    (tmp_path / "x").write_bytes(b"a file next to the lake")
    upload = tmp_path / "upload.txt"
    upload.write_bytes(b"payload")
    return lake, bucket, upload


def test_escaping_keys_are_refused(guarded: tuple[Lake, str, Path], tmp_path: Path, subtests: pytest.Subtests) -> None:
    lake, bucket, upload = guarded
    storage = lake.storage
    download = tmp_path / "downloads" / "out.bin"
    for key in ESCAPING_KEYS:
        with subtests.test(key=key_id(key)):
            attempts = key_attempts(storage, bucket, key, upload, download)
            before = store_state(lake)
            for what, attempt in attempts.items():
                with pytest.raises(InvalidKey) as caught:
                    attempt()
                assert names(caught.value.message, key), f"{what}: {caught.value.message!r} does not name the key"
            assert store_state(lake) == before, "a refused call changed the store or wrote outside its bucket"
            assert not download.exists()
            assert not storage.object_exists(bucket, "copied.txt")
            assert storage.read_bytes(bucket, "inside.txt") == b"inside"


def test_escaping_bucket_names_are_refused(
    guarded: tuple[Lake, str, Path], tmp_path: Path, subtests: pytest.Subtests
) -> None:
    lake, bucket, upload = guarded
    storage = lake.storage
    for name in ESCAPING_BUCKETS:
        with subtests.test(bucket=key_id(name)):
            attempts = bucket_attempts(storage, bucket, name, upload, tmp_path / "dl.txt")
            before = store_state(lake)
            for what, attempt in attempts.items():
                with pytest.raises(InvalidBucketName) as caught:
                    attempt()
                assert names(caught.value.message, name), f"{what}: {caught.value.message!r} does not name the bucket"
            assert store_state(lake) == before, "a refused call changed the store or wrote outside its bucket"
            assert not (tmp_path / "dl.txt").exists()
            assert not storage.object_exists(bucket, "copied.txt")


def test_there_are_at_least_thirty_distinct_escape_attempts() -> None:
    assert len(set(ESCAPING_KEYS)) + len(set(ESCAPING_BUCKETS)) >= 30
    assert len(set(ESCAPING_KEYS)) >= 30


def test_keys_that_only_look_odd_are_fine(lake: Lake, bucket: str) -> None:
    """Dots inside names, and names of dots longer than two, are ordinary keys on both backends."""
    odd = ["...", "a/.../b", ".hidden", "a/.b", "a..b", "..a/b..", "%2e%2e/x", "-", "a b/c d"]
    for key in odd:
        lake.storage.put_object(bucket, key, key.encode())
    assert sorted(o.key for o in lake.storage.iter_objects(bucket)) == sorted(odd)
    for key in odd:
        assert lake.storage.read_bytes(bucket, key) == key.encode()


def test_longest_key_is_accepted(lake: Lake, bucket: str) -> None:
    key = "/".join(["k" * 200] * 5) + "/" + "z" * 19  # 1024 bytes, no segment longer than a file name
    assert len(key.encode()) == 1024
    lake.storage.put_object(bucket, key, b"long")
    assert lake.storage.read_bytes(bucket, key) == b"long"


def test_local_refuses_a_segment_longer_than_a_file_name(local_lake: Lake) -> None:
    bucket = local_lake.storage.default_bucket
    key = "dir/" + "s" * 251
    with pytest.raises(InvalidKey) as caught:
        local_lake.storage.put_object(bucket, key, b"x")
    assert key in caught.value.message


# ---------------------------------------------------------------- symbolic links (local backend)


@pytest.fixture
def linked(local_lake: Lake, tmp_path: Path) -> Iterator[tuple[Lake, str, Path]]:
    """A bucket with links leading outside it: to a file, a folder, a missing file, the root, another bucket."""
    storage = local_lake.storage
    assert isinstance(local_lake.backend, LocalBackend)
    bucket = new_bucket_name("links")
    storage.create_bucket(bucket)
    storage.put_object(bucket, "ok.txt", b"ok")
    storage.put_object(storage.default_bucket, "private/other.txt", b"another bucket's object")
    bucket_dir = local_lake.backend.root / bucket

    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret.txt").write_bytes(b"top secret")
    (outside / "dir" / "inner.txt").write_bytes(b"inner secret")

    (bucket_dir / "file-link").symlink_to(outside / "secret.txt")
    (bucket_dir / "dir-link").symlink_to(outside / "dir", target_is_directory=True)
    (bucket_dir / "dangling").symlink_to(outside / "created-through-link.txt")
    (bucket_dir / "up").symlink_to("..", target_is_directory=True)
    (bucket_dir / "other-bucket").symlink_to(local_lake.backend.root / storage.default_bucket)
    (bucket_dir / "sub").mkdir()
    (bucket_dir / "sub" / "rel-link").symlink_to(os.path.relpath(outside / "secret.txt", bucket_dir / "sub"))
    (bucket_dir / "sub" / "rel-dir").symlink_to(os.path.relpath(outside / "dir", bucket_dir / "sub"))

    before = snapshot(tmp_path, skip=(f"lake/objects/{bucket}", "lake/objects/.lakeport"))
    yield local_lake, bucket, outside
    after = snapshot(tmp_path, skip=(f"lake/objects/{bucket}", "lake/objects/.lakeport"))
    assert after == before, "something outside the bucket changed"
    assert (outside / "secret.txt").read_bytes() == b"top secret"
    assert (outside / "dir" / "inner.txt").read_bytes() == b"inner secret"
    assert sorted(p.name for p in outside.iterdir()) == ["dir", "secret.txt"]
    assert sorted(p.name for p in (outside / "dir").iterdir()) == ["inner.txt"]


THROUGH_LINKS = [
    "file-link",
    "dir-link/inner.txt",
    "dangling",
    "up/lakeport/private/other.txt",
    "other-bucket/private/other.txt",
    "sub/rel-link",
    "sub/rel-dir/inner.txt",
]


@pytest.mark.parametrize("key", THROUGH_LINKS)
def test_links_out_of_the_bucket_are_not_readable(linked: tuple[Lake, str, Path], key: str, tmp_path: Path) -> None:
    lake, bucket, _ = linked
    storage = lake.storage
    download = tmp_path / "dl" / "x"
    reads: dict[str, Callable[[], object]] = {
        "get": lambda: storage.read_bytes(bucket, key),
        "head": lambda: storage.head_object(bucket, key),
        "copy from": lambda: storage.copy_object(bucket, key, bucket, "stolen.txt"),
        "download": lambda: storage.download_file(bucket, key, download),
        "presign": lambda: storage.presign(bucket, key),
        "ranged get": lambda: storage.get_object(bucket, key, byte_range=(0, 3)),
    }
    for what, read in reads.items():
        with pytest.raises((InvalidKey, NoSuchKey)) as caught:
            read()
        assert key in caught.value.message, what
    assert key not in [o.key for o in storage.iter_objects(bucket)]
    assert not download.exists()
    assert not storage.object_exists(bucket, "stolen.txt")


@pytest.mark.parametrize("key", [*THROUGH_LINKS, "dir-link/new.txt", "sub/rel-dir/new.txt", "up/new-at-root.txt"])
def test_links_out_of_the_bucket_are_not_writable(linked: tuple[Lake, str, Path], key: str, tmp_path: Path) -> None:
    lake, bucket, _ = linked
    storage = lake.storage
    upload = tmp_path / "payload.txt"
    upload.write_bytes(b"pwned")
    writes: dict[str, Callable[[], object]] = {
        "put": lambda: storage.put_object(bucket, key, b"pwned"),
        "copy to": lambda: storage.copy_object(bucket, "ok.txt", bucket, key),
        "upload": lambda: storage.upload_file(upload, bucket, key),
    }
    for what, write in writes.items():
        with pytest.raises(LakeportError) as caught:
            write()
        assert isinstance(caught.value, InvalidKey), f"{what}: {caught.value!r}"
        assert key in caught.value.message, what
    with contextlib.suppress(LakeportError):  # refusing is fine; removing what the link points at is not
        storage.delete_object(bucket, key)
    upload.unlink()


def test_links_out_of_the_bucket_are_not_listed(linked: tuple[Lake, str, Path]) -> None:
    lake, bucket, _ = linked
    storage = lake.storage
    assert [o.key for o in storage.iter_objects(bucket)] == ["ok.txt"]
    page = storage.list_objects(bucket, delimiter="/")
    assert [o.key for o in page.objects] == ["ok.txt"]
    assert page.common_prefixes == []
    for prefix in ("dir-link/", "up/", "other-bucket/", "sub/", "sub/rel-dir/", "file-link", "d"):
        listed = storage.list_objects(bucket, prefix=prefix)
        assert listed.objects == [], prefix
        assert storage.list_objects(bucket, prefix=prefix, delimiter="/").common_prefixes == [], prefix


def test_force_deleting_a_bucket_with_links_keeps_their_targets(linked: tuple[Lake, str, Path]) -> None:
    lake, bucket, _ = linked
    assert lake.storage.delete_bucket(bucket, force=True) == 1
    assert not lake.storage.bucket_exists(bucket)
    assert lake.storage.read_bytes(lake.storage.default_bucket, "private/other.txt") == b"another bucket's object"
