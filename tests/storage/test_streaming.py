"""Acceptance: objects stream through the CLI in constant memory, and a killed upload never shows.

(a) local: 1 GiB in and out through ``lakeport s3 cp`` with the process's peak RSS under 150 MB;
(b) S3: 200 MiB through the CLI as a multipart upload (ETag ``…-40``), same memory bound;
(c) both: ``lakeport s3 cp - s3://bucket/key`` killed with SIGKILL mid-upload leaves no object, or the
    previous version intact, and (local) no temporary file inside the bucket's folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lakeport import Lake
from lakeport.errors import NoSuchKey
from lakeport.storage.local import INTERNAL_DIR, LocalBackend
from tests.support.procmem import cli_command, cli_env, run_measured
from tests.support.storage_kit import PART_SIZE, MiB, md5_hex

RSS_LIMIT = 150 * 1000 * 1000  # 150 MB


def big_block(seed: bytes, n: int) -> bytes:
    """MiB number ``n`` of a big file: the random MiB ``seed`` with ``n`` in its first 8 bytes."""
    return n.to_bytes(8, "big") + seed[8:]


def write_big_file(path: Path, mib: int, part_size: int | None = PART_SIZE) -> tuple[bytes, str, str]:
    """Write ``mib`` MiB fast (one random MiB, numbered per MiB so misplaced blocks show); return the random MiB,
    the file's MD5 and (with ``part_size``) its S3 multipart ETag for ``part_size`` parts."""
    seed = os.urandom(MiB)
    whole = hashlib.md5(usedforsecurity=False)
    part = hashlib.md5(usedforsecurity=False)
    part_digests: list[bytes] = []
    in_part = 0
    with path.open("wb") as out:
        for n in range(mib):
            block = big_block(seed, n)
            out.write(block)
            whole.update(block)
            if part_size is None:
                continue
            part.update(block)
            in_part += MiB
            if in_part == part_size:
                part_digests.append(part.digest())
                part, in_part = hashlib.md5(usedforsecurity=False), 0
    if in_part:
        part_digests.append(part.digest())
    multipart = f"{hashlib.md5(b''.join(part_digests), usedforsecurity=False).hexdigest()}-{len(part_digests)}"
    return seed, whole.hexdigest(), multipart


def assert_big_file(path: Path, seed: bytes, mib: int) -> None:
    """``path`` holds exactly what :func:`write_big_file` wrote: every MiB in its place, nothing more (a byte
    comparison, which is cheaper than hashing the file again)."""
    with path.open("rb") as handle:
        for n in range(mib):
            assert handle.read(MiB) == big_block(seed, n), f"MiB {n} of {path} differs"
        assert handle.read(1) == b"", f"{path} is longer than {mib} MiB"


def report(label: str, peak: int, seconds: float) -> None:
    print(f"\n[peak-rss] {label}: {peak / 1e6:.1f} MB in {seconds:.1f} s")


# ---------------------------------------------------------------- (a) and (b): constant memory


@pytest.mark.slow
def test_local_1gib_streams_through_the_cli_in_constant_memory(local_lake: Lake, tmp_path: Path) -> None:
    bucket = local_lake.storage.default_bucket
    big, out = tmp_path / "big.bin", tmp_path / "out" / "big.bin"
    try:
        seed, md5, _ = write_big_file(big, 1024, part_size=None)
        up = run_measured(
            cli_command("s3", "cp", str(big), f"s3://{bucket}/big/1g.bin", lake=local_lake.root), workdir=tmp_path
        )
        assert up.returncode == 0, up.stderr.decode()
        report("local cp file -> s3 (1 GiB)", up.peak_rss, up.seconds)
        assert up.peak_rss < RSS_LIMIT

        head = local_lake.storage.head_object(bucket, "big/1g.bin")
        assert (head.size, head.etag) == (1024 * MiB, md5)

        down = run_measured(
            cli_command("s3", "cp", f"s3://{bucket}/big/1g.bin", str(out), lake=local_lake.root), workdir=tmp_path
        )
        assert down.returncode == 0, down.stderr.decode()
        report("local cp s3 -> file (1 GiB)", down.peak_rss, down.seconds)
        assert down.peak_rss < RSS_LIMIT
        assert out.stat().st_size == 1024 * MiB
        assert_big_file(out, seed, 1024)
    finally:
        big.unlink(missing_ok=True)
        out.unlink(missing_ok=True)
        local_lake.storage.delete_object(bucket, "big/1g.bin")


