"""``make demo``: the reference pipeline, as far as lakeport has grown.

Today: create a lake, generate the Spotify 2023 sample (scale 0.1 by default: about 44k tracks) into
``staging/spotify/``, list it, show the object events the files produced, crawl staging into the ``spotify``
database of the catalog, run the tutorials' ETL job (examples/spotify/job.yaml) into the Iceberg table
``spotify.tracks``, and run the tutorials' Athena query over it. Later issues add the state machine and the
dashboard to this same script.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.table import Table

from lakeport import Lake
from lakeport.cli.output import stdout as console
from lakeport.datasets.spotify.generator import SpotifyGenerator
from lakeport.datasets.spotify.publish import generate_into_lake
from lakeport.errors import LakeportError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TUTORIAL_QUERY = (
    "SELECT artist_name, COUNT(track_id) AS total_tracks FROM spotify.tracks "
    "GROUP BY artist_name ORDER BY total_tracks DESC LIMIT 10"
)


def run(lake_path: Path, *, scale: float, seed: int) -> None:
    started = time.perf_counter()
    lake = Lake.init(lake_path)
    bucket = lake.settings.storage.default_bucket
    console.print(f"[bold]lake[/] {lake.root}  (objects: {lake.backend.location})")

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

    _, crawl = lake.crawlers.crawl(f"s3://{bucket}/staging/spotify/", database="spotify")
    console.print(f"crawled staging: {crawl.status} in {crawl.seconds or 0:.2f} s")
    tables = Table("table", "columns (types)", "rows (estimate)", title="catalog: database spotify", show_edge=False)
    for found in lake.catalog.list_tables("spotify"):
        kinds = ", ".join(f"{c.name} {c.type}" for c in found.columns[:6]) + (", …" if len(found.columns) > 6 else "")
        tables.add_row(found.name, kinds, f"{int(found.parameters.get('recordCount', '0')):,}")
    console.print(tables)

    from lakeport.etl import JobDefinition

    definition = JobDefinition.from_file(EXAMPLES / "spotify" / "job.yaml")
    try:
        lake.jobs.create_job(definition)
    except LakeportError:
        lake.jobs.update_job(definition)
    job_run = lake.jobs.start_job_run(definition.name, wait=True)
    if job_run.state != "SUCCEEDED":
        raise LakeportError(f"the Spotify job {job_run.state}: {job_run.error}")
    metrics = job_run.metrics
    console.print(
        f"ETL job spotify: {job_run.state} in {job_run.seconds or 0:.2f} s — {metrics['rows_read']:,} rows read, "
        f"{metrics['rows_written']:,} written to spotify.tracks (Iceberg)"
    )

    execution = lake.query(TUTORIAL_QUERY)
    if execution.state != "SUCCEEDED":
        raise LakeportError(f"the tutorial query {execution.state}: {execution.state_change_reason}")
    page = lake.queries.get_query_results(execution.id, max_results=11)
    result_rows = [[c.get("VarCharValue", "") for c in r["Data"]] for r in page["ResultSet"]["Rows"]]
    results = Table(*result_rows[0], title="Athena: most popular artists by tracks", show_edge=False)
    for row in result_rows[1:]:
        results.add_row(*row)
    console.print(results)
    console.print(
        f"query {execution.id}: {execution.statistics.get('TotalExecutionTimeInMillis')} ms, "
        f"results in {execution.output_location}"
    )
    console.print(f"demo finished in {time.perf_counter() - started:.2f} s")
    lake.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lakeport.demo", description=__doc__)
    parser.add_argument("lake", nargs="?", default="demo-lake", help="folder for the demo lake")
    parser.add_argument("--scale", type=float, default=0.1, help="size of the Spotify sample (1 = the real size)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        run(Path(args.lake), scale=args.scale, seed=args.seed)
    except LakeportError as exc:
        console.print(f"[bold red]error:[/] {exc.one_line()}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
