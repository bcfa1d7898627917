"""``/api/v1/queries`` extras over a real lake: workgroups and saved (named) queries; a user who may only list
saved queries cannot save one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.server import create_app
from tests.server.test_api import _allow, _user

QUERIES = "/api/v1/queries"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("queries") / "lake")
    yield lake
    lake.close()


@pytest.fixture(scope="module")
def client(lake: Lake) -> TestClient:
    return TestClient(create_app(lake))


def test_workgroups_and_named_queries(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "ann", _allow("athena:*"))
    groups = client.get(f"{QUERIES}/workgroups", auth=auth).json()["WorkGroups"]
    assert "primary" in [g["Name"] for g in groups]
    primary = client.get(f"{QUERIES}/workgroups/primary", auth=auth).json()["WorkGroup"]
    assert primary["Name"] == "primary"
    assert "Configuration" in primary
    assert client.get(f"{QUERIES}/workgroups/nope", auth=auth).status_code == 404

    saved = client.post(
        f"{QUERIES}/named",
        json={"Name": "top tracks", "QueryString": "SELECT 1", "Database": "default", "Description": "the best"},
        auth=auth,
    )
    assert saved.status_code == 200, saved.text
    named_id = saved.json()["NamedQueryId"]
    assert client.get(f"{QUERIES}/named", auth=auth).json()["NamedQueryIds"] == [named_id]
    found = client.get(f"{QUERIES}/named/{named_id}", auth=auth).json()["NamedQuery"]
    assert found["Name"] == "top tracks"
    assert found["Description"] == "the best"
    assert client.delete(f"{QUERIES}/named/{named_id}", auth=auth).status_code == 200
    assert client.get(f"{QUERIES}/named/{named_id}", auth=auth).status_code == 404
    # an execution id is still an execution id: the saved-query paths do not shadow it
    assert client.get(f"{QUERIES}/not-an-execution", auth=auth).status_code == 404


def test_a_reader_cannot_save_a_query(client: TestClient, lake: Lake) -> None:
    bob = _user(lake, "bob", _allow("athena:ListNamedQueries", "athena:ListWorkGroups"))
    denied = client.post(f"{QUERIES}/named", json={"Name": "x", "QueryString": "SELECT 1"}, auth=bob)
    assert denied.status_code == 403
    assert "athena:CreateNamedQuery" in denied.json()["error"]["message"]
    assert lake.queries.named_queries.list_named_queries() == []  # nothing changed
    assert client.get(f"{QUERIES}/named", auth=bob).status_code == 200
