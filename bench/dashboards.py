"""Time to the first full render of the Spotify insights dashboard, with its dataset cached (SPICE) and with direct
query, next to raw DuckDB running the same visuals' SQL on the same Parquet files.

    .venv/bin/python bench/dashboards.py [--scale 10] [--repeat 5] [--markdown] [--no-browser]

One lake: the Spotify sample at ``--scale``, the tutorials' ETL job run into ``spotify.tracks``, the datasets and
the dashboard of examples/spotify (``install_reference_dashboard``). With every dataset DIRECT_QUERY, then every
dataset SPICE (one ingestion each, which also answers the dashboard's default views ahead):

- **browser**: ``lakeport serve`` and Debian's Chromium (Playwright) with a profile on disk: a new page opens
  ``/dashboards/spotify``; the time is from ``goto`` until the page reports every visual of the first sheet drawn
  (``data-status="ready"``). The browser's first visit (nothing cached: it downloads and compiles plotly.min.js,
  4.6 MB) is shown apart from the median of its later visits (after two, as a returning user's browser);
- **service**: ``lake.dashboards.dashboard_data`` for every sheet in this process (the queries alone, no HTTP);
- **raw DuckDB**: the same statements (each visual's SQL, Trino → DuckDB with sqlglot) over ``read_parquet`` views
  of the same files, one after another on one connection.

The issue's target: under 2 s to the first full render with cached datasets, at scale 10.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from bench.report import Report  # noqa: E402

DASHBOARD = "spotify"
TARGET_CACHED_S = 2.0


def prepare(root: Path, scale: float, report: Report) -> tuple[Path, str, str]:
    """The lake with the pipeline's table, the example's datasets and dashboard, and an administrator's key."""
    from lakeport import Lake
    from lakeport.datasets.spotify.generator import SpotifyGenerator
    from lakeport.datasets.spotify.publish import generate_into_lake
    from lakeport.etl import JobDefinition
    from lakeport.pipelines import install_reference_dashboard

    path = root / "lake"
    with Lake.init(path, values={"storage.fsync": False}) as lake:
        started = time.perf_counter()
        generate_into_lake(lake.storage, SpotifyGenerator(scale=scale, seed=0), "staging/spotify/")
        generated = time.perf_counter() - started
        lake.jobs.create_job(JobDefinition.from_file(REPO / "examples" / "spotify" / "job.yaml"))
        run = lake.jobs.start_job_run("spotify", wait=True)
        if run.state != "SUCCEEDED":
            raise SystemExit(f"the Spotify job ended {run.state}: {run.error}")
        sheets = install_reference_dashboard(lake)
        report.note(
            f"Spotify scale {scale:g}: generated in {generated:.0f} s; the job wrote {run.metrics['rows_written']:,} "
            f"rows; dashboard {DASHBOARD} with sheets {', '.join(sheets)}"
        )
        lake.iam.create_user("bench")
        everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        lake.iam.put_user_policy("bench", "everything", everything)
        key = lake.iam.create_access_key("bench")
        return path, key.key.id, key.secret


def reinstall(path: Path) -> None:
    """A kept lake gets the example's dashboard as it is now (the datasets follow in ``set_mode``)."""
    from lakeport import Lake

    with Lake.open(path) as lake:
        lake.dashboards.update_dashboard((REPO / "examples/spotify/dashboard.yaml").read_text(encoding="utf-8"))


def set_mode(path: Path, mode: str, report: Report) -> None:
    """Switch every dataset of the example to DIRECT_QUERY or SPICE (which ingests a snapshot, then answers the
    dashboard's default views ahead)."""
    from lakeport import Lake
    from lakeport.dashboards import load_document, parse_datasets

    with Lake.open(path) as lake:
        datasets = lake.dashboards.datasets
        for definition in parse_datasets(load_document(REPO / "examples/spotify/datasets.yaml")[0]):
            document = {**definition.to_dict(), "import_mode": mode}
            if mode != "SPICE":
                document.pop("refresh", None)  # only SPICE datasets are refreshed
            started = time.perf_counter()
            datasets.update_data_set(document)
            if mode != "SPICE":
                continue
            ingestion = datasets.list_ingestions(definition.name, limit=1)[0]
            if ingestion.status != "COMPLETED":
                raise SystemExit(f"the ingestion of {definition.name} ended {ingestion.status}: {ingestion.error}")
            report.note(
                f"SPICE ingestion of {definition.name}: {ingestion.rows:,} rows, "
                f"{(ingestion.bytes or 0) / 2**20:.1f} MiB in {ingestion.to_dict()['IngestionTimeInSeconds']:.1f} s; "
                f"with the dashboard's default views answered ahead: {time.perf_counter() - started:.1f} s"
            )


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def service_times(path: Path, repeat: int, *, new_filter: bool = False) -> tuple[float, float, list[str]]:
    """First call and median of the rest: every sheet's visuals through the service; with the SQL of each visual.
    ``new_filter``: each call with a release-year range not asked before (nothing kept can answer it)."""
    from lakeport import Lake
    from lakeport.dashboards.model import VisualError

    with Lake.open(path) as lake:
        board = lake.dashboards
        sheets = [s["name"] for s in board.describe_dashboard(DASHBOARD).definition["sheets"]]
        statements: list[str] = []
        calls = iter(range(1, 1000))

        def every_sheet() -> None:
            statements.clear()
            filters = {"years": [1950 + next(calls), 2030]} if new_filter else None
            for sheet in sheets:
                for answer in board.dashboard_data(DASHBOARD, sheet, filters=filters):
                    if isinstance(answer, VisualError):
                        raise SystemExit(f"visual {answer.visual} failed: {answer.message}")
                    statements.append(answer.sql)

        first = timed(every_sheet)
        rest = [timed(every_sheet) for _ in range(repeat)]
        return first, statistics.median(rest), list(statements)


