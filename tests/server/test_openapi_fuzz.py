"""The HTTP API against its own OpenAPI document, fuzzed by schemathesis (issue 10's acceptance: no 5xx, and no
response its operation does not declare or whose body breaks the declared schema).

Every operation of ``/api/v1/openapi.json`` is called in process (the ASGI app over a real lake holding one of
each thing) as a user whose policy allows everything, so each call goes through policy evaluation rather than the
administrator's shortcut. Cases are valid and invalid input both; in half of them the path parameters name the
things the lake holds, so the success paths run too, not only "not found". DELETE operations run last, so the
things they delete are there for everything else first.

Nothing is left out: crawls, job runs, queries and executions start for real (job runs and executions in worker
processes of their own, over the tiny seeded data); the one change is the event stream's ``timeout``, capped at
0.05 s, since a stream answers until its timeout ends.

Bounded and reproducible: a few derandomized examples per operation, no deadline, no example database, no
shrinking; ``FUZZ_EXAMPLES=60`` runs deeper (about four minutes).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lakeport import Lake
from lakeport.server import create_app
from tests.server.test_api import _allow, _user

Operation = APIOperation[Any, Any, Any, Any]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))  # per operation
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
API = "/api/v1"
STREAM = f"{API}/events/stream"
CSV_KEY = "staging/tracks/part.csv"
TRACKS = "s3://lakeport/staging/tracks/"
HANDLERS = "def greet(event, context):\n    return {'hello': event}\n"
MACHINE = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
ALARM = {
    "AlarmName": "busy",
    "MetricName": "Requests",
    "Namespace": "Fuzz",
    "Statistic": "Sum",
    "Period": 60,
    "EvaluationPeriods": 1,
    "Threshold": 1,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
}
JOB = {
    "name": "copy",
    "nodes": [
        {"id": "src", "type": "source", "path": TRACKS, "format": "csv"},
        {"id": "out", "type": "sink", "input": "src", "table": "music.copy", "mode": "append"},
    ],
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lake = Lake.init(tmp_path_factory.mktemp("fuzz") / "lake")
    yield lake
    lake.close()


@pytest.fixture(scope="module")
def auth_headers(lake: Lake) -> dict[str, str]:
    key_id, secret = _user(lake, "fuzzer", _allow("*"))
    return {"Authorization": "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()}


@pytest.fixture(scope="module")
def app(lake: Lake) -> Any:
    return create_app(lake)


@pytest.fixture(scope="module")
def known(lake: Lake, app: Any, auth_headers: dict[str, str]) -> dict[str, dict[str, str]]:
    return seed(lake, TestClient(app, headers=auth_headers))


def seed(lake: Lake, client: TestClient) -> dict[str, dict[str, str]]:
    """One of each thing, made through the API itself; ``path prefix → {path parameter: a name that exists}``."""
    (lake.root / "functions").mkdir(exist_ok=True)
    (lake.root / "functions" / "fuzz_handlers.py").write_text(HANDLERS)

    def call(method: str, path: str, **kwargs: Any) -> Any:
        answer = client.request(method, f"{API}{path}", **kwargs)
        assert answer.status_code == 200, (method, path, answer.text)
        return answer.json()

    call("PUT", "/storage/buckets/lakeport/objects", params={"key": CSV_KEY}, content=b"id,name\n1,a\n2,b\n")
    lake.catalog.create_database("music")
    call("POST", "/crawlers", json={"name": "tracks", "targets": [TRACKS], "database": "music"})
    crawl = lake.crawlers.start_crawler("tracks", wait=True)
    call("POST", "/jobs", json=JOB)
    named = call("POST", "/queries/named", json={"Name": "one", "QueryString": "SELECT 1"})
    query = call("POST", "/queries", json={"QueryString": "SELECT 1"})
    call("POST", "/states/machines", json={"name": "hello", "definition": MACHINE})
    execution = call("POST", "/states/machines/hello/executions", json={"name": "first", "input": {}})
    call("PUT", "/triggers/rules/nightly", json={"ScheduleExpression": "rate(1 day)", "TargetStateMachine": "hello"})
    call(
        "POST", "/triggers/schedules", json={"Name": "hourly", "ScheduleExpression": "rate(1 day)", "TargetJob": "copy"}
    )
    call("POST", "/notify/topics", json={"Name": "alerts"})
    inbox = str(lake.root / "inbox.jsonl")
    subscription = call("POST", "/notify/topics/alerts/subscriptions", json={"Protocol": "file", "Endpoint": inbox})
    call("POST", "/functions", json={"FunctionName": "greet", "Handler": "fuzz_handlers:greet"})
    call("POST", "/iam/users", json={"UserName": "ann"})
    key = call("POST", "/iam/users/ann/access-keys")
    call("POST", "/iam/groups", json={"GroupName": "readers"})
    call("POST", "/iam/roles", json={"RoleName": "etl", "AssumeRolePolicyDocument": TRUST})
    call("POST", "/iam/policies", json={"PolicyName": "shared", "PolicyDocument": POLICY})
    for owner in ("users/ann", "groups/readers", "roles/etl"):
        call("PUT", f"/iam/{owner}/policies/shared", json={"PolicyDocument": POLICY})
    call("POST", "/logs/groups", json={"logGroupName": "/fuzz/app"})
    call("POST", "/alarms", json=ALARM)
    return {
        f"{API}/storage/": {"bucket": "lakeport"},
        f"{API}/catalog/": {"database": "music", "table": "tracks"},
        f"{API}/crawlers/": {"name": "tracks", "run_id": crawl.id},
        f"{API}/jobs/": {"name": "copy", "node": "src"},
        f"{API}/queries/": {
            "workgroup": "primary",
            "named_query_id": named["NamedQueryId"],
            "execution_id": query["QueryExecutionId"],
        },
        f"{API}/states/": {"name": "hello", "execution": execution["executionArn"].rsplit(":", 1)[-1]},
        f"{API}/triggers/rules/": {"name": "nightly"},
        f"{API}/triggers/schedules/": {"name": "hourly"},
        f"{API}/notify/": {"topic": "alerts", "subscription_arn": subscription["SubscriptionArn"]},
        f"{API}/functions/": {"name": "greet"},
        f"{API}/iam/users/": {"name": "ann", "key_id": key["AccessKey"]["AccessKeyId"], "policy": "shared"},
        f"{API}/iam/groups/": {"name": "readers", "user": "ann", "policy": "shared"},
        f"{API}/iam/roles/": {"name": "etl", "policy": "shared"},
        f"{API}/iam/policies/": {"policy": "shared"},
        f"{API}/alarms/": {"name": "busy"},
    }


def _operations(app: Any) -> list[Operation]:
    # no literals mined from lakeport's source: the cases depend on the document alone, so they stay the same
    # from one commit to the next unless the document changes
    config = schemathesis.Config.from_dict({"analysis": {"constants": {"enabled": False}}})
    schema = schemathesis.openapi.from_asgi(f"{API}/openapi.json", app, config=config)
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # an operation its document describes so badly it cannot be fuzzed
        found.append(result.ok())
    return sorted(found, key=lambda operation: operation.method.upper() == "DELETE")  # stable: deletes last


def test_every_operation_answers_as_its_document_says(
    app: Any, auth_headers: dict[str, str], known: dict[str, dict[str, str]]
) -> None:
    operations = _operations(app)
    assert len(operations) >= 140, len(operations)
    failures: list[str] = []
    succeeded: set[str] = set()
    for operation in operations:
        names = next((v for prefix, v in known.items() if operation.path.startswith(prefix)), {})
        try:
            _fuzz(operation, names, auth_headers, succeeded)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup, or what the app raised (a 500)
            failures.append(f"{operation.label}: {type(exc).__name__}: {exc}")
    assert not failures, "\n\n".join(failures)
    # the success paths ran too (a broken login would make every answer a declared 401, and this pass vacuously)
    assert len(succeeded) >= 90, sorted(op.label for op in operations if op.label not in succeeded)


def _fuzz(operation: Operation, names: dict[str, str], headers: dict[str, str], succeeded: set[str]) -> None:
    """Valid and invalid cases of one operation; in about half, path parameters name things the lake holds."""
    cases = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in GenerationMode))

    @given(case=cases, existing=st.sampled_from([True, False]))  # True first: Hypothesis starts simplest
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],  # no shrinking: a failure's curl line reproduces it, and the run stays bounded
    )
    def check(case: Case[Operation], existing: bool) -> None:
        if existing and case.path_parameters:
            case.path_parameters = {k: names.get(k, v) for k, v in case.path_parameters.items()}
            if case.path.startswith(f"{API}/storage/") and case.query and "key" in case.query:
                case.query = {**case.query, "key": CSV_KEY}
        if case.path == STREAM:  # a stream ends after ?timeout= seconds; a fuzzed one could be a day
            case.query = {**(case.query or {}), "timeout": 0.05}
        answer = case.call_and_validate(headers=headers, checks=CHECKS)
        if answer.status_code < 300:
            succeeded.add(operation.label)

    check()
