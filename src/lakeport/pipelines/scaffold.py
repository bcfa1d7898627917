"""``lakeport pipeline new NAME --from PATH``: a whole pipeline for any folder of CSV, JSON or Parquet files.

The folder is checked and landed in staging (``staging/NAME/``, all or nothing), crawled into the catalog
database ``<name>_staging``, and from what the crawler found lakeport writes and installs, each also kept as
a file in the lake's ``pipelines/NAME/`` folder for the user to read and edit:

* ``job.yaml`` — the ETL job: a typed copy of every crawled table into an Iceberg table ``<name>.<table>``
  (column names made SQL-safe, the crawler's types, partitions kept), and the joins lakeport can infer from
  key-like column names, as commented-out join nodes to take up;
* ``pipeline.asl.json`` — the state machine ``NAME-pipeline``: crawl staging → wait for the crawler → run the
  job → count each table's rows (Athena) → publish to the ``NAME-pipeline-events`` topic; failures are caught
  and published too;
* the topic with a file subscription in the lake, and the trigger rule ``NAME-new-files``: new objects under
  ``staging/NAME/`` start the state machine (batched);
* ``datasets.yaml`` and ``dashboard.yaml`` — a starter dashboard: per table, a KPI (its rows) and one chart
  chosen from its columns (``inference.starter_chart``), installed by the first successful ``pipeline run``;
* ``pipeline.json`` — what was made (names, ARNs, tables, the join suggestions), read by ``pipeline run``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from lakeport.catalog.model import Table
from lakeport.crawler.definition import CrawlerDefinition
from lakeport.datasets.loader import load_folder
from lakeport.errors import AlreadyExists, InvalidInput, LakeportError, NotFound
from lakeport.etl import JobDefinition
from lakeport.pipelines.inference import (
    ColumnStats,
    JoinSuggestion,
    base_type,
    sql_name,
    starter_chart,
    suggest_joins,
    unique_names,
)
from lakeport.pipelines.install import put_crawler, put_job, put_state_machine
from lakeport.pipelines.machine import pipeline_machine
from lakeport.sqltext import ident

if TYPE_CHECKING:
    from lakeport.lake import Lake

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
FOLDER = "pipelines"
_UNNAMED_PARTITION = re.compile(r"^partition_\d+$")
UNIQUE_SHARE = 0.9  # approx_distinct (HyperLogLog) can be a few per cent off: a key column counts as unique above this
MANIFEST = "pipeline.json"
Step = Callable[[str], None]
"""Told each step as it starts (``"crawling staging"``), for a progress line."""


@dataclass(frozen=True)
class PipelineTable:
    """One input table: as crawled in staging, and the warehouse table the job copies it to."""

    staging: str  # database.table in the catalog (crawled)
    warehouse: str  # database.table (Iceberg)
    columns: dict[str, str]  # warehouse column → Hive type
    raw_columns: list[str]  # the staging table's names of the same columns, in the same order
    partition_keys: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # the staged objects' relative names


@dataclass(frozen=True)
class Pipeline:
    """What ``new_pipeline`` made, as ``pipeline.json`` keeps it."""

    name: str
    source: str
    staging_uri: str
    staging_database: str
    database: str
    job: str
    crawler: str
    state_machine: str
    state_machine_arn: str
    topic_arn: str
    rule: str
    dashboard: str
    notifications_file: str
    tables: list[PipelineTable]
    joins: list[dict[str, str]]
    folder: str  # inside the lake

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pipeline:
        values = dict(data)
        values["tables"] = [PipelineTable(**t) for t in data["tables"]]
        return cls(**values)


def check_pipeline_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInput(
            f"pipeline name {name!r} is not valid",
            hint="1-40 characters: a letter first, then letters, digits, '-' and '_'",
        )
    return name


def dashboard_name(name: str) -> str:
    """The starter dashboard's name: the pipeline's, as the dashboards' names are written (``my-sales``)."""
    return sql_name(name, fallback="p").replace("_", "-")


def pipeline_folder(lake: Lake, name: str) -> Path:
    return lake.root / FOLDER / name


def load_pipeline(lake: Lake, name: str) -> Pipeline:
    """The pipeline ``name`` of this lake, as ``pipeline new`` left it."""
    manifest = pipeline_folder(lake, check_pipeline_name(name)) / MANIFEST
    if not manifest.exists():
        raise NotFound(f"pipeline {name} does not exist in this lake", hint="lakeport pipeline new NAME --from PATH")
    return Pipeline.from_dict(json.loads(manifest.read_text(encoding="utf-8")))


