"""examples/spotify/pipeline.asl.json end to end through ``lake.states`` on a tiny Spotify sample."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

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
    yield lake
    lake.close()


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
