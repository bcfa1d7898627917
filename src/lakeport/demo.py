"""``make demo``: the reference pipeline, as far as lakeport has grown.

Create a lake, install the reference pipeline (``lakeport.pipelines``: job, crawler, state machine, topic with a
file subscription, alarm, and the trigger rule on ``staging/spotify/``), generate the Spotify 2023 sample (scale
0.1 by default: about 44k tracks) into ``staging/spotify/``, list it and the object events the files produced.
Those events start the state machine, through the trigger rule, in one dispatcher pass (what ``lakeport
scheduler`` and ``lakeport serve`` run all the time): the tutorials' ETL job (examples/spotify/job.yaml) into
the Iceberg table ``spotify.tracks``, the crawler over staging into the ``spotify`` database, the tutorials'
Athena query, and the success notification. Then it installs the Spotify insights dashboard
(examples/spotify/dashboard.yaml), whose cached datasets are refreshed from the new table, prints its KPIs and,
with ``--serve`` (what ``make demo`` passes), serves the lake's console and API so the dashboard opens in a
browser (Ctrl-C stops). The time from the start to the served dashboard is printed: from ``make demo``'s
start when it passes ``DEMO_STARTED_AT`` (epoch seconds), else from this program's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

from rich.table import Table

from lakeport import Lake
from lakeport.cli.output import stdout as console
from lakeport.datasets.spotify.generator import SpotifyGenerator
from lakeport.datasets.spotify.publish import generate_into_lake
from lakeport.errors import LakeportError
from lakeport.pipelines import install_reference_dashboard, install_reference_pipeline
from lakeport.pipelines.reference import RULE, TOPIC
from lakeport.triggers import scheduler_for


def _started_at() -> float:
    given = os.environ.get("DEMO_STARTED_AT", "")
    try:
        return float(given)
    except ValueError:
        return time.time()


STARTED = _started_at()


def run(lake_path: Path, *, scale: float, seed: int) -> None:
    lake = Lake.init(lake_path)
    bucket = lake.settings.storage.default_bucket
    console.print(f"[bold]lake[/] {lake.root}  (objects: {lake.backend.location})")
    pipeline = install_reference_pipeline(lake)
    console.print(
        f"installed the reference pipeline: job {pipeline.job}, crawler {pipeline.crawler}, state machine "
        f"{pipeline.state_machine_arn.rsplit(':', 1)[-1]}, topic {pipeline.topic_arn.rsplit(':', 1)[-1]} "
        f"({len(pipeline.subscriptions)} subscription(s)), alarm(s) {', '.join(pipeline.alarms)}, "
        f"trigger rule {pipeline.rule}"
    )

    sample = generate_into_lake(lake.storage, SpotifyGenerator(scale=scale, seed=seed), "staging/spotify/")
    console.print(f"generated the Spotify 2023 sample (scale {scale}, seed {seed}) in {sample.seconds:.1f} s")

    listing = Table("key", "rows", "bytes", "ETag", title=f"s3://{bucket}/staging/", show_edge=False)
    rows = {f["uri"]: f["rows"] for f in sample.to_dict()["files"]}
    for info in lake.storage.iter_objects(bucket, prefix="staging/"):
        listing.add_row(info.key, f"{rows.get(info.uri, ''):,}", f"{info.size:,}", info.etag)
    console.print(listing)

    events = Table("id", "event", "object", "source", title="object events", show_edge=False)
    for event in lake.events.read(bucket=bucket, prefix="staging/"):
        events.add_row(str(event.id), event.event_name, f"s3://{event.bucket}/{event.key}", event.source)
    console.print(events)

    # the object events meet the trigger rule: one dispatcher pass starts the state machine
    report = scheduler_for(lake).run_once()
    if report.started:
        execution = lake.states.list_executions(pipeline.state_machine_arn, limit=1)[0]
        console.print(f"trigger rule {RULE}: {len(sample.files)} new objects → execution {execution.name}")
    elif report.errors or report.failed:
        raise LakeportError(
            f"the upload did not start the pipeline: {'; '.join(report.errors) or 'the start failed'}",
            hint=f"lakeport rules describe {RULE}",
        )
    else:  # the same bytes landed again (a second demo on one lake): no object event, so start it by hand
        name = f"demo-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 1_000_000:06d}"
        execution = lake.states.start_execution(pipeline.state_machine_arn, {}, name=name)
        console.print(f"staging unchanged (no new object events): started execution {name} by hand")
    name = execution.name
    with console.status("state machine spotify-pipeline: ETL job → crawler → Athena query → SNS …") as status:
        execution = lake.states.wait(
            execution.arn,
            on_update=lambda e: status.update(f"state machine spotify-pipeline: {e.current_state or e.status} …"),
        )
    if execution.status != "SUCCEEDED":
        raise LakeportError(
            f"the pipeline's execution {name} {execution.status}: {execution.error}: {execution.cause}",
            hint=f"lakeport sfn history {execution.arn}",
        )
    output = execution.output_value()
    steps = Table("state", "entered", title=f"execution {name}", show_edge=False)
    for item in lake.states.get_execution_history(execution.arn):
        if item["type"].endswith("StateEntered"):
            steps.add_row(item["stateEnteredEventDetails"]["name"], str(item["timestamp"])[11:23])
    console.print(steps)

    job_run = lake.jobs.get_job_run(pipeline.job, output["JobRun"]["JobRunId"])
    metrics = job_run.metrics
    console.print(
        f"ETL job spotify: {job_run.state} in {job_run.seconds or 0:.2f} s — {metrics['rows_read']:,} rows read, "
        f"{metrics['rows_written']:,} written to spotify.tracks (Iceberg)"
    )
    crawl = lake.crawlers.get_crawler(pipeline.crawler)
    console.print(f"crawled staging: {crawl.last_crawl.status if crawl.last_crawl else '?'}")
    tables = Table("table", "columns (types)", "rows (estimate)", title="catalog: database spotify", show_edge=False)
    for found in lake.catalog.list_tables("spotify"):
        kinds = ", ".join(f"{c.name} {c.type}" for c in found.columns[:6]) + (", …" if len(found.columns) > 6 else "")
        tables.add_row(found.name, kinds, f"{int(found.parameters.get('recordCount', '0')):,}")
    console.print(tables)

    query = lake.queries.get_query_execution(output["Query"]["QueryExecutionId"])
    page = lake.queries.get_query_results(query.id, max_results=11)
    result_rows = [[c.get("VarCharValue", "") for c in r["Data"]] for r in page["ResultSet"]["Rows"]]
    results = Table(*result_rows[0], title="Athena: most popular artists by tracks", show_edge=False)
    for row in result_rows[1:]:
        results.add_row(*row)
    console.print(results)
    console.print(
        f"query {query.id}: {query.statistics.get('TotalExecutionTimeInMillis')} ms, results in {query.output_location}"
    )
    lake.notify.drain(timeout=30)
    lines = (lake.root / pipeline.notifications_file).read_text(encoding="utf-8").splitlines()
    sent = [s for s in (json.loads(line)["Subject"] for line in lines) if s.startswith("Spotify pipeline")]
    console.print(
        f'SNS {TOPIC}: "{sent[-1]}" delivered to {pipeline.notifications_file} '
        f"in the lake ({len(sent)} pipeline notification(s) so far)"
    )
    install_reference_dashboard(lake)
    kpis = [v for v in lake.dashboards.dashboard_data("spotify", "Overview") if v.kind == "kpi"]
    values = [(v.title.lower(), v.to_dict()["Rows"][0][0]) for v in kpis]
    shown = ", ".join(
        f"{title} {value:,}" if isinstance(value, int) else f"{title} {value:,.2f}" for title, value in values
    )
    console.print(f"QuickSight: dashboard spotify (examples/spotify/dashboard.yaml): {shown}")
    console.print(f"pipeline and dashboard ready {time.time() - STARTED:.1f} s after the demo started")
    lake.close()


def serve(lake_path: Path, *, host: str, port: int) -> None:
    """Serve the demo lake: the console's dashboard page, signed in with the administrator's key, which the demo
    keeps in the lake's credentials file."""
    from lakeport.iam.credentials import credentials_path, ensure_admin_credentials, read_credentials_file
    from lakeport.server import Server

    with Lake.open(lake_path) as lake:
        ensure_admin_credentials(lake.iam, lake.root)
        key = read_credentials_file(credentials_path(lake.root))
        server = Server(lake, host=host, port=port)
        console.print(
            f"[bold]dashboard[/] {server.url}/dashboards/spotify   (console {server.url}/, API {server.url}/api/v1)"
        )
        if key is not None:
            console.print(
                f"sign in with access key {key.access_key_id} and the secret in {credentials_path(lake.root)}",
                markup=False,
            )
        console.print(f"serving, {time.time() - STARTED:.1f} s after the demo started; Ctrl-C stops")
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn stops gracefully on Ctrl-C, then raises it again
            server.run()
        console.print("stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lakeport.demo", description=__doc__)
    parser.add_argument("lake", nargs="?", default="demo-lake", help="folder for the demo lake")
    parser.add_argument("--scale", type=float, default=0.1, help="size of the Spotify sample (1 = the real size)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--serve", action="store_true", help="then serve the console and the dashboard (Ctrl-C stops)")
    parser.add_argument("--host", default="127.0.0.1", help="with --serve: the address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="with --serve: the port to listen on")
    args = parser.parse_args(argv)
    try:
        run(Path(args.lake), scale=args.scale, seed=args.seed)
        if args.serve:
            serve(Path(args.lake), host=args.host, port=args.port)
    except LakeportError as exc:
        console.print(f"[bold red]error:[/] {exc.one_line()}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
