"""Object storage: lakeport side by side with the raw operation it wraps, in the same run.

    .venv/bin/python bench/storage_bench.py [--big-mb 256] [--small 2000]

Local backend vs plain file I/O (shutil), S3 backend vs raw boto3 on the same moto endpoint. lakeport's
extra work is the point of the comparison: an MD5 for the ETag, fsync + rename for atomicity, and a
metadata-database transaction per object for its event.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from tests.support.s3server import ACCESS_KEY, SECRET_KEY, moto_server  # noqa: E402

from lakeport import Lake  # noqa: E402

MiB = 1024 * 1024


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def write_big(path: Path, size_mb: int) -> None:
    block = os.urandom(MiB)
    with path.open("wb") as out:
        for _ in range(size_mb):
            out.write(block)


def bench_local(work: Path, big: Path, size_mb: int, small: int) -> list[tuple[str, str, float, float]]:
    lake = Lake.init(work / "lake")
    raw = work / "raw"
    raw.mkdir()
    rows = []
    t_raw = timed(lambda: shutil.copyfile(big, raw / "big.bin"))
    t_lp = timed(lambda: lake.storage.upload_file(big, "lakeport", "big.bin"))
    rows.append(("local", f"put {size_mb} MiB file", t_lp, t_raw))
    t_raw = timed(lambda: shutil.copyfile(raw / "big.bin", work / "raw-out.bin"))
    t_lp = timed(lambda: lake.storage.download_file("lakeport", "big.bin", work / "lp-out.bin"))
    rows.append(("local", f"get {size_mb} MiB to a file", t_lp, t_raw))

    def raw_small() -> None:
        for i in range(small):
            (raw / f"s{i:05d}.csv").write_bytes(b"a,b\n%d,%d\n" % (i, i))

    def lp_small() -> None:
        for i in range(small):
            lake.storage.put_object("lakeport", f"small/s{i:05d}.csv", b"a,b\n%d,%d\n" % (i, i))

    rows.append(("local", f"put {small} small objects", timed(lp_small), timed(raw_small)))
    t_raw = timed(lambda: sorted(p.name for p in raw.iterdir()))
    t_lp = timed(lambda: list(lake.storage.iter_objects("lakeport", prefix="small/")))
    rows.append(("local", f"list {small} keys", t_lp, t_raw))
    lake.close()
    return rows


def bench_s3(work: Path, big: Path, size_mb: int, small: int) -> list[tuple[str, str, float, float]]:
    import boto3

    rows = []
    with moto_server() as endpoint:
        settings = {
            "storage.url": "s3://",
            "storage.endpoint_url": endpoint,
            "storage.access_key_id": ACCESS_KEY,
            "storage.secret_access_key": SECRET_KEY,
            "storage.default_bucket": "bench-lake",
        }
        lake = Lake.init(work / "s3lake", values=settings)
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        client.create_bucket(Bucket="bench-raw")
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_chunksize=8 * MiB, max_concurrency=1)
        t_raw = timed(lambda: client.upload_file(str(big), "bench-raw", "big.bin", Config=config))
        t_lp = timed(lambda: lake.storage.upload_file(big, "bench-lake", "big.bin"))
        rows.append(("s3 (moto)", f"put {size_mb} MiB file", t_lp, t_raw))
        t_raw = timed(lambda: client.download_file("bench-raw", "big.bin", str(work / "s3raw.bin"), Config=config))
        t_lp = timed(lambda: lake.storage.download_file("bench-lake", "big.bin", work / "s3lp.bin"))
        rows.append(("s3 (moto)", f"get {size_mb} MiB to a file", t_lp, t_raw))
        n = max(1, small // 10)

        def raw_small() -> None:
            for i in range(n):
                client.put_object(Bucket="bench-raw", Key=f"small/s{i:05d}.csv", Body=b"a,b\n%d\n" % i)

        def lp_small() -> None:
            for i in range(n):
                lake.storage.put_object("bench-lake", f"small/s{i:05d}.csv", io.BytesIO(b"a,b\n%d\n" % i))

        rows.append(("s3 (moto)", f"put {n} small objects", timed(lp_small), timed(raw_small)))
        paginator = client.get_paginator("list_objects_v2")
        t_raw = timed(lambda: [p for p in paginator.paginate(Bucket="bench-raw", Prefix="small/")])
        t_lp = timed(lambda: list(lake.storage.iter_objects("bench-lake", prefix="small/")))
        rows.append(("s3 (moto)", f"list {n} keys", t_lp, t_raw))
        lake.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big-mb", type=int, default=256)
    parser.add_argument("--small", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lakeport-bench-") as tmp:
        work = Path(tmp)
        big = work / "big.bin"
        write_big(big, args.big_mb)
        rows = bench_local(work, big, args.big_mb, args.small) + bench_s3(work, big, args.big_mb, args.small)
    table = Table("backend", "operation", "lakeport (s)", "raw (s)", "ratio", title="object storage")
    for backend, op, lp, raw in rows:
        table.add_row(backend, op, f"{lp:.3f}", f"{raw:.3f}", f"{lp / raw:.2f}x" if raw else "-")
    Console(width=120).print(table)
    print("raw = shutil / pathlib for local, boto3 (upload_file/download_file/put_object/paginator) for S3")


if __name__ == "__main__":
    main()
