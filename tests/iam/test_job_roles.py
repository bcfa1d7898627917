"""Jobs and crawlers read and write only what their role allows: Glue assumes the role for each run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lakeport import Lake
from lakeport.crawler import CrawlerDefinition
from lakeport.errors import AccessDenied
from tests.etl.jobs_kit import copy_job

REPO = Path(__file__).resolve().parents[2]
ROLE_ARN = "arn:aws:iam::000000000000:role/etl"
GLUE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}

STATES_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _etl_policy() -> dict[str, Any]:
    """examples/spotify/iam/etl-role.json, with the test's folders, database and job."""
    text = (REPO / "examples/spotify/iam/etl-role.json").read_text(encoding="utf-8")
    text = text.replace("staging/spotify/", "staging/in/").replace("warehouse/spotify/", "warehouse/db/")
    text = text.replace("database/spotify", "database/db").replace("table/spotify/", "table/db/")
    policy: dict[str, Any] = json.loads(text.replace("job/spotify", "job/copy"))
    return policy


def _read_only() -> dict[str, Any]:
    policy = _etl_policy()
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        statement["Action"] = [a for a in actions if a in ("s3:GetObject", "s3:ListBucket", "glue:GetTable",
                                                           "glue:GetDatabase")] or ["s3:GetObject"]  # fmt: skip
    return policy


@pytest.fixture
def staged(local_lake: Lake) -> Lake:
    local_lake.storage.put_object("lakeport", "staging/in/a.csv", b"id,amount\n1,10\n2,20\n")
    local_lake.catalog.create_database("db")
    return local_lake


def _job(role: str) -> Any:
    return copy_job("copy", "s3://lakeport/staging/in/", "db.copy", columns={"id": "bigint", "amount": "bigint"},
                    role=role)  # fmt: skip


def _snapshots(lake: Lake) -> list[int]:
    if "copy" not in [t.name for t in lake.catalog.list_tables("db")]:
        return []
    return [s.snapshot_id for s in lake.warehouse.history("db", "copy")]


def test_a_run_acts_as_its_role_and_succeeds_with_the_etl_policy(staged: Lake) -> None:
    staged.iam.create_role("etl", GLUE_TRUST)
    staged.iam.put_role_policy("etl", "etl", _etl_policy())
    staged.jobs.create_job(_job("etl"))
    run = staged.jobs.start_job_run("copy", wait=True)
    assert run.state == "SUCCEEDED", run.error
    assert len(_snapshots(staged)) == 1
    events = staged.iam.lookup_events(principal="etl", decision="Allow")
    assert any(e.principal.startswith("arn:aws:sts::000000000000:assumed-role/etl/jr_") for e in events)


def test_a_role_that_may_only_read_fails_the_run_and_keeps_the_previous_snapshot(staged: Lake) -> None:
    staged.iam.create_role("etl", GLUE_TRUST)
    staged.iam.put_role_policy("etl", "etl", _etl_policy())
    staged.jobs.create_job(_job("etl"))
    assert staged.jobs.start_job_run("copy", wait=True).state == "SUCCEEDED"
    before = _snapshots(staged)
    staged.iam.put_role_policy("etl", "etl", _read_only())
    staged.storage.put_object("lakeport", "staging/in/b.csv", b"id,amount\n3,30\n")
    run = staged.jobs.start_job_run("copy", wait=True)
    assert run.state == "FAILED"
    error = run.error or ""
    assert "assumed-role/etl/" in error
    assert any(action in error for action in ("s3:PutObject", "glue:UpdateTable", "glue:CreateTable")), error
    assert _snapshots(staged) == before


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda lake: None, "role etl does not exist"),
        (lambda lake: lake.iam.create_role("etl", STATES_TRUST), "role etl does not trust glue.amazonaws.com"),
    ],
)  # fmt: skip
def test_a_missing_or_untrusting_role_fails_the_run_with_a_one_line_reason(
    staged: Lake, setup: Any, reason: str
) -> None:
    setup(staged)
    staged.jobs.create_job(_job("etl"))
    run = staged.jobs.start_job_run("copy", wait=True)
    assert run.state == "FAILED"
    assert reason in (run.error or "")
    assert "\n" not in (run.error or "")
    assert _snapshots(staged) == []


def test_giving_a_job_or_crawler_a_role_needs_pass_role(staged: Lake) -> None:
    iam = staged.iam
    iam.create_role("etl", GLUE_TRUST)
    iam.create_user("dev")
    glue = "arn:aws:glue:us-east-1:000000000000"
    allow = [{"Effect": "Allow", "Action": ["glue:CreateJob", "glue:GetJob", "glue:CreateCrawler", "glue:GetCrawler"],
              "Resource": [f"{glue}:job/copy", f"{glue}:crawler/c"]}]  # fmt: skip
    iam.put_user_policy("dev", "dev", {"Version": "2012-10-17", "Statement": allow})
    dev = staged.as_principal(iam.resolve("dev"))
    crawler = CrawlerDefinition(name="c", targets=("s3://lakeport/staging/in/",), database="db", role=ROLE_ARN)
    for call in (lambda: dev.jobs.create_job(_job("etl")), lambda: dev.crawlers.create_crawler(crawler)):
        with pytest.raises(AccessDenied) as info:
            call()
        assert f"iam:PassRole on resource: {ROLE_ARN}" in info.value.message
    assert staged.jobs.list_jobs() == []
    assert staged.crawlers.list_crawlers() == []
    allow.append({"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE_ARN})
    iam.put_user_policy("dev", "dev", {"Version": "2012-10-17", "Statement": allow})
    assert dev.jobs.create_job(_job("etl")).name == "copy"
    assert dev.crawlers.create_crawler(crawler).name == "c"


def test_a_crawler_acts_as_its_role(staged: Lake) -> None:
    staged.iam.create_role("crawl", GLUE_TRUST)
    read = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}
    staged.iam.put_role_policy("crawl", "read", {"Version": "2012-10-17", "Statement": [read]})
    staged.crawlers.create_crawler(
        CrawlerDefinition(name="c", targets=("s3://lakeport/staging/in/",), database="db", role="crawl")
    )
    run = staged.crawlers.start_crawler("c", wait=True)
    assert run.status != "SUCCEEDED"
    assert "assumed-role/crawl/" in (run.error or "")
    assert staged.catalog.list_tables("db") == []
    glue = {"Effect": "Allow", "Action": "glue:*", "Resource": "*"}
    staged.iam.put_role_policy("crawl", "read", {"Version": "2012-10-17", "Statement": [read, glue]})
    assert staged.crawlers.start_crawler("c", wait=True).status == "SUCCEEDED"
    assert [t.name for t in staged.catalog.list_tables("db")] == ["in"]
