"""``/api/v1/crawlers`` over a real lake: create, start (a worker process), watch, read the crawl's warnings."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.server import create_app
from tests.server.test_api import _allow, _user

CRAWLERS = "/api/v1/crawlers"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("crawlers") / "lake")
    lake.storage.put_object("lakeport", "staging/people/part-0.csv", b"id,name\n1,alpha\n2,beta\n")
    lake.storage.put_object("lakeport", "staging/people/empty.csv", b"")
    lake.catalog.create_database("people_db")
    yield lake
    lake.close()


@pytest.fixture(scope="module")
def client(lake: Lake) -> TestClient:
    return TestClient(create_app(lake))


def _wait(client: TestClient, name: str, auth: tuple[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        crawls: list[dict[str, Any]] = client.get(f"{CRAWLERS}/{name}/runs", auth=auth).json()["Crawls"]
        if (crawls and crawls[0]["State"] not in ("RUNNING", "STOPPING")) or time.monotonic() > deadline:
            return crawls[0]
        time.sleep(0.1)


def test_a_crawl_through_the_api(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "ann", _allow("glue:*", "s3:*"))
    definition = {"name": "people", "targets": ["s3://lakeport/staging/people/"], "database": "people_db"}
    created = client.post(CRAWLERS, json=definition, auth=auth)
    assert created.status_code == 200, created.text
    assert created.json()["Crawler"]["Name"] == "people"
    assert client.post(CRAWLERS, json=definition, auth=auth).status_code == 409
    unknown_field = client.post(CRAWLERS, json={**definition, "name": "other", "colour": "red"}, auth=auth)
    assert unknown_field.status_code == 400

    started = client.post(f"{CRAWLERS}/people/start", auth=auth)
    assert started.status_code == 200, started.text
    crawl_id = started.json()["CrawlId"]
    last = _wait(client, "people", auth)
    assert last["CrawlId"] == crawl_id
    assert last["State"] == "COMPLETED", last

    run = client.get(f"{CRAWLERS}/people/runs/{crawl_id}", auth=auth).json()
    assert any(w for w in run["Warnings"] if "empty.csv" in str(w)), run["Warnings"]
    assert client.get(f"{CRAWLERS}/other/runs/{crawl_id}", auth=auth).status_code == 404
    tables = client.get("/api/v1/catalog/databases/people_db/tables", auth=auth).json()["TableList"]
    assert [t["Name"] for t in tables] == ["people"]

    listed = client.get(CRAWLERS, auth=auth).json()["Crawlers"]
    assert [c["Name"] for c in listed] == ["people"]
    assert listed[0]["State"] == "READY"
    stop = client.post(f"{CRAWLERS}/people/stop", auth=auth)
    assert stop.status_code == 409
    assert stop.json()["error"]["code"] == "CrawlerNotRunningException"
    assert client.delete(f"{CRAWLERS}/people", auth=auth).status_code == 200
    assert client.get(f"{CRAWLERS}/people", auth=auth).status_code == 404


def test_a_reader_cannot_create_or_start_crawlers(client: TestClient, lake: Lake) -> None:
    bob = _user(lake, "bob", _allow("glue:GetCrawlers", "glue:GetCrawler"))
    definition = {"name": "sneaky", "targets": ["s3://lakeport/staging/"], "database": "people_db"}
    denied = client.post(CRAWLERS, json=definition, auth=bob)
    assert denied.status_code == 403
    assert "glue:CreateCrawler" in denied.json()["error"]["message"]
    assert "sneaky" not in [c.name for c in lake.crawlers.list_crawlers()]  # nothing changed
    assert client.get(CRAWLERS, auth=bob).status_code == 200