def list_pipelines(lake: Lake) -> list[Pipeline]:
    root = lake.root / FOLDER
    found = sorted(root.glob(f"*/{MANIFEST}")) if root.exists() else []
    return [Pipeline.from_dict(json.loads(p.read_text(encoding="utf-8"))) for p in found]


def new_pipeline(
    lake: Lake,
    name: str,
    source: Path,
    *,
    replace: bool = False,
    step: Step | None = None,
    batch_window: int = 30,
) -> Pipeline:
    """Land ``source`` in staging, crawl it, and create the job, state machine, topic, trigger rule and starter
    dashboard files of pipeline ``name`` (see the module's docstring). Refused when ``name`` exists, unless
    ``replace``; nothing is installed when the folder fails its checks or the crawler finds no table."""
    check_pipeline_name(name)
    tell = step or (lambda _: None)
    folder = pipeline_folder(lake, name)
    if (folder / MANIFEST).exists() and not replace:
        raise AlreadyExists(
            f"pipeline {name} already exists in this lake ({folder})",
            hint=f"lakeport pipeline run {name}; or --replace to make it again",
        )
    source = Path(source).expanduser()
    if not source.exists():
        raise NotFound(f"{source} does not exist", hint="give a folder (or one file) of CSV, JSON or Parquet files")
    bucket = lake.settings.storage.default_bucket
    staging = f"staging/{name}/"
    database = sql_name(name, fallback="p")
    staging_database = f"{database}_staging"

    tell(f"checking {source} and landing it in s3://{bucket}/{staging}")
    landed = load_folder(lake.storage, source, staging)

    tell(f"crawling s3://{bucket}/{staging} into database {staging_database}")
    crawler = f"{name}-staging"
    definition = CrawlerDefinition(name=crawler, targets=(f"s3://{bucket}/{staging}",), database=staging_database)
    put_crawler(lake, definition)
    run = lake.crawlers.start_crawler(crawler, wait=True)
    if run.status != "SUCCEEDED":
        raise LakeportError(
            f"crawler {crawler} {run.status} over s3://{bucket}/{staging}: {run.error or 'no message'}",
            hint=f"lakeport crawler runs {crawler}",
        )
    crawled = [t for t in lake.catalog.list_tables(staging_database) if t.location.startswith(f"s3://{bucket}/")]
    if not crawled:
        raise InvalidInput(
            f"the crawler found no table in {source} (landed at s3://{bucket}/{staging})",
            hint=f"lakeport crawler runs {crawler} shows its warnings",
        )

    tell(f"planning {len(crawled)} table(s)")
    tables = _plan_tables(crawled, database, f"s3://{bucket}/{staging}", [f.uri for f in landed.files])
    tell("reading each table's columns (distinct values)")
    measured = [_column_stats(lake, t) for t in tables]
    tables = [typed for typed, _, _ in measured]
    stats = {typed.warehouse: (columns, rows) for typed, columns, rows in measured}
    joins = suggest_joins(
        {_short(t): t.columns for t in tables},
        {
            _short(t): {c.name for c in stats[t.warehouse][0] if rows and c.distinct >= UNIQUE_SHARE * rows}
            for t in tables
            for rows in [stats[t.warehouse][1]]
        },
    )

    out = folder
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    job_text = _job_yaml(name, tables, joins)
    (out / "job.yaml").write_text(job_text, encoding="utf-8")
    tell(f"creating job {name}")
    job = JobDefinition.from_file(out / "job.yaml")
    put_job(lake, job)

    tell(f"creating topic {name}-pipeline-events and state machine {name}-pipeline")
    topic = lake.notify.create_topic(f"{name}-pipeline-events", {"DisplayName": f"{name} pipeline"})
    notifications = f"notifications/{name}-pipeline-events.jsonl"
    if not any(s.endpoint == notifications for s in lake.notify.list_subscriptions_by_topic(topic.arn)):
        lake.notify.subscribe(topic.arn, "file", notifications)
    machine_name = f"{name}-pipeline"
    asl = pipeline_machine(
        name=name,
        crawler=crawler,
        job=job.name,
        topic_arn=topic.arn,
        count_query=_count_query(tables),
        database=database,
    )
    (out / "pipeline.asl.json").write_text(json.dumps(asl, indent=2) + "\n", encoding="utf-8")
    machine = put_state_machine(lake, machine_name, json.dumps(asl))

    rule = f"{name}-new-files"
    tell(f"creating trigger rule {rule}")
    lake.triggers.put_rule(
        rule,
        object_pattern=f"bucket={bucket},prefix={staging}",
        target_machine=machine.arn,
        batch_window=batch_window,
        batch_size=1000,
        description=f"new files under s3://{bucket}/{staging} start {machine_name} (gathered for {batch_window} s)",
    )

    tell("choosing a starter chart for each table")
    datasets, dashboard = _starter_dashboard(name, tables, stats)
    (out / "datasets.yaml").write_text(datasets, encoding="utf-8")
    (out / "dashboard.yaml").write_text(dashboard, encoding="utf-8")

    made = Pipeline(
        name=name,
        source=str(source.resolve()),
        staging_uri=f"s3://{bucket}/{staging}",
        staging_database=staging_database,
        database=database,
        job=job.name,
        crawler=crawler,
        state_machine=machine_name,
        state_machine_arn=machine.arn,
        topic_arn=topic.arn,
        rule=rule,
        dashboard=dashboard_name(name),
        notifications_file=notifications,
        tables=tables,
        joins=[j.to_dict() for j in joins],
        folder=str(out.relative_to(lake.root)),
    )
    (out / MANIFEST).write_text(json.dumps(made.to_dict(), indent=2) + "\n", encoding="utf-8")
    return made


