"""The REST API in process (FastAPI's TestClient over the real app, a real lake): authentication by access key or
console session, one error shape, pagination, and every route naming the IAM action it needs."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.server import create_app

PUBLIC = "public"


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = Lake.init(tmp_path / "lake")
    yield lake
    lake.close()


@pytest.fixture
def client(lake: Lake) -> TestClient:
    return TestClient(create_app(lake))


def _user(lake: Lake, name: str, policy: dict[str, Any] | None = None) -> tuple[str, str]:
    lake.iam.create_user(name)
    if policy is not None:
        lake.iam.put_user_policy(name, "inline", policy)
    key = lake.iam.create_access_key(name)
    return key.key.id, key.secret


def _allow(*actions: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}


def test_no_credentials_is_401_and_bad_credentials_too(client: TestClient, lake: Lake) -> None:
    missing = client.get("/api/v1/catalog/databases")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "MissingAuthenticationToken"
    key_id, _ = _user(lake, "ann", _allow("glue:*"))
    wrong = client.get("/api/v1/catalog/databases", auth=(key_id, "not-the-secret"))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "InvalidClientTokenId"


def test_an_access_key_reads_the_catalog_and_pages_through_it(client: TestClient, lake: Lake) -> None:
    for name in ("alpha", "beta", "gamma"):
        lake.catalog.create_database(name)
    auth = _user(lake, "ann", _allow("glue:GetDatabases", "glue:GetDatabase"))
    first = client.get("/api/v1/catalog/databases", params={"limit": 2}, auth=auth).json()
    names = [d["Name"] for d in first["DatabaseList"]]
    assert len(names) == 2
    assert first["nextToken"]
    rest = client.get(
        "/api/v1/catalog/databases", params={"limit": 2, "next_token": first["nextToken"]}, auth=auth
    ).json()
    assert rest["nextToken"] is None
    assert {"alpha", "beta", "gamma"} <= set(names + [d["Name"] for d in rest["DatabaseList"]])
    assert client.get("/api/v1/catalog/databases/beta", auth=auth).json()["Database"]["Name"] == "beta"
    missing = client.get("/api/v1/catalog/databases/nope", auth=auth)
    assert missing.status_code == 404
    assert set(missing.json()["error"]) == {"code", "message", "hint", "type", "retryable"}
    bad_token = client.get("/api/v1/catalog/databases", params={"next_token": "!!"}, auth=auth)
    assert bad_token.status_code == 400


def test_a_principal_without_the_permission_gets_403_naming_the_action(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "bob", _allow("glue:GetDatabases"))
    denied = client.post("/api/v1/queries", json={"QueryString": "SELECT 1"}, auth=auth)
    assert denied.status_code == 403
    assert "athena:StartQueryExecution" in denied.json()["error"]["message"]
    assert lake.queries.list_query_executions() == []  # nothing changed


def test_a_query_through_the_api(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "ann", _allow("athena:*", "glue:*", "s3:*"))
    started = client.post("/api/v1/queries", json={"QueryString": "SELECT 40 + 2 AS answer"}, auth=auth).json()
    execution_id = started["QueryExecutionId"]
    deadline = time.monotonic() + 30
    while True:
        state = client.get(f"/api/v1/queries/{execution_id}", auth=auth).json()["QueryExecution"]["Status"]["State"]
        if state in ("SUCCEEDED", "FAILED", "CANCELLED") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert state == "SUCCEEDED"
    rows = client.get(f"/api/v1/queries/{execution_id}/results", auth=auth).json()["ResultSet"]["Rows"]
    assert rows[1]["Data"][0]["VarCharValue"] == "42"


def test_a_console_session_from_an_access_key(client: TestClient, lake: Lake) -> None:
    key_id, secret = _user(lake, "ann", _allow("glue:GetDatabases"))
    assert client.post("/api/v1/login", json={"accessKeyId": key_id, "secretAccessKey": "wrong"}).status_code == 401
    logged = client.post("/api/v1/login", json={"accessKeyId": key_id, "secretAccessKey": secret})
    assert logged.status_code == 200
    assert "httponly" in logged.headers["set-cookie"].lower()
    assert client.get("/api/v1/whoami").json()["Arn"].endswith(":user/ann")
    assert client.get("/api/v1/catalog/databases").status_code == 200
    client.post("/api/v1/logout")
    assert client.get("/api/v1/whoami").status_code == 401


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/api/v1/openapi.json").json()
    return [(method.upper(), path, op) for path, item in spec["paths"].items() for method, op in item.items()]


# Routes whose resource is known only after a lookup (a crawl's crawler, a saved query's workgroup): the service
# must find the thing before it can name the ARN to authorize, so a stranger asking for one that does not exist
# gets 404 (as from AWS), and 403 for one that does.
LOOKUP_FIRST = {
    ("GET", "/api/v1/crawlers/{name}/runs/{run_id}"),
    ("GET", "/api/v1/queries/named/{named_query_id}"),
    ("DELETE", "/api/v1/queries/named/{named_query_id}"),
}


def _url(path: str, op: dict[str, Any]) -> str:
    """The path with every path parameter "x" and every required query parameter "x"."""
    url = re.sub(r"\{[^}]+\}", "x", path)
    required = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query" and p.get("required")]
    return url + ("?" + "&".join(f"{name}=x" for name in required) if required else "")


def test_every_route_names_its_iam_action_and_refuses_strangers(client: TestClient, lake: Lake) -> None:
    nobody = _user(lake, "nobody")  # a user with no policy at all
    operations = _operations(client)
    assert len(operations) >= 20
    for method, path, op in operations:
        action = op.get("x-iam-action")
        assert action, f"{method} {path} names no IAM action"
        if action == PUBLIC:
            continue
        url = _url(path, op)
        body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
        anonymous = client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        if action == "sts:GetCallerIdentity":
            continue
        denied = client.request(method, url, json=body, auth=nobody)
        allowed = (403, 400, 404) if (method, path) in LOOKUP_FIRST else (403, 400)
        assert denied.status_code in allowed, (method, path, denied.status_code, denied.text)
        if denied.status_code == 403:
            assert action in denied.json()["error"]["message"], (method, path, denied.text)
