"""The Spotify sample generator, side by side with raw DuckDB writing the same volume of random CSV.

    .venv/bin/python bench/spotify_generator_bench.py [--scales 0.1 1 10]

"raw DuckDB" writes, for each of the five files, as many rows and columns of random() values as the
generator wrote: the floor for producing that much CSV on this machine, without any of the dataset's
structure (ids, names, relationships, distributions, deduplicated merged table).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

import duckdb  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from lakeport.datasets.spotify import schema  # noqa: E402
from lakeport.datasets.spotify.generator import SpotifyGenerator  # noqa: E402


def raw_duckdb(out: Path, rows: dict[str, int]) -> float:
    con = duckdb.connect()
    con.execute("SET threads = 2")
    start = time.perf_counter()
    for f in schema.KAGGLE_FILES:
        cols = ", ".join(f"random() AS c{i}" for i in range(len(f.columns)))
        con.execute(f"COPY (SELECT {cols} FROM range({rows[f.name]})) TO '{out / f.name}' (HEADER true)")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0, 10.0])
    args = parser.parse_args()
    table = Table("scale", "tracks", "total MB", "lakeport (s)", "raw DuckDB (s)", "ratio", title="Spotify generator")
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix="lakeport-genbench-") as tmp:
            out = Path(tmp)
            result = SpotifyGenerator(scale=scale, seed=0).generate(out / "lakeport")
            rows = {f.name: f.rows for f in result.files}
            megabytes = sum(f.size for f in result.files) / 1e6
            (out / "raw").mkdir()
            raw = raw_duckdb(out / "raw", rows)
        table.add_row(
            f"{scale:g}",
            f"{rows[schema.ALBUMS.name]:,}",
            f"{megabytes:,.0f}",
            f"{result.seconds:.1f}",
            f"{raw:.1f}",
            f"{result.seconds / raw:.2f}x",
        )
    Console(width=120).print(table)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB (DuckDB memory_limit 1 GB)")


if __name__ == "__main__":
    main()
