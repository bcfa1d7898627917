"""Three unrelated datasets for ``lakeport pipeline new``: TPC-H (CSV, from tpchgen-cli), a JSON-lines event
log with nested fields, and a Hive-partitioned Parquet set. Each builder returns what a test should find."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


@dataclass(frozen=True)
class Expected:
    """What the pipeline should make of a dataset: warehouse tables with their row counts, partition keys."""

    rows: dict[str, int]
    partition_keys: dict[str, list[str]] = field(default_factory=dict)


TPCH_ROWS_001 = {
    "customer": 1500,
    "lineitem": 60175,
    "nation": 25,
    "orders": 15000,
    "part": 2000,
    "partsupp": 8000,
    "region": 5,
    "supplier": 100,
}


def tpch(folder: Path) -> Expected:
    """TPC-H at scale 0.01 as eight CSV files with headers, from the tpchgen-cli package."""
    cli = Path(sys.executable).with_name("tpchgen-cli")
    subprocess.run([str(cli), "csv", "-s", "0.01", f"--output-dir={folder}"], check=True, capture_output=True)
    return Expected(dict(TPCH_ROWS_001))


def event_log(folder: Path, *, days: int = 3, per_day: int = 400, seed: int = 7) -> Expected:
    """A web app's event log: one JSON-lines file per day, nested ``user`` and ``context`` objects, a list of
    tags, and a field (``value``) that is absent from some events."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 3, 1)
    kinds = ["page_view", "click", "signup", "purchase"]
    for day in range(days):
        lines = []
        for i in range(per_day):
            at = start + timedelta(days=day, seconds=rng.randrange(86_400))
            event: dict[str, object] = {
                "event_id": f"e-{day:02d}-{i:05d}",
                "event_type": rng.choice(kinds),
                "occurred_at": at.strftime("%Y-%m-%d %H:%M:%S"),
                "user": {"user_id": rng.randrange(1, 200), "country": rng.choice(["FR", "DE", "JP", "BR"])},
                "context": {"page": f"/p/{rng.randrange(20)}", "referrer": rng.choice(["search", "ad", "direct"])},
                "tags": rng.sample(["new", "mobile", "beta", "promo"], k=rng.randrange(0, 3)),
            }
            if event["event_type"] == "purchase":
                event["value"] = round(rng.uniform(5, 300), 2)
            lines.append(json.dumps(event))
        (folder / f"events-2026-03-{day + 1:02d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Expected({"events": days * per_day})


def partitioned_parquet(folder: Path, *, seed: int = 3) -> Expected:
    """Sensor readings as Parquet under ``year=YYYY/month=MM/``: two years, a few months each, two files per
    partition, typed columns (timestamp, double, int32, string). The folder itself is the one table, so the
    pipeline names it after itself: the expected table is ``sensors`` (the pipeline's name in the tests)."""
    rng = random.Random(seed)
    total = 0
    for year in (2024, 2025):
        for month in (1, 2, 3):
            part = folder / f"year={year}" / f"month={month:02d}"
            part.mkdir(parents=True, exist_ok=True)
            for n in range(2):
                count = 150 + rng.randrange(100)
                total += count
                table = pa.table(
                    {
                        "sensor_id": pa.array([rng.randrange(1, 40) for _ in range(count)], pa.int32()),
                        "read_at": pa.array(
                            [datetime(year, month, 1 + rng.randrange(27), rng.randrange(24)) for _ in range(count)],
                            pa.timestamp("us"),
                        ),
                        "temperature": pa.array([round(rng.gauss(20, 5), 2) for _ in range(count)], pa.float64()),
                        "site": pa.array([rng.choice(["north", "south", "east"]) for _ in range(count)]),
                    }
                )
                pq.write_table(table, part / f"part-{n}.parquet", compression="snappy")
    return Expected({"sensors": total}, {"sensors": ["year", "month"]})


def copy_of(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to)
    return to