def duckdb_times(path: Path, statements: Sequence[str], repeat: int) -> tuple[float, float]:
    """The same statements on a plain DuckDB connection over views of the same Parquet files."""
    import duckdb
    import sqlglot

    from lakeport import Lake

    with Lake.open(path) as lake:
        views = {("spotify", "tracks"): lake.warehouse.data_files("spotify", "tracks")}
        for table in lake.catalog.list_tables("lakeport_spice") if "lakeport_spice" in _databases(lake) else []:
            views[("lakeport_spice", table.name)] = [str(p) for p in _files_under(lake, table.location)]
    con = duckdb.connect()
    for (schema, name), files in views.items():
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        con.execute(f'CREATE VIEW "{schema}"."{name}" AS SELECT * FROM read_parquet({files!r})')
    translated = [sqlglot.transpile(sql, read="trino", write="duckdb")[0] for sql in statements]

    def every_statement() -> None:
        for sql in translated:
            con.execute(sql).fetchall()

    first = timed(every_statement)
    rest = [timed(every_statement) for _ in range(repeat)]
    con.close()
    return first, statistics.median(rest)


def _databases(lake: Any) -> set[str]:
    return {d.name for d in lake.catalog.list_databases()}


def _files_under(lake: Any, location: str) -> list[Path]:
    """Local paths of the Parquet files under an ``s3://bucket/prefix/`` location of the lake's own store."""
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    folder = Path(lake.backend.root) / bucket
    return [folder / o.key for o in lake.storage.iter_objects(bucket, prefix=prefix)
            if not o.key.endswith("/") and not o.key.rsplit("/", 1)[-1].startswith((".", "_"))]  # fmt: skip


def browser_times(path: Path, key: tuple[str, str], repeat: int) -> tuple[float, float]:
    """A browser's first visit (empty cache) and the median of its later visits, from goto to every visual of the
    first sheet drawn. The browser keeps a profile on disk as a person's does: later visits find plotly.min.js in
    its HTTP cache and, from the third, its compiled code in V8's code cache."""
    from playwright.sync_api import sync_playwright
    from tests.support.serve import serving

    from lakeport.dashboards.browser import chromium_path

    log = path.parent / "serve.log"
    profile = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    try:
        with serving(path, log=log) as (url, _), sync_playwright() as driver:
            context = driver.chromium.launch_persistent_context(
                str(profile), executable_path=chromium_path(), headless=True, args=["--no-sandbox"],
                viewport={"width": 1400, "height": 1000},
            )  # fmt: skip
            login = {"accessKeyId": key[0], "secretAccessKey": key[1]}
            answer = context.request.post(f"{url}/api/v1/login", data=login)
            if not answer.ok:
                raise SystemExit(f"sign-in failed: {answer.text()}")

            def load() -> None:
                page = context.new_page()
                page.set_default_timeout(120_000)
                page.goto(f"{url}/dashboards/{DASHBOARD}")
                page.wait_for_selector('[data-status="ready"], [data-status="error"]')
                if page.locator('[data-status="error"], [data-state="error"]').count():
                    raise SystemExit("the dashboard page shows an error")
                page.close()

            first = timed(load)
            timed(load)  # the second visit: V8 keeps compiled code from the third on
            rest = [timed(load) for _ in range(repeat)]
            context.close()
            return first, statistics.median(rest)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--no-browser", action="store_true", help="leave out the page loads in Chromium")
    parser.add_argument("--keep", type=Path, help="build the lake in this folder and keep it (reused when present)")
    args = parser.parse_args()
    report = Report(args.markdown)
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-dashboards-"))
    try:
        if args.keep and (root / "key").exists():
            path, (key_id, secret) = root / "lake", (root / "key").read_text().split()
            reinstall(path)  # the example's definitions as they are now
        else:
            root.mkdir(parents=True, exist_ok=True)
            path, key_id, secret = prepare(root, args.scale, report)
            (root / "key").write_text(f"{key_id} {secret}")
        rows: list[list[str]] = []
        cases = (("direct query", "DIRECT_QUERY", False), ("cached (SPICE)", "SPICE", False),
                 ("cached (SPICE), a new filter each time", "SPICE", True))  # fmt: skip
        for label, mode, new_filter in cases:
            if not new_filter:
                set_mode(path, mode, report)
            first, warm, statements = service_times(path, args.repeat, new_filter=new_filter)
            raw_first, raw_warm = duckdb_times(path, statements, args.repeat)
            cells = [label, str(len(statements))]
            if args.no_browser or new_filter:
                cells += ["—", "—"]
            else:
                page_first, page_warm = browser_times(path, (key_id, secret), args.repeat)
                cells += [f"{page_first:.2f}", f"{page_warm:.2f}"]
            cells += [f"{first:.2f}", f"{warm:.2f}", f"{raw_first:.2f}", f"{raw_warm:.2f}"]
            rows.append(cells)
        header = [
            "dataset", "visuals (all sheets)", "page: browser's first visit s", f"page: later visits, median of {args.repeat} s",
            "service, all sheets: first s", "service: median s", "raw DuckDB, same SQL: first s", "raw DuckDB: median s",
        ]  # fmt: skip
        report.table(f"Spotify insights dashboard, scale {args.scale:g} (load {_load()})", header, rows)
        report.note(f"target: first full render under {TARGET_CACHED_S:.0f} s with cached datasets")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


if __name__ == "__main__":
    main()
