"""``lakeport pipeline new`` and ``pipeline run`` end to end on three unrelated datasets, as a user runs them:
TPC-H (eight CSV files), a JSON-lines event log with nested fields, and a Hive-partitioned Parquet set.

The three pipelines share one lake (each has its own staging folder, databases, job, state machine, topic, rule
and dashboard, all named after it). TPC-H goes through the CLI as a user runs it: `pipeline new` (which creates
the lake) and `pipeline run`, each a real process; the other two through the functions those commands call, in
this process. Then the test checks the lake with its own eyes: exact row counts against raw DuckDB or pyarrow
reading the source files, Iceberg tables with real types, every visual of the starter dashboard answered, the
success notification, and — for new files — the trigger rule starting the pipeline again."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from lakeport import Lake
from lakeport.cli.main import main
from lakeport.dashboards.model import VisualData, VisualError
from lakeport.metadata.times import now as utcnow
from lakeport.pipelines import load_pipeline, new_pipeline, run_pipeline
from lakeport.triggers import scheduler_for
from tests.conftest import run_cli
from tests.pipelines.datasets import Expected, event_log, partitioned_parquet, tpch


def _count_csv(folder: Path) -> dict[str, int]:
    """Rows of each CSV file, read by DuckDB directly (the reference for the pipeline's counts)."""
    con = duckdb.connect()
    return {
        path.stem: int(con.execute(f"SELECT count(*) FROM read_csv('{path}', header = true)").fetchone()[0])  # type: ignore[index]
        for path in sorted(folder.glob("*.csv"))
    }


DATASETS: dict[str, Callable[[Path], Expected]] = {"tpch": tpch, "events": event_log, "sensors": partitioned_parquet}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path, Expected, dict[str, object]]]:
    """Each dataset's pipeline made and run in one lake: TPC-H with `pipeline new` and `pipeline run` (the CLI, as
    a user would), the others with ``new_pipeline`` and ``run_pipeline``."""
    out: dict[str, tuple[Path, Path, Expected, dict[str, object]]] = {}
    lake = tmp_path_factory.mktemp("pipelines") / "lake"
    for name, build in DATASETS.items():
        source = tmp_path_factory.mktemp(f"{name}-data")
        expected = build(source)
        if name == "tpch":
            new = run_cli("pipeline", "new", name, "--from", str(source), "--output", "json", lake=lake)
            assert json.loads(new.stdout)["name"] == name
            ran = json.loads(run_cli("pipeline", "run", name, "--output", "json", lake=lake).stdout)
        else:
            with Lake.open(lake) as opened:
                assert new_pipeline(opened, name, source).name == name
                ran = run_pipeline(opened, name).to_dict()
        out[name] = (source, lake, expected, ran)
    return out


