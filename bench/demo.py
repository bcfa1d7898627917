"""``make demo`` timed: from its start (dependencies installed) to the served dashboard answering over HTTP, next
to raw DuckDB doing the pipeline's core work on the same files.

    .venv/bin/python bench/demo.py [--scale 0.1] [--repeat 3] [--markdown]

Each repeat runs what ``make demo`` runs (``python -m lakeport.demo LAKE --scale S --serve``) in a fresh lake
folder, as a new process, and measures from just before the process starts until ``GET /dashboards/spotify``
on the served console answers (the login redirect counts: the page is served). The demo prints the phases:
sample generation, the state machine (ETL job, crawler, Athena query, SNS), dashboard install (SPICE ingestion
and kept answers) — the table shows them from its output.

Raw DuckDB, in this process, on the same staged CSV files: the tutorials' join (albums ⋈ artists ⋈ tracks ⋈
features) written to one Parquet file with Snappy, then the tutorials' query over it. It has no catalog, no
crawler, no runs, no notifications, no dashboard, no server: it is the floor for the data work alone.

The issue's target: under 60 s from the start of ``make demo`` to a served dashboard (scale 0.1).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.report import Report  # noqa: E402

TARGET_S = 60.0
PHASES = {
    "generate": re.compile(r"generated the Spotify 2023 sample .* in ([0-9.]+) s"),
    "ETL job": re.compile(r"ETL job spotify: SUCCEEDED in ([0-9.]+) s"),
    "Athena query": re.compile(r"query [0-9a-f-]+: ([0-9]+) ms"),
    "ready": re.compile(r"pipeline and dashboard ready ([0-9.]+) s after"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_once(root: Path, scale: float) -> tuple[float, dict[str, float], Path]:
    """One ``make demo``: seconds to the served dashboard, the phases it printed, and its lake."""
    lake = root / "demo-lake"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEPORT_")}
    started = time.time()
    env["DEMO_STARTED_AT"] = f"{started:.6f}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lakeport.demo", str(lake), "--scale", str(scale), "--serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    output: list[str] = []
    try:
        while True:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("the demo stopped before serving:\n" + "".join(output))
            output.append(line)
            if "Ctrl-C stops" in line:
                break
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/dashboards/spotify", follow_redirects=False, timeout=5)
                if page.status_code in (200, 303):
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        seconds = time.time() - started
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    text = "".join(output)
    phases: dict[str, float] = {}
    for name, pattern in PHASES.items():
        found = pattern.search(text)
        if found:
            value = float(found.group(1))
            phases[name] = value / 1000 if name == "Athena query" else value
    return seconds, phases, lake


def raw_duckdb(staging: Path, out: Path) -> float:
    """The tutorials' join and query with DuckDB alone, on the staged files."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    csv = "read_csv('{}', header = true, auto_detect = true)"
    con.execute(
        f"""
        COPY (
            SELECT al.*, ar.name AS artist_name, ar.followers, ar.artist_popularity, ar.genre_0,
                   tr.track_popularity, tr.explicit, fe.danceability, fe.energy, fe.tempo, fe.valence
            FROM {csv.format(staging / "spotify-albums_data_2023.csv")} al
            JOIN {csv.format(staging / "spotify_artist_data_2023.csv")} ar ON al.artist_id = ar.id
            JOIN {csv.format(staging / "spotify_tracks_data_2023.csv")} tr ON al.track_id = tr.id
            LEFT JOIN {csv.format(staging / "spotify_features_data_2023.csv")} fe ON al.track_id = fe.id
        ) TO '{out}' (FORMAT parquet, COMPRESSION snappy)
        """
    )
    con.execute(
        f"SELECT artist_name, count(track_id) AS total_tracks FROM read_parquet('{out}') "
        "GROUP BY artist_name ORDER BY total_tracks DESC LIMIT 10"
    ).fetchall()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    report = Report(args.markdown)
    totals: list[float] = []
    raws: list[float] = []
    rows: list[list[str]] = []
    for n in range(1, args.repeat + 1):
        root = Path(tempfile.mkdtemp(prefix="lakeport-bench-demo-"))
        try:
            seconds, phases, lake = demo_once(root, args.scale)
            staging = lake / "objects" / "lakeport" / "staging" / "spotify"
            raw = raw_duckdb(staging, root / "raw.parquet")
        finally:
            shutil.rmtree(root, ignore_errors=True)
        totals.append(seconds)
        raws.append(raw)
        rows.append(
            [
                str(n),
                f"{seconds:.1f}",
                *(f"{phases[p]:.1f}" if p in phases else "-" for p in ("generate", "ETL job", "Athena query")),
                f"{raw:.2f}",
            ]
        )
    rows.append(
        ["median", f"{statistics.median(totals):.1f}", "", "", "", f"{statistics.median(raws):.2f}"],
    )
    report.table(
        f"make demo, scale {args.scale}: seconds from its start to the served dashboard (target < {TARGET_S:.0f} s)",
        [
            "run",
            "make demo → dashboard served",
            "of which: generate",
            "ETL job",
            "Athena query",
            "raw DuckDB join+query",
        ],
        rows,
    )
    report.note(
        f"median {statistics.median(totals):.1f} s: "
        + ("meets" if statistics.median(totals) < TARGET_S else "misses")
        + f" the {TARGET_S:.0f} s target; machine: {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
