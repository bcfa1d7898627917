"""Create-or-update of a pipeline's parts, shared by the reference pipeline and ``pipeline new``: running an
installation again brings each part to what its file says instead of failing on what already exists."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lakeport.errors import AlreadyExists

if TYPE_CHECKING:
    from lakeport.crawler.definition import CrawlerDefinition
    from lakeport.dashboards.model import Dashboard
    from lakeport.etl import JobDefinition
    from lakeport.lake import Lake
    from lakeport.states.executions import StateMachine


def put_job(lake: Lake, job: JobDefinition) -> None:
    try:
        lake.jobs.create_job(job)
    except AlreadyExists:
        lake.jobs.update_job(job)


def put_crawler(lake: Lake, crawler: CrawlerDefinition) -> None:
    try:
        lake.crawlers.create_crawler(crawler)
    except AlreadyExists:
        lake.crawlers.update_crawler(crawler)


def put_state_machine(lake: Lake, name: str, definition: str) -> StateMachine:
    if name in {m.name for m in lake.states.list_state_machines()}:
        return lake.states.update_state_machine(name, definition=definition)
    return lake.states.create_state_machine(name, definition)


def put_dashboard_files(lake: Lake, folder: Path) -> Dashboard:
    """Create or update the datasets of ``folder/datasets.yaml`` (a SPICE dataset is ingested again: its table
    may have changed) and the dashboard of ``folder/dashboard.yaml``."""
    from lakeport.dashboards import load_document, parse_datasets

    datasets = lake.dashboards.datasets
    existing = {d.name for d in datasets.list_data_sets()}
    for definition in parse_datasets(load_document(folder / "datasets.yaml")[0]):
        if definition.name in existing:
            datasets.update_data_set(definition)
        else:
            datasets.create_data_set(definition)
    text = (folder / "dashboard.yaml").read_text(encoding="utf-8")
    try:
        return lake.dashboards.create_dashboard(text)
    except AlreadyExists:
        return lake.dashboards.update_dashboard(text)
