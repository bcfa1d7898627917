"""The Spotify pipeline's least-privilege starter policies (examples/spotify/iam/) parse and decide as meant."""

from __future__ import annotations

import pytest

from lakeport import Lake
from lakeport.iam.policy import parse_policy
from tests.conftest import REPO

EXAMPLES = REPO / "examples" / "spotify" / "iam"
GLUE = "arn:aws:glue:us-east-1:000000000000"
S3 = "arn:aws:s3:::lakeport"
PRIMARY = "arn:aws:athena:us-east-1:000000000000:workgroup/primary"

CASES = [
    ("etl-role", "s3:GetObject", f"{S3}/staging/spotify/albums.csv", True),
    ("etl-role", "s3:PutObject", f"{S3}/staging/spotify/albums.csv", False),
    ("etl-role", "s3:PutObject", f"{S3}/warehouse/spotify/tracks/data/1.parquet", True),
    ("etl-role", "glue:UpdateTable", f"{GLUE}:table/spotify/tracks", True),
    ("etl-role", "glue:DeleteTable", f"{GLUE}:table/spotify/tracks", False),
    ("etl-role", "glue:CreateTable", f"{GLUE}:table/sales/orders", False),
    ("etl-role", "glue:StartJobRun", f"{GLUE}:job/spotify", True),
    ("etl-role", "glue:StartJobRun", f"{GLUE}:job/other", False),
    ("analyst", "athena:StartQueryExecution", PRIMARY, True),
    ("analyst", "athena:GetQueryResults", PRIMARY, True),
    ("analyst", "athena:DeleteWorkGroup", PRIMARY, False),
    ("analyst", "athena:StartQueryExecution", "arn:aws:athena:us-east-1:000000000000:workgroup/etl", False),
    ("analyst", "glue:GetPartitions", f"{GLUE}:table/spotify/tracks", True),
    ("analyst", "glue:UpdateTable", f"{GLUE}:table/spotify/tracks", False),
    ("analyst", "s3:GetObject", f"{S3}/warehouse/spotify/tracks/data/1.parquet", True),
    ("analyst", "s3:GetObject", f"{S3}/staging/spotify/albums.csv", False),
    ("analyst", "s3:PutObject", f"{S3}/results/1.csv", True),
    ("analyst", "s3:PutObject", f"{S3}/warehouse/spotify/x", False),
    ("viewer", "lakeport:GetDashboard", "*", True),
    ("viewer", "lakeport:ListDashboards", "*", True),
    ("viewer", "lakeport:UpdateDashboard", "*", False),
    ("viewer", "s3:GetObject", f"{S3}/warehouse/spotify/x", False),
]


@pytest.mark.parametrize("name", ["etl-role", "analyst", "viewer"])
def test_each_example_parses(name: str) -> None:
    policy = parse_policy((EXAMPLES / f"{name}.json").read_text(), name=name)
    assert policy.statements
    assert all(s.sid for s in policy.statements)


def test_the_examples_allow_what_the_pipeline_needs_and_nothing_else(local_lake: Lake) -> None:
    iam = local_lake.iam
    for name in ("etl-role", "analyst", "viewer"):
        iam.create_policy(name, (EXAMPLES / f"{name}.json").read_text())
        iam.create_user(f"u-{name}")
        iam.attach_user_policy(f"u-{name}", name)
    wrong = [
        (name, action, resource)
        for name, action, resource, allowed in CASES
        if iam.simulate(f"u-{name}", action, resource).allowed != allowed
    ]
    assert wrong == []