# ---- planning


def _warehouse_name(table: Table, include: str) -> str:
    """A table of one file is named for the file (``orders.csv`` → ``orders``); a folder's table for the folder;
    the include path's own table for the table's crawled name."""
    location = table.location.rstrip("/")
    if location + "/" == include or not location:
        return table.name
    last = location.rsplit("/", 1)[-1]
    for ext in (".gz", ".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".parquet"):
        if last.lower().endswith(ext):
            last = last[: -len(ext)]
    return last or table.name


def _plan_tables(crawled: Sequence[Table], database: str, include: str, landed: Sequence[str]) -> list[PipelineTable]:
    names = unique_names([_warehouse_name(t, include) for t in crawled], fallback="t")
    out: list[PipelineTable] = []
    for table, short in zip(crawled, names, strict=True):
        # Hive-style partition folders (year=2024/) are columns of the rows read; a crawler's partition_N of plain
        # folders (readings/) names no column of the data, so the copy leaves it out
        keys = [c for c in table.partition_keys if not _UNNAMED_PARTITION.match(c.name)]
        raw = [c.name for c in (*table.columns, *keys)]
        clean = unique_names(raw)
        types = [c.type for c in (*table.columns, *keys)]
        location = table.location.rstrip("/")
        sources = [u[len(include) :] for u in landed if u == location or u.startswith(location + "/")]
        out.append(
            PipelineTable(
                staging=f"{table.database}.{table.name}",
                warehouse=f"{database}.{short}",
                columns=dict(zip(clean, types, strict=True)),
                raw_columns=raw,
                partition_keys=clean[len(table.columns) :],
                sources=sources,
            )
        )
    return out


def _job_yaml(name: str, tables: Sequence[PipelineTable], joins: Sequence[JoinSuggestion]) -> str:
    nodes: list[dict[str, Any]] = []
    for table in tables:
        short = table.warehouse.split(".", 1)[1]
        nodes.append({"id": f"read_{short}", "type": "source", "table": table.staging})
        nodes.append(
            {
                "id": f"typed_{short}",
                "type": "apply_mapping",
                "input": f"read_{short}",
                "mappings": [
                    {"from": raw, "to": clean, "type": kind}
                    for raw, (clean, kind) in zip(table.raw_columns, table.columns.items(), strict=True)
                ],
            }
        )
        sink: dict[str, Any] = {
            "id": f"write_{short}",
            "type": "sink",
            "input": f"typed_{short}",
            "table": table.warehouse,
            "mode": "overwrite",
            "compression": "snappy",
        }
        if table.partition_keys:
            sink["partition_by"] = list(table.partition_keys)
        nodes.append(sink)
    document = {
        "name": name,
        "description": f"typed copy of the {len(tables)} table(s) crawled from staging into Iceberg tables",
        "bad_records": "fail",
        "nodes": nodes,
    }
    header = (
        f"# The {name} pipeline's ETL job, written by `lakeport pipeline new`: each table crawled in staging is\n"
        "# copied into an Iceberg table (Parquet + Snappy) with SQL-safe column names and the crawler's types.\n"
        f"#   lakeport jobs update {name} --from THIS_FILE     after editing\n"
    )
    text = header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
    if joins:
        lines = ["", "# Joins inferred from key-like column names (a suggestion: add the nodes you want under nodes:)"]
        for i, join in enumerate(joins, start=1):
            lines += [
                f"#  - id: join_{i}    # {join}",
                "#    type: join",
                f"#    inputs: [typed_{join.left}, typed_{join.right}]",
                "#    how: inner",
                f"#    on: [[{join.left_column}, {join.right_column}]]",
            ]
        text += "\n".join(lines) + "\n"
    return text


def _count_query(tables: Sequence[PipelineTable]) -> str:
    parts = [
        f"SELECT '{t.warehouse.split('.', 1)[1]}' AS table_name, count(*) AS row_count FROM {t.warehouse}"
        for t in tables
    ]
    return " UNION ALL ".join(parts) + " ORDER BY table_name"


# ---- the starter dashboard


def _short(table: PipelineTable) -> str:
    return table.warehouse.split(".", 1)[1]


def _starter_dashboard(
    name: str, tables: Sequence[PipelineTable], stats: Mapping[str, tuple[list[ColumnStats], int]]
) -> tuple[str, str]:
    datasets: list[dict[str, Any]] = []
    visuals: list[dict[str, Any]] = []
    for table in tables:
        short = table.warehouse.split(".", 1)[1]
        dataset = f"{name}-{short}".replace("_", "-")
        datasets.append({"name": dataset, "source": table.warehouse, "import_mode": "DIRECT_QUERY"})
        columns, rows = stats[table.warehouse]
        visuals.append(
            {
                "id": f"{short}-kpi".replace("_", "-"),
                "kind": "kpi",
                "title": f"{short.replace('_', ' ')}: rows",
                "dataset": dataset,
                "measures": [{"aggregation": "count", "name": "rows", "format": ",.0f"}],
            }
        )
        chart = starter_chart(short, dataset, columns, rows)
        chart["id"] = chart["id"].replace("_", "-")
        visuals.append(chart)
    board = {
        "name": dashboard_name(name),
        "title": f"{name}: starter dashboard",
        "sheets": [{"name": "Overview", "visuals": visuals}],
    }
    header = (
        f"# {name}: a starter dashboard written by `lakeport pipeline new` (a KPI and one chart per table),\n"
        "# installed by the first successful `lakeport pipeline run`. Edit, then:\n"
        "#   lakeport dashboards update --from THIS_FILE\n"
    )
    return (
        "# The starter dashboard's datasets: one per warehouse table, asked directly (no snapshot).\n"
        + yaml.safe_dump({"datasets": datasets}, sort_keys=False, allow_unicode=True, width=110),
        header + yaml.safe_dump(board, sort_keys=False, allow_unicode=True, width=110),
    )


def _column_stats(lake: Lake, table: PipelineTable) -> tuple[PipelineTable, list[ColumnStats], int]:
    """Each column's distinct values (approximately) and the table's rows, asked of the staging table; text
    columns whose every value reads as a date or a timestamp get that type in the copy (JSON and CSV crawls
    leave them text)."""
    picks: list[str] = []
    texts = [i for i, kind in enumerate(table.columns.values()) if base_type(kind) == "string"]
    for raw in table.raw_columns:
        picks.append(f"approx_distinct({ident(raw)})")
    for i in texts:
        column = ident(table.raw_columns[i])
        picks += [f"count({column})", f"count(try_cast({column} AS timestamp))", f"max(length({column}))"]
    times = [i for i, kind in enumerate(table.columns.values()) if base_type(kind) in ("string", "date", "timestamp")]
    for i in times:
        moment = f"try_cast({ident(table.raw_columns[i])} AS timestamp)"
        picks.append(f"date_diff('day', min({moment}), max({moment}))")
    execution = lake.queries.start_query_execution(
        f"SELECT count(*), {', '.join(picks)} FROM {table.staging}",
        database=table.staging.split(".", 1)[0],
        wait=True,
    )
    if execution.state != "SUCCEEDED":
        return table, [ColumnStats(c, t, 0) for c, t in table.columns.items()], 0
    _, rows = lake.queries.get_query_rows(execution.id, max_rows=1)
    values = [int(v or 0) for v in rows[0]]
    width = len(table.raw_columns)
    count, distinct = values[0], values[1 : 1 + width]
    extra, spans = values[1 + width : 1 + width + 3 * len(texts)], values[1 + width + 3 * len(texts) :]
    types = list(table.columns.values())
    for n, i in enumerate(texts):
        present, temporal, longest = extra[3 * n : 3 * n + 3]
        if present and temporal == present:
            types[i] = "date" if longest <= 10 else "timestamp"
    span = dict(zip(times, spans, strict=True))
    typed = replace(table, columns=dict(zip(table.columns, types, strict=True)))
    stats = [
        ColumnStats(c, t, d, span.get(i, 0))
        for i, ((c, t), d) in enumerate(zip(typed.columns.items(), distinct, strict=True))
    ]
    return typed, stats, count


__all__ = ["Pipeline", "PipelineTable", "list_pipelines", "load_pipeline", "new_pipeline"]
