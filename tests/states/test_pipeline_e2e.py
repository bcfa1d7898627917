"""examples/spotify/pipeline.asl.json end to end through ``lake.states`` on a tiny Spotify sample."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.crawler.definition import CrawlerDefinition
from lakeport.datasets.spotify.generator import SpotifyGenerator
from lakeport.datasets.spotify.publish import generate_into_lake
from lakeport.etl import JobDefinition

REPO = Path(__file__).resolve().parents[2]
PIPELINE = REPO / "examples" / "spotify" / "pipeline.asl.json"
JOB_FILE = REPO / "examples" / "spotify" / "job.yaml"


class ScaledClock:
    """Real time, but every Wait lasts a hundredth of what it says (Wait 30 s → 0.3 s)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0) / 100)


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    generate_into_lake(lake.storage, SpotifyGenerator(scale=0.005, seed=0), "staging/spotify/")
    lake.jobs.create_job(JobDefinition.from_file(JOB_FILE))
    lake.crawlers.create_crawler(
        CrawlerDefinition(name="spotify-staging", targets=("s3://lakeport/staging/spotify/",), database="staging")
    )
    lake.states.clock = ScaledClock()
    lake.states.create_state_machine("spotify-pipeline", PIPELINE.read_text())
    topic = lake.notify.create_topic("spotify-pipeline-events")
    lake.notify.subscribe(topic.arn, "file", "events/pipeline.jsonl")
    yield lake
    lake.close()


def _notifications(lake: Lake) -> list[dict[str, Any]]:
    """What the pipeline published, as the file subscriber received it (SNS's notification JSON)."""
    assert lake.notify.drain(timeout=30)
    lines = (lake.root / "events" / "pipeline.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_the_pipeline_runs_job_crawler_poll_and_query(lake: Lake) -> None:
    execution = lake.states.start_execution("spotify-pipeline", {}, name="run-1", wait=True)
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    output = execution.output_value()
    assert output["JobRun"]["JobRunState"] == "SUCCEEDED"
    run = lake.jobs.get_job_run("spotify", output["JobRun"]["JobRunId"])
    rows = lake.queries.get_query_results(lake.query("SELECT COUNT(*) AS n FROM spotify.tracks").id)
    assert int(rows["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"]) == run.metrics["rows_written"] > 0
    query = lake.queries.get_query_execution(output["Query"]["QueryExecutionId"])
    assert query.state == "SUCCEEDED"
    assert output["Query"]["State"] == "SUCCEEDED"
    assert lake.catalog.list_tables("staging")  # the crawler catalogued staging
    history = lake.states.get_execution_history(execution.arn)
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert entered[:4] == ["StartGlueJob", "StartGlueCrawler", "WaitForCrawler", "CheckCrawlerStatus"]
    assert entered[-3:] == ["RunTutorialQuery", "NotifySuccess", "PipelineSucceeded"]
    types = {e["type"] for e in history}
    assert {"TaskStateEntered", "WaitStateEntered", "ChoiceStateEntered", "ExecutionSucceeded"} <= types
    (note,) = _notifications(lake)
    assert note["Subject"] == "Spotify pipeline succeeded"
    assert note["MessageId"] == output["Notification"]["MessageId"]
    assert note["MessageAttributes"]["status"] == {"Type": "String", "Value": "SUCCEEDED"}
    message = json.loads(note["Message"])
    assert message == {
        "pipeline": "spotify",
        "status": "SUCCEEDED",
        "execution": execution.arn,
        "jobRunId": run.id,
        "queryExecutionId": query.id,
    }


def test_a_failing_job_takes_the_catch_path(lake: Lake) -> None:
    lake.storage.delete_object("lakeport", "staging/spotify/spotify_artist_data_2023.csv")
    execution = lake.states.start_execution("spotify-pipeline", {}, name="broken", wait=True)
    assert execution.status == "FAILED"
    assert execution.error == "States.TaskFailed"
    run = lake.jobs.list_job_runs("spotify")[0]
    assert run.state == "FAILED"
    assert run.error
    assert execution.cause is not None
    assert json.loads(execution.cause)["ErrorMessage"] == run.error
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in lake.states.get_execution_history(execution.arn)
        if e["type"].endswith("StateEntered")
    ]
    assert entered == ["StartGlueJob", "NotifyFailure", "PipelineFailed"]
    (note,) = _notifications(lake)
    assert note["Subject"] == "Spotify pipeline failed"
    message = json.loads(note["Message"])
    assert (message["status"], message["error"]) == ("FAILED", "States.TaskFailed")
    assert json.loads(message["cause"])["ErrorMessage"] == run.error


def test_new_csvs_in_staging_start_the_pipeline_once_per_batch(lake: Lake) -> None:
    from datetime import timedelta

    from lakeport.triggers import scheduler_for

    # The rule docs/states.md gives for the reference pipeline: the three CSVs of one upload, one execution.
    lake.triggers.put_rule(
        "spotify-staging-csv",
        object_pattern={"bucket": "lakeport", "prefix": "staging/spotify/", "suffix": ".csv"},
        target_machine="spotify-pipeline",
        batch_window=10,
        batch_size=10,
    )
    upload = generate_into_lake(lake.storage, SpotifyGenerator(scale=0.005, seed=1), "staging/spotify/")
    scheduler = scheduler_for(lake, scan=False)
    targets = scheduler.services

    def scaled(principal: Any) -> Any:  # the executions the rule starts wait a hundredth of their Waits too
        view = targets(principal)
        view.states.clock = ScaledClock()  # type: ignore[attr-defined]
        return view

    scheduler.services = scaled
    scheduler.run_once()  # takes the upload's object events into the rule's open batch
    assert lake.states.list_executions("spotify-pipeline") == []
    report = scheduler.run_once(datetime.now(UTC) + timedelta(seconds=11))  # the window has closed
    assert report.started == 1
    (started,) = lake.states.list_executions("spotify-pipeline")
    done = lake.states.wait(started.arn, timeout=120)
    assert done.status == "SUCCEEDED", (done.error, done.cause)
    keys = sorted(e["detail"]["object"]["key"] for e in json.loads(done.input)["events"])
    assert keys == sorted(f.uri.removeprefix("s3://lakeport/") for f in upload.files if f.name.endswith(".csv"))
