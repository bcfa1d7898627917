"""``/api/v1/crawlers``: crawler definitions, crawls (started in a worker process) and their per-file warnings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from lakeport.crawler import CrawlerDefinition
from lakeport.errors import NotFound
from lakeport.server.api.deps import CallerLake, Paging, action

router = APIRouter(prefix="/api/v1/crawlers", tags=["crawlers"])
CRAWLER = "arn:aws:glue:{region}:{account}:crawler/{name}"

DEFINITION_EXAMPLE: dict[str, Any] = {"name": "tracks", "targets": ["s3://lake/staging/tracks/"], "database": "spotify"}


@router.get("", openapi_extra=action("glue:GetCrawlers", "arn:aws:glue:{region}:{account}:crawler/*"))
def list_crawlers(lake: CallerLake, page: Paging) -> dict[str, Any]:
    """Every crawler with its state and last crawl (GetCrawlers)."""
    return page.of([c.to_glue() for c in lake.crawlers.list_crawlers()], "Crawlers")


class CreateCrawler(BaseModel):
    """The fields of `lakeport crawler create`; those left out keep the service's defaults."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [DEFINITION_EXAMPLE]})
    name: str = Field(description="the crawler's name")
    targets: list[str] = Field(description="s3://bucket/prefix/ paths to crawl")
    database: str = Field(description="the catalog database its tables go to")
    table_prefix: str | None = Field(None, description="a prefix for the names of the tables it creates")
    exclusions: list[str] | None = Field(None, description="glob patterns of keys to leave out")
    update_behavior: str | None = Field(None, description="UPDATE_IN_DATABASE or LOG")
    delete_behavior: str | None = Field(None, description="DEPRECATE_IN_DATABASE, DELETE_FROM_DATABASE or LOG")
    recrawl_behavior: str | None = Field(None, description="CRAWL_EVERYTHING or CRAWL_NEW_FOLDERS_ONLY")
    table_level: int | None = Field(None, description="the folder level tables are made at (the bucket is 1)")
    combine_compatible_schemas: bool | None = Field(None, description="one table for compatible schemas")
    partition_types: str | None = Field(None, description="infer or string")
    csv_header: str | None = Field(None, description="auto, present or absent")
    csv_delimiter: str | None = Field(None, description="one character (default: detected)")
    sample_bytes: int | None = Field(None, description="bytes read from each file to infer its schema")
    description: str | None = Field(None, description="what it crawls")
    role: str | None = Field(None, description="the role the crawl runs as")
    classifiers: list[str] | None = Field(None, description="custom classifiers to try first")
    parameters: dict[str, str] | None = Field(None, description="table parameters to set")


@router.post("", openapi_extra=action("glue:CreateCrawler", CRAWLER))
def create_crawler(lake: CallerLake, body: CreateCrawler) -> dict[str, Any]:
    """Create a crawler (CreateCrawler)."""
    created = lake.crawlers.create_crawler(CrawlerDefinition.from_dict(body.model_dump(exclude_none=True)))
    return {"Crawler": created.to_glue()}


@router.get("/{name}", openapi_extra=action("glue:GetCrawler", CRAWLER))
def get_crawler(lake: CallerLake, name: str) -> dict[str, Any]:
    """One crawler: definition, state, last crawl (GetCrawler)."""
    return {"Crawler": lake.crawlers.get_crawler(name).to_glue()}


@router.delete("/{name}", openapi_extra=action("glue:DeleteCrawler", CRAWLER))
def delete_crawler(lake: CallerLake, name: str) -> dict[str, Any]:
    """Delete a crawler; its tables stay in the catalog (DeleteCrawler)."""
    lake.crawlers.delete_crawler(name)
    return {}


@router.post("/{name}/start", openapi_extra=action("glue:StartCrawler", CRAWLER))
def start_crawler(lake: CallerLake, name: str) -> dict[str, Any]:
    """Start a crawl in a worker process; answers at once with the RUNNING crawl (StartCrawler)."""
    run = lake.crawlers.start_crawler(name, wait=False)
    return {"CrawlId": run.id, "Crawl": run.to_glue()}


@router.post("/{name}/stop", openapi_extra=action("glue:StopCrawler", CRAWLER))
def stop_crawler(lake: CallerLake, name: str) -> dict[str, Any]:
    """Stop the running crawl (StopCrawler)."""
    return {"Crawler": lake.crawlers.stop_crawler(name).to_glue()}


@router.get("/{name}/runs", openapi_extra=action("glue:ListCrawls", CRAWLER))
def list_runs(lake: CallerLake, page: Paging, name: str) -> dict[str, Any]:
    """The crawler's crawls, newest first (ListCrawls)."""
    runs = lake.crawlers.list_runs(name, limit=page.offset + page.limit + 1)
    return page.of([r.to_glue() for r in runs], "Crawls")


@router.get("/{name}/runs/{run_id}", openapi_extra=action("glue:ListCrawls", CRAWLER))
def get_run(lake: CallerLake, name: str, run_id: str) -> dict[str, Any]:
    """One crawl with its summary and per-file warnings."""
    run = lake.crawlers.get_run(run_id)
    if run.crawler != name:
        raise NotFound(f"crawler {name} has no crawl {run_id}", code="EntityNotFoundException")
    return {"Crawl": run.to_glue(), "Summary": run.summary, "Warnings": run.warnings}
