"""``/api/v1/functions`` over a real lake: register a handler from the lake's functions/ folder, invoke it, see a
handler's failure as Lambda reports it; a user who may only list cannot invoke."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lakeport import Lake
from lakeport.server import create_app
from tests.server.test_api import _allow, _user

FUNCTIONS = "/api/v1/functions"
HANDLERS = """
def greet(event, context):
    return {"hello": event.get("name", "world")}


def fail(event, context):
    raise ValueError("no luck")
"""


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("functions") / "lake")
    (lake.root / "functions").mkdir(exist_ok=True)
    (lake.root / "functions" / "api_handlers.py").write_text(HANDLERS)
    yield lake
    lake.close()


@pytest.fixture(scope="module")
def client(lake: Lake) -> TestClient:
    return TestClient(create_app(lake))


def test_register_invoke_and_delete(client: TestClient, lake: Lake) -> None:
    auth = _user(lake, "ann", _allow("lambda:*"))
    created = client.post(FUNCTIONS, json={"FunctionName": "greet", "Handler": "api_handlers:greet"}, auth=auth)
    assert created.status_code == 200, created.text
    assert created.json()["FunctionArn"].endswith(":function:greet")
    client.post(FUNCTIONS, json={"FunctionName": "fail", "Handler": "api_handlers:fail"}, auth=auth)
    assert [f["FunctionName"] for f in client.get(FUNCTIONS, auth=auth).json()["Functions"]] == ["fail", "greet"]
    assert client.get(f"{FUNCTIONS}/greet", auth=auth).json()["Configuration"]["Handler"] == "api_handlers:greet"

    answer = client.post(f"{FUNCTIONS}/greet/invoke", json={"name": "lake"}, auth=auth).json()
    assert answer["StatusCode"] == 200
    assert answer["Payload"] == {"hello": "lake"}
    failed = client.post(f"{FUNCTIONS}/fail/invoke", json={}, auth=auth).json()
    assert failed["FunctionError"] == "Unhandled"
    assert failed["Payload"]["errorType"] == "ValueError"

    missing = client.post(FUNCTIONS, json={"FunctionName": "nope", "Handler": "api_handlers:missing"}, auth=auth)
    assert missing.status_code == 400
    assert client.delete(f"{FUNCTIONS}/fail", auth=auth).status_code == 200
    assert client.get(f"{FUNCTIONS}/fail", auth=auth).status_code == 404


def test_a_lister_cannot_invoke(client: TestClient, lake: Lake) -> None:
    if not any(f.name == "greet" for f in lake.functions.list_functions()):
        lake.functions.create_function("greet", "api_handlers:greet")
    bob = _user(lake, "bob", _allow("lambda:ListFunctions"))
    denied = client.post(f"{FUNCTIONS}/greet/invoke", json={"name": "bob"}, auth=bob)
    assert denied.status_code == 403
    assert "lambda:InvokeFunction" in denied.json()["error"]["message"]
    assert client.delete(f"{FUNCTIONS}/greet", auth=bob).status_code == 403
    assert lake.functions.get_function("greet").name == "greet"  # nothing changed