@pytest.mark.slow
def test_s3_200mib_streams_through_the_cli_as_multipart(s3_lake: Lake, tmp_path: Path) -> None:
    bucket = s3_lake.storage.default_bucket
    big, out = tmp_path / "big.bin", tmp_path / "out.bin"
    try:
        seed, _, etag = write_big_file(big, 200)
        assert etag.endswith("-40")
        up = run_measured(
            cli_command("s3", "cp", str(big), f"s3://{bucket}/big/200m.bin", lake=s3_lake.root), workdir=tmp_path
        )
        assert up.returncode == 0, up.stderr.decode()
        report("s3 cp file -> s3 (200 MiB)", up.peak_rss, up.seconds)
        assert up.peak_rss < RSS_LIMIT

        head = s3_lake.storage.head_object(bucket, "big/200m.bin")
        assert head.size == 200 * MiB
        assert head.etag == etag, "a multipart upload in 5 MiB parts"
        assert head.multipart

        down = run_measured(
            cli_command("s3", "cp", f"s3://{bucket}/big/200m.bin", str(out), lake=s3_lake.root), workdir=tmp_path
        )
        assert down.returncode == 0, down.stderr.decode()
        report("s3 cp s3 -> file (200 MiB)", down.peak_rss, down.seconds)
        assert down.peak_rss < RSS_LIMIT
        assert_big_file(out, seed, 200)
    finally:
        big.unlink(missing_ok=True)
        out.unlink(missing_ok=True)
        s3_lake.storage.delete_object(bucket, "big/200m.bin")


# ---------------------------------------------------------------- (c): SIGKILL mid-put


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def local_upload_in_flight(lake: Lake, min_bytes: int) -> Callable[[], bool]:
    assert isinstance(lake.backend, LocalBackend)
    tmp = lake.backend.root / INTERNAL_DIR / "tmp"

    def check() -> bool:
        if not tmp.is_dir():
            return False
        sizes = []
        for entry in os.scandir(tmp):
            with contextlib.suppress(FileNotFoundError):
                sizes.append(entry.stat().st_size)
        return any(size >= min_bytes for size in sizes)

    return check


def s3_upload_in_flight(lake: Lake, bucket: str, key: str) -> Callable[[], bool]:
    client = lake.backend.client  # type: ignore[attr-defined]

    def check() -> bool:
        for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            if upload["Key"] == key:
                parts = client.list_parts(Bucket=bucket, Key=key, UploadId=upload["UploadId"]).get("Parts", [])
                return len(parts) >= 1
        return False

    return check


@pytest.mark.parametrize("previous", [True, False], ids=["over-a-previous-version", "new-key"])
def test_sigkill_mid_put_leaves_no_partial_object(lake: Lake, bucket: str, tmp_path: Path, previous: bool) -> None:
    key = "incoming/victim.bin"
    old = b"the previous version, intact\n" * 1000
    if previous:
        lake.storage.put_object(bucket, key, old)
    is_s3 = lake.backend.name == "s3"
    fed = (2 * PART_SIZE + 2 * MiB) if is_s3 else 3 * MiB  # S3: two parts uploaded, a third pending
    in_flight = s3_upload_in_flight(lake, bucket, key) if is_s3 else local_upload_in_flight(lake, 2 * MiB)

    with (tmp_path / "cli.stderr").open("wb") as err:
        proc = subprocess.Popen(
            cli_command("s3", "cp", "-", f"s3://{bucket}/{key}", lake=lake.root),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=cli_env(),
        )
    assert proc.stdin is not None
    stdin = proc.stdin

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError, ValueError):
            chunk = os.urandom(256 * 1024)
            for _ in range(fed // len(chunk)):
                stdin.write(chunk)
                stdin.flush()
                time.sleep(0.005)  # slowly, as a network source would

    feeder = threading.Thread(target=feed, daemon=True)
    try:
        feeder.start()
        wait_for(in_flight, "the upload to be under way")
        assert proc.poll() is None, (tmp_path / "cli.stderr").read_text()
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        feeder.join(timeout=30)
        with contextlib.suppress(BrokenPipeError):
            stdin.close()

    listed = [o.key for o in lake.storage.iter_objects(bucket)]
    if previous:
        assert listed == [key]
        assert lake.storage.read_bytes(bucket, key) == old
        head = lake.storage.head_object(bucket, key)
        assert (head.size, head.etag) == (len(old), md5_hex(old))
    else:
        assert listed == []
        with pytest.raises(NoSuchKey):
            lake.storage.head_object(bucket, key)
        with pytest.raises(NoSuchKey):
            lake.storage.get_object(bucket, key)

    if isinstance(lake.backend, LocalBackend):  # nothing of the killed upload inside the bucket's folder
        bucket_dir = lake.backend.root / bucket
        on_disk = sorted(p.relative_to(bucket_dir).as_posix() for p in bucket_dir.rglob("*") if not p.is_dir())
        assert on_disk == ([key] if previous else [])
