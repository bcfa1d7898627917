"""``/api/v1/triggers`` over a real lake: rules (object pattern, schedule) and schedules — put, list, describe,
disable, enable, delete; a user who may only list rules cannot put one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.server import create_app
from tests.server.test_api import _allow, _user

TRIGGERS = "/api/v1/triggers"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("triggers") / "lake")
    yield lake
    lake.close()


@pytest.fixture(scope="module")
def client(lake: Lake) -> TestClient:
    return TestClient(create_app(lake))


def test_rules_and_schedules(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "ann", _allow("events:*", "scheduler:*"))
    on_files = client.put(
        f"{TRIGGERS}/rules/on-tracks",
        json={"ObjectPattern": "bucket=lakeport,prefix=staging/tracks/", "TargetStateMachine": "pipeline"},
        auth=auth,
    )
    assert on_files.status_code == 200, on_files.text
    assert on_files.json()["Name"] == "on-tracks"
    hourly = client.put(
        f"{TRIGGERS}/rules/hourly",
        json={"ScheduleExpression": "rate(1 hour)", "TargetJob": "copy", "Input": {"day": "1"}},
        auth=auth,
    )
    assert hourly.status_code == 200, hourly.text
    both = client.put(
        f"{TRIGGERS}/rules/both", json={"ScheduleExpression": "rate(1 hour)", "EventPattern": {}}, auth=auth
    )
    assert both.status_code == 400

    names = [r["Name"] for r in client.get(f"{TRIGGERS}/rules", auth=auth).json()["Rules"]]
    assert sorted(names) == ["hourly", "on-tracks"]
    assert [
        r["Name"] for r in client.get(f"{TRIGGERS}/rules", params={"prefix": "on-"}, auth=auth).json()["Rules"]
    ] == ["on-tracks"]
    assert client.post(f"{TRIGGERS}/rules/hourly/disable", auth=auth).json()["State"] == "DISABLED"
    assert client.get(f"{TRIGGERS}/rules/hourly", auth=auth).json()["State"] == "DISABLED"
    assert client.post(f"{TRIGGERS}/rules/hourly/enable", auth=auth).json()["State"] == "ENABLED"
    assert client.delete(f"{TRIGGERS}/rules/hourly", auth=auth).status_code == 200
    assert client.get(f"{TRIGGERS}/rules/hourly", auth=auth).status_code == 404

    once = client.post(
        f"{TRIGGERS}/schedules",
        json={"Name": "once", "ScheduleExpression": "at(2099-01-01T00:00:00)", "TargetStateMachine": "pipeline"},
        auth=auth,
    )
    assert once.status_code == 200, once.text
    assert [s["Name"] for s in client.get(f"{TRIGGERS}/schedules", auth=auth).json()["Schedules"]] == ["once"]
    assert client.get(f"{TRIGGERS}/schedules/once", auth=auth).json()["Name"] == "once"
    assert client.delete(f"{TRIGGERS}/schedules/once", auth=auth).status_code == 200
    assert client.get(f"{TRIGGERS}/deliveries", auth=auth).json() == {"Deliveries": [], "nextToken": None}


def test_a_lister_cannot_put_a_rule(client: TestClient, lake: Lake) -> None:
    bob = _user(lake, "bob", _allow("events:ListRules"))
    denied = client.put(
        f"{TRIGGERS}/rules/sneaky", json={"ScheduleExpression": "rate(1 minute)", "TargetJob": "copy"}, auth=bob
    )
    assert denied.status_code == 403
    assert "events:PutRule" in denied.json()["error"]["message"]
    assert "sneaky" not in [r.name for r in lake.triggers.list_rules()]  # nothing changed
