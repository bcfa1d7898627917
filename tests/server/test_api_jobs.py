"""``/api/v1/jobs`` over a real lake: a job from YAML, its SQL and a node preview, a run in a worker process,
its bookmarks; a user who may only read jobs cannot start one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.server import create_app
from tests.server.test_api import _allow, _user

JOBS = "/api/v1/jobs"
JOB_YAML = """
name: copy
bookmarks: true
parameters:
  minimum: "0"
nodes:
  - id: src
    type: source
    path: s3://lakeport/staging/in/
    format: csv
    options: {header: true, delimiter: ",", quote: '"'}
    columns: {id: bigint, amount: bigint}
  - id: big
    type: filter
    input: src
    condition: amount >= ${minimum}
  - id: out
    type: sink
    input: big
    table: db.copy
    mode: append
"""


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("jobs") / "lake")
    lake.storage.put_object("lakeport", "staging/in/a.csv", b"id,amount\n1,10\n2,20\n3,30\n")
    lake.catalog.create_database("db")
    yield lake
    lake.close()


@pytest.fixture(scope="module")
def client(lake: Lake) -> TestClient:
    return TestClient(create_app(lake))


def _finished(client: TestClient, run_id: str, auth: tuple[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        run: dict[str, Any] = client.get(f"{JOBS}/copy/runs/{run_id}", auth=auth).json()
        if run["JobRun"]["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING") or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def test_a_job_from_yaml_runs_in_a_worker(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "ann", _allow("glue:*", "s3:*"))
    created = client.post(JOBS, content=JOB_YAML, headers={"content-type": "application/yaml"}, auth=auth)
    assert created.status_code == 200, created.text
    assert client.get(JOBS, auth=auth).json()["Jobs"][0]["name"] == "copy"
    bad = client.post(JOBS, content="name: [unclosed", headers={"content-type": "application/yaml"}, auth=auth)
    assert bad.status_code == 400

    statements = client.get(f"{JOBS}/copy/script", auth=auth).json()["Statements"]
    assert statements
    assert any("amount" in s for s in statements)
    preview = client.get(f"{JOBS}/copy/nodes/big/preview", params={"arg": "minimum=20"}, auth=auth).json()
    assert preview["columns"] == ["id", "amount"]
    assert sorted(preview["rows"]) == [[2, 20], [3, 30]]
    assert client.get(f"{JOBS}/copy/script", params={"arg": "oops"}, auth=auth).status_code == 400

    started = client.post(f"{JOBS}/copy/runs", json={"Arguments": {"--minimum": "15"}}, auth=auth)
    assert started.status_code == 200, started.text
    run_id = started.json()["JobRunId"]
    run = _finished(client, run_id, auth)
    assert run["JobRun"]["JobRunState"] == "SUCCEEDED", run
    assert run["JobRun"]["Arguments"] == {"--minimum": "15"}
    assert [r["Id"] for r in client.get(f"{JOBS}/copy/runs", auth=auth).json()["JobRuns"]] == [run_id]
    assert client.post(f"{JOBS}/copy/runs/{run_id}/stop", auth=auth).status_code == 409

    entries = client.get(f"{JOBS}/copy/bookmarks", auth=auth).json()["Entries"]
    assert [e["key"] for e in entries] == ["staging/in/a.csv"]
    assert client.post(f"{JOBS}/copy/bookmarks/reset", auth=auth).json()["Removed"] == 1
    assert client.get(f"{JOBS}/copy/bookmarks", auth=auth).json()["Entries"] == []


def test_a_reader_cannot_start_or_delete_a_job(client: TestClient, lake: Lake) -> None:
    if "copy" not in [j.name for j in lake.jobs.list_jobs()]:
        client.post(JOBS, content=JOB_YAML, headers={"content-type": "application/yaml"}, auth=_admin(lake))
    bob = _user(lake, "bob", _allow("glue:GetJob", "glue:GetJobs", "glue:GetJobRuns"))
    before = lake.jobs.list_job_runs("copy")
    denied = client.post(f"{JOBS}/copy/runs", json={}, auth=bob)
    assert denied.status_code == 403
    assert "glue:StartJobRun" in denied.json()["error"]["message"]
    assert client.delete(f"{JOBS}/copy", auth=bob).status_code == 403
    assert lake.jobs.list_job_runs("copy") == before  # nothing changed
    assert client.get(f"{JOBS}/copy", auth=bob).json()["Job"]["name"] == "copy"


def _admin(lake: Lake) -> tuple[str, str]:
    return _user(lake, "carol", _allow("glue:*", "s3:*"))


def test_a_node_preview_over_a_file_that_does_not_read_as_declared_is_a_400_naming_the_job_and_node(
    tmp_path: Any,
) -> None:
    """Found by the OpenAPI fuzz: a CSV source holding bytes that are not UTF-8 made the preview a 500."""
    lake = Lake.init(tmp_path / "lake")
    try:
        lake.storage.put_object("lakeport", "staging/in/a.csv", b"id,amount\n1,\xff\xfe\x00\x81\n")
        client = TestClient(create_app(lake))
        auth = _user(lake, "ann", _allow("glue:*", "s3:*"))
        assert client.post(JOBS, content=JOB_YAML, headers={"content-type": "application/yaml"}, auth=auth).is_success
        answer = client.get(f"{JOBS}/copy/nodes/big/preview", auth=auth)
        assert answer.status_code == 400, answer.text
        message = answer.json()["error"]["message"]
        assert message.startswith("job copy: node big cannot be read:")
        assert "\n" not in message
    finally:
        lake.close()
