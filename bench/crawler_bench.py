"""The crawler: first crawl and re-crawl of many small files in many partitions, next to raw engines.

    .venv/bin/python bench/crawler_bench.py [--partitions 1000] [--files-per-partition 10] [--rows 20]

Data: ``events/year=…/month=…/day=…/part-N.csv`` (a Hive layout) put into a local lake. lakeport crawls it
once (lists, samples every file, infers types, groups into one partitioned table, writes the catalog), then
again with nothing changed (lists, finds every file in its object index, opens none), then in event mode
with no new events (opens and lists nothing).

Side by side, the same discovery done by raw engines on the same folder, in the same run:
- DuckDB: ``DESCRIBE`` of ``read_csv('…/**/*.csv', hive_partitioning = true, union_by_name = true)``
  (lists the files, sniffs every file to unify the schema, types the partition columns);
- pyarrow.dataset: ``dataset(…, format="csv", partitioning="hive")`` and its schema plus the list of
  partitions (lists the files; the schema comes from the first file only);
- Polars: ``scan_csv('…/**/*.csv').collect_schema()`` (no partition columns for CSV).
None of them keeps a catalog or anything to make a second look cheaper.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from lakeport import Lake  # noqa: E402
from lakeport.crawler import CrawlerDefinition  # noqa: E402

T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def layout(partitions: int) -> list[tuple[int, int, int]]:
    """``partitions`` (year, month, day) triples: 10 days per month, 10 months per year."""
    out = []
    for i in range(partitions):
        out.append((2000 + i // 100, 1 + (i // 10) % 10, 1 + i % 10))
    return out


def csv_body(seed: int, rows: int) -> bytes:
    lines = ["id,ts,user,amount,ok"]
    for r in range(rows):
        n = seed * rows + r
        lines.append(
            f"{n},2023-{1 + n % 12:02d}-{1 + n % 28:02d} 12:{n % 60:02d}:00,user{n % 97},{n % 1000 / 7:.3f},{'true' if n % 3 else 'false'}"
        )
    return ("\n".join(lines) + "\n").encode()


def build(lake: Lake, partitions: int, per_partition: int, rows: int) -> int:
    count = 0
    for year, month, day in layout(partitions):
        for part in range(per_partition):
            key = f"staging/events/year={year}/month={month:02d}/day={day:02d}/part-{part}.csv"
            lake.storage.put_object("lakeport", key, csv_body(count, rows))
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--files-per-partition", type=int, default=10)
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()
    console = Console(width=130)
    with tempfile.TemporaryDirectory(prefix="lakeport-crawl-bench-") as tmp:
        lake = Lake.init(Path(tmp) / "lake", values={"storage.fsync": False})
        t_build, n_files = timed(lambda: build(lake, args.partitions, args.files_per_partition, args.rows))
        console.print(f"wrote {n_files} files in {args.partitions} partitions in {t_build:.1f}s")
        root = Path(tmp) / "lake" / "objects" / "lakeport" / "staging" / "events"
        crawlers = lake.crawlers
        crawlers.create_crawler(
            CrawlerDefinition(name="bench", targets=("s3://lakeport/staging/events/",), database="bench")
        )
        crawlers.create_crawler(
            CrawlerDefinition(
                name="bench-events",
                targets=("s3://lakeport/staging/events/",),
                database="bench_events",
                recrawl_behavior="CRAWL_EVENT_MODE",
            )
        )
        rows: list[tuple[str, str, float, str]] = []

        t_first, first = timed(lambda: crawlers.start_crawler("bench"))
        table = lake.catalog.get_table("bench", "events")
        parts = len(lake.catalog.get_partitions("bench", "events"))
        detail = f"{first.summary['files_read']} files read, {parts} partitions, {len(table.columns)} columns"
        rows.append(("lakeport", "first crawl", t_first, detail))
        t_again, again = timed(lambda: crawlers.start_crawler("bench"))
        rows.append(("lakeport", "re-crawl, nothing changed", t_again, f"{again.summary['files_read']} files read"))
        crawlers.start_crawler("bench-events")
        t_events, events = timed(lambda: crawlers.start_crawler("bench-events"))
        rows.append(
            (
                "lakeport",
                "re-crawl in event mode, no events",
                t_events,
                f"{events.summary['files_listed']} listed, {events.summary['files_read']} read",
            )
        )

        import duckdb

        glob = str(root / "**" / "*.csv")

        def duck() -> list[tuple[object, ...]]:
            con = duckdb.connect()
            return con.sql(
                f"DESCRIBE SELECT * FROM read_csv('{glob}', hive_partitioning = true, union_by_name = true)"
            ).fetchall()

        t_duck, described = timed(duck)
        rows.append(("DuckDB", "read_csv DESCRIBE, union_by_name", t_duck, f"{len(described)} columns"))

        import pyarrow.dataset as ds

        def arrow() -> tuple[int, int]:
            dataset = ds.dataset(str(root), format="csv", partitioning="hive")
            folders = {Path(f).parent for f in dataset.files}
            return len(dataset.schema), len(folders)

        t_arrow, (n_cols, n_parts) = timed(arrow)
        rows.append(
            ("pyarrow.dataset", "discover (schema of first file)", t_arrow, f"{n_cols} columns, {n_parts} partitions")
        )

        import polars as pl

        t_polars, schema = timed(lambda: pl.scan_csv(glob).collect_schema())
        rows.append(("Polars", "scan_csv collect_schema", t_polars, f"{len(schema)} columns (no partitions)"))
        lake.close()

    out = Table("engine", "work", "seconds", "detail", title=f"crawl {n_files} files in {args.partitions} partitions")
    for engine, work, seconds, detail in rows:
        out.add_row(engine, work, f"{seconds:.3f}", detail)
    console.print(out)
    console.print(
        f"re-crawl speed-up: {t_first / t_again:.1f}x (unchanged data), {t_first / t_events:.1f}x (event mode)"
    )


if __name__ == "__main__":
    main()
