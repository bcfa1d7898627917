"""The reference pipeline (the tutorials' Spotify pipeline) installed into a lake from ``examples/spotify/``.

``install_reference_pipeline`` creates, or brings up to date, everything the state machine
(``pipeline.asl.json``) calls and everything that watches it: the ETL job (``job.yaml``), the crawler of the
staging files, the state machine itself, the ``spotify-pipeline-events`` topic with a file subscription in the
lake (and an email one when SMTP and ``notify.pipeline_email`` are set), the alarm on failed job runs
(``alarms.json``), and the trigger rule ``spotify-new-files``: CSV files landing under ``staging/spotify/``
start the state machine, gathered into one start per batch (the five Kaggle files, or what came within a
minute). Running it again changes nothing that is already as the files say.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lakeport.crawler.definition import CrawlerDefinition
from lakeport.datasets.spotify.schema import KAGGLE_FILES
from lakeport.etl import JobDefinition
from lakeport.pipelines.install import put_crawler, put_dashboard_files, put_job, put_state_machine

if TYPE_CHECKING:
    from lakeport.lake import Lake

REFERENCE = Path(__file__).resolve().parents[3] / "examples" / "spotify"
STATE_MACHINE = "spotify-pipeline"
CRAWLER = "spotify-staging"
RULE = "spotify-new-files"
BATCH_SIZE = len(KAGGLE_FILES)  # the Kaggle set's five CSV files start one execution
TOPIC = "spotify-pipeline-events"
NOTIFICATIONS_FILE = f"notifications/{TOPIC}.jsonl"  # inside the lake, where file subscriptions may write


@dataclass(frozen=True)
class InstalledPipeline:
    """What the installation made (names and ARNs), for the caller to print or start."""

    job: str
    crawler: str
    state_machine_arn: str
    topic_arn: str
    subscriptions: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    rule: str = RULE

    @property
    def notifications_file(self) -> str:
        return NOTIFICATIONS_FILE


def install_reference_pipeline(
    lake: Lake, folder: Path = REFERENCE, *, staging: str = "staging/spotify/", database: str = "spotify"
) -> InstalledPipeline:
    """Create or update the reference pipeline's parts in ``lake`` from the files in ``folder``; the crawler
    catalogs ``staging`` (a prefix of the default bucket) into ``database``."""
    job = JobDefinition.from_file(folder / "job.yaml")
    put_job(lake, job)

    bucket = lake.settings.storage.default_bucket
    crawler = CrawlerDefinition(name=CRAWLER, targets=(f"s3://{bucket}/{staging}",), database=database)
    put_crawler(lake, crawler)

    topic = lake.notify.create_topic(TOPIC, {"DisplayName": "Spotify pipeline"})
    subscriptions = [lake.notify.subscribe(topic.arn, "file", NOTIFICATIONS_FILE).arn]
    smtp = lake.settings.notify
    if smtp.smtp_host and smtp.pipeline_email:
        subscriptions.append(lake.notify.subscribe(topic.arn, "email", smtp.pipeline_email).arn)

    definition = (folder / "pipeline.asl.json").read_text(encoding="utf-8")
    # the example names the topic in the account and region AWS's tutorials use; point it at this lake's topic
    definition = definition.replace(f"arn:aws:sns:us-east-1:000000000000:{TOPIC}", topic.arn)
    machine = put_state_machine(lake, STATE_MACHINE, definition)

    alarms = lake.alarms.put_metric_alarms_from(json.loads((folder / "alarms.json").read_text(encoding="utf-8")))
    lake.triggers.put_rule(
        RULE,
        object_pattern=f"bucket={bucket},prefix={staging},suffix=.csv",
        target_machine=machine.arn,
        batch_window=60,
        batch_size=BATCH_SIZE,
        description=f"CSV files landing under s3://{bucket}/{staging} start {STATE_MACHINE}",
    )
    return InstalledPipeline(
        job=job.name,
        crawler=CRAWLER,
        state_machine_arn=machine.arn,
        topic_arn=topic.arn,
        subscriptions=subscriptions,
        alarms=[a.name for a in alarms],
    )


def install_reference_dashboard(lake: Lake, folder: Path = REFERENCE) -> list[str]:
    """Create or update the Spotify insights dashboard and its datasets (``datasets.yaml``, ``dashboard.yaml``)
    once the pipeline has written ``spotify.tracks``; returns the dashboard's sheets."""
    board = put_dashboard_files(lake, folder)
    return [s["name"] for s in board.definition["sheets"]]
