"""``/api/v1/events/stream`` over a real lake: server-sent events of state changes, each shown only to a caller who
may read what it is about; a caller without ``lakeport:StreamEvents`` is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.observe.bus import emit_job_state, emit_query_state
from lakeport.server import create_app
from tests.server.test_api import _user

STREAM = "/api/v1/events/stream"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("events") / "lake")
    yield lake
    lake.close()


@pytest.fixture(scope="module")
def client(lake: Lake) -> TestClient:
    return TestClient(create_app(lake))


def _messages(text: str) -> list[dict[str, str]]:
    """The SSE messages of a stream's text (comments left out)."""
    out = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, sep, value = line.partition(": ")
            if sep and name in ("id", "event", "data"):
                fields[name] = value
        if "data" in fields:
            out.append(fields)
    return out


def _emit(lake: Lake, kind: str, name: str) -> None:
    where: dict[str, Any] = {"region": lake.settings.iam.region, "account_id": lake.settings.iam.account_id}
    if kind == "job":
        emit_job_state(lake.db, job_name=name, run_id="jr_1", state="SUCCEEDED", message=None, **where)
    else:
        emit_query_state(lake.db, query_execution_id=name, state="SUCCEEDED", workgroup="primary", **where)


def test_the_stream_sends_what_the_caller_may_see(client: TestClient, lake: Lake) -> None:
    region, account = lake.settings.iam.region, lake.settings.iam.account_id
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "lakeport:StreamEvents", "Resource": "*"},
            {"Effect": "Allow", "Action": "glue:GetJobRun", "Resource": f"arn:aws:glue:{region}:{account}:job/copy"},
            {"Effect": "Allow", "Action": "athena:GetQueryExecution", "Resource": "*"},
        ],
    }
    auth = _user(lake, "watcher", policy)
    start = lake.bus.latest_position()
    _emit(lake, "job", "copy")
    _emit(lake, "job", "payroll")  # a job the watcher may not read
    _emit(lake, "query", "q-1")

    response = client.get(STREAM, params={"after": start, "timeout": 0.1}, auth=auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    messages = _messages(response.text)
    assert [m["event"] for m in messages] == ["Glue Job State Change", "Athena Query State Change"]
    first = json.loads(messages[0]["data"])
    assert first["detail"]["jobName"] == "copy"
    assert first["source"] == "aws.glue"
    assert int(messages[1]["id"]) > int(messages[0]["id"]) > start

    resumed = client.get(STREAM, params={"timeout": 0.1}, headers={"Last-Event-ID": messages[0]["id"]}, auth=auth)
    assert [m["event"] for m in _messages(resumed.text)] == ["Athena Query State Change"]
    fresh = client.get(STREAM, params={"timeout": 0.1}, auth=auth)  # a new client sees what happens from now on
    assert _messages(fresh.text) == []


def test_a_caller_without_the_stream_action_is_refused(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "outsider", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "glue:*", "Resource": "*"}
    ]})  # fmt: skip
    denied = client.get(STREAM, params={"timeout": 0.1}, auth=auth)
    assert denied.status_code == 403
    assert "lakeport:StreamEvents" in denied.json()["error"]["message"]