def _lakeport(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """``lakeport ARGV`` in this process (``main``, what the console script calls): its exit code and output."""
    capfd.readouterr()
    code = main(list(argv))
    out, err = capfd.readouterr()
    return code, out + err


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_table_is_copied_exactly(
    name: str, made: dict[str, tuple[Path, Path, Expected, dict[str, object]]]
) -> None:
    source, lake_path, expected, ran = made[name]
    assert ran["status"] == "SUCCEEDED"
    reference = _count_csv(source) if name == "tpch" else expected.rows
    assert ran["rowCounts"] == reference
    with Lake.open(lake_path) as lake:
        pipeline = load_pipeline(lake, name)
        for table in pipeline.tables:
            database, short = table.warehouse.split(".")
            entry = lake.catalog.get_table(database, short)
            assert entry.table_type == "ICEBERG"
            run = lake.queries.start_query_execution(f"SELECT count(*) FROM {table.warehouse}", wait=True)
            assert lake.queries.get_query_rows(run.id)[1] == [[reference[short]]]
            assert table.partition_keys == expected.partition_keys.get(short, [])


def test_tpch_types_and_suggested_joins(made: dict[str, tuple[Path, Path, Expected, dict[str, object]]]) -> None:
    _, lake_path, _, _ = made["tpch"]
    with Lake.open(lake_path) as lake:
        pipeline = load_pipeline(lake, "tpch")
        orders = next(t for t in pipeline.tables if t.warehouse == "tpch.orders")
        assert orders.columns["o_orderkey"] == "bigint"
        assert orders.columns["o_totalprice"] == "double"
        assert orders.columns["o_orderdate"] == "date"
        joins = {(j["left"], j["left_column"], j["right"], j["right_column"]) for j in pipeline.joins}
        # TPC-H's foreign keys that name a whole key (partsupp's key is two columns, so lineitem meets it on both)
        for pair in [
            ("customer", "c_custkey", "orders", "o_custkey"),
            ("customer", "c_nationkey", "nation", "n_nationkey"),
            ("lineitem", "l_orderkey", "orders", "o_orderkey"),
            ("lineitem", "l_partkey", "part", "p_partkey"),
            ("lineitem", "l_suppkey", "supplier", "s_suppkey"),
            ("nation", "n_regionkey", "region", "r_regionkey"),
            ("nation", "n_nationkey", "supplier", "s_nationkey"),
            ("part", "p_partkey", "partsupp", "ps_partkey"),
            ("partsupp", "ps_suppkey", "supplier", "s_suppkey"),
        ]:
            assert pair in joins
        assert ("customer", "c_nationkey", "supplier", "s_nationkey") not in joins  # two foreign keys
        job = (lake_path / pipeline.folder / "job.yaml").read_text(encoding="utf-8")
        assert "#    on: [[c_custkey, o_custkey]]" in job


def test_events_keep_nested_fields_and_get_real_times(
    made: dict[str, tuple[Path, Path, Expected, dict[str, object]]],
) -> None:
    _, lake_path, _, _ = made["events"]
    with Lake.open(lake_path) as lake:
        run = lake.queries.start_query_execution(
            "SELECT typeof(occurred_at), user.country, cardinality(tags) FROM events.events "
            "WHERE event_id = 'e-01-00003'",
            wait=True,
        )
        assert run.state == "SUCCEEDED", run.state_change_reason
        ((kind, country, tags),) = lake.queries.get_query_rows(run.id)[1]
        assert kind.startswith("timestamp")
        assert country in {"FR", "DE", "JP", "BR"}
        assert isinstance(tags, int)


def test_the_starter_dashboard_answers_every_visual(
    made: dict[str, tuple[Path, Path, Expected, dict[str, object]]],
) -> None:
    for name, (source, lake_path, expected, ran) in made.items():
        reference = _count_csv(source) if name == "tpch" else expected.rows
        with Lake.open(lake_path) as lake:
            answers = lake.dashboards.dashboard_data(str(ran["dashboard"]), "Overview")
            assert len(answers) == 2 * len(reference)  # a KPI and a chart per table
            assert [a.message for a in answers if isinstance(a, VisualError)] == []
            answered = [a for a in answers if isinstance(a, VisualData)]
            kpis = {a.title.split(":")[0]: a.rows[0][0] for a in answered if a.kind == "kpi"}
            assert kpis == reference
            charts = [a for a in answered if a.kind != "kpi"]
            assert all(a.rows for a in charts)
            notifications = (lake_path / str(ran["notificationsFile"])).read_text(encoding="utf-8").splitlines()
            assert json.loads(json.loads(notifications[-1])["Message"])["status"] == "SUCCEEDED"


def test_new_files_start_the_pipeline_and_bad_ones_keep_the_last_good_table(
    made: dict[str, tuple[Path, Path, Expected, dict[str, object]]], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The trigger rule on staging/events/: a new day of events starts the state machine (after the batch
    window), and the table grows by exactly that day; then a broken file fails the run, names the file, and
    leaves the table as it was."""
    _, lake_path, expected, _ = made["events"]
    extra = event_log(tmp_path / "more", days=1, per_day=50, seed=99)
    day = next((tmp_path / "more").glob("*.jsonl"))
    with Lake.open(lake_path) as lake:
        pipeline = load_pipeline(lake, "events")
        bucket = lake.settings.storage.default_bucket
        lake.storage.upload_file(day, bucket, "staging/events/events-late.jsonl")
        scheduler = scheduler_for(lake)
        later = scheduler.run_once()
        assert later.started == 0  # the batch window (30 s) has not passed yet
        report = scheduler.run_once(utcnow() + timedelta(seconds=31))
        assert report.started == 1, report
        (execution,) = [
            e for e in lake.states.list_executions(pipeline.state_machine_arn) if not e.name.startswith("run-")
        ]
        finished = lake.states.wait(execution.arn, timeout=120)
        assert finished.status == "SUCCEEDED", finished.cause
        run = lake.queries.start_query_execution("SELECT count(*) FROM events.events", wait=True)
        total = expected.rows["events"] + extra.rows["events"]
        assert lake.queries.get_query_rows(run.id)[1] == [[total]]

        broken = tmp_path / "broken.jsonl"
        broken.write_text('{"event_id": "x", "occurred_at": "2026-03-09 10:00:00"}\n{"event_id": \n', encoding="utf-8")
        lake.storage.upload_file(broken, bucket, "staging/events/events-broken.jsonl")
    code, message = _lakeport(capfd, "--lake", str(lake_path), "pipeline", "run", "events")
    assert code != 0
    assert "Traceback" not in message
    assert "events-broken.jsonl" in message, message
    with Lake.open(lake_path) as lake:
        run = lake.queries.start_query_execution("SELECT count(*) FROM events.events", wait=True)
        assert lake.queries.get_query_rows(run.id)[1] == [[total]]
        last = (lake_path / pipeline.notifications_file).read_text(encoding="utf-8").splitlines()[-1]
        assert json.loads(json.loads(last)["Message"])["status"] == "FAILED"


def test_a_second_new_is_refused_and_bad_names_and_folders_are_named(
    made: dict[str, tuple[Path, Path, Expected, dict[str, object]]], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    source, lake_path, _, _ = made["sensors"]  # pipeline sensors exists in this lake
    lake = ["--lake", str(lake_path)]
    code, text = _lakeport(capfd, *lake, "pipeline", "new", "sensors", "--from", str(source))
    assert code != 0
    assert "already exists" in text
    code, text = _lakeport(capfd, *lake, "pipeline", "new", "9 lives", "--from", str(source))
    assert code != 0
    assert "pipeline name '9 lives' is not valid" in text
    empty = tmp_path / "empty"
    empty.mkdir()
    code, text = _lakeport(capfd, *lake, "pipeline", "new", "nothing", "--from", str(empty))
    assert code != 0
    assert str(empty) in text
    assert "nothing to load" in text
    code, text = _lakeport(capfd, *lake, "pipeline", "run", "nope")
    assert code != 0
    assert "pipeline nope does not exist" in text


def test_a_pipeline_on_a_lake_in_an_s3_compatible_store(s3_lake: Lake, tmp_path: Path) -> None:
    """The same two steps on a lake whose objects live in an S3-compatible store (a real endpoint on loopback):
    the Hive-partitioned Parquet set lands, is crawled, copied into an Iceberg table, counted and charted."""
    expected = partitioned_parquet(tmp_path / "data")
    made = new_pipeline(s3_lake, "sensors", tmp_path / "data")
    assert made.staging_uri.startswith(f"s3://{s3_lake.settings.storage.default_bucket}/")
    ran = run_pipeline(s3_lake, "sensors")
    assert ran.row_counts == expected.rows
    assert ran.kpis == [("sensors: rows", expected.rows["sensors"])]
    answers = s3_lake.dashboards.dashboard_data(ran.dashboard, "Overview")
    assert [a.message for a in answers if isinstance(a, VisualError)] == []
