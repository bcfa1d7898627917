"""Every GET route that needs no existing resource answers a permitted principal with success: the list routes of
every router, on a fresh lake, for a user whose policy allows everything (not the lake's admin, so every call
goes through policy evaluation)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.server import create_app
from tests.server.test_api import _allow, _user

# routes whose list is of one thing named in the path: the thing the fresh lake always has
NAMED = {"{bucket}": "lakeport", "{workgroup}": "primary"}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("lists") / "lake")
    yield lake
    lake.close()


def test_a_permitted_principal_gets_every_list(lake: Lake) -> None:
    client = TestClient(create_app(lake))
    auth = _user(lake, "everything", _allow("*"))
    spec = client.get("/api/v1/openapi.json").json()
    checked = []
    for path, item in spec["paths"].items():
        op = item.get("get")
        if op is None or op["x-iam-action"] == "public":
            continue
        url = path
        for placeholder, value in NAMED.items():
            url = url.replace(placeholder, value)
        required = [p for p in op.get("parameters", []) if p.get("in") == "query" and p.get("required")]
        if "{" in url or required or url.endswith(("/head", "/download", "/preview")):
            continue  # needs an existing resource
        params = {"timeout": 0.05} if url.endswith("/events/stream") else None
        answer = client.get(url, params=params, auth=auth)
        assert answer.status_code == 200, (path, answer.status_code, answer.text)
        checked.append(path)
    assert len(checked) >= 25, checked
