"""IAM policy evaluation throughput: evaluations per second for a 20-statement policy set.

    .venv/bin/python bench/iam_bench.py [--seconds 2]

``evaluate`` runs on every service operation, so this is the per-call cost of authorization: a user policy,
two group policies and a guardrail (20 statements), with wildcards, policy variables and conditions.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from lakeport.iam.evaluation import Request, evaluate
from lakeport.iam.policy import Policy, parse_policy

GLUE = "arn:aws:glue:us-east-1:000000000000"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def policy_set() -> list[Policy]:
    user = _doc(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::lake/home/${aws:username}/*",
        },
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::lake",
            "Condition": {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
        },
        {
            "Effect": "Allow",
            "Action": "athena:*Query*",
            "Resource": "arn:aws:athena:us-east-1:000000000000:workgroup/primary",
        },
        {
            "Effect": "Allow",
            "Action": "glue:Get*",
            "Resource": [f"{GLUE}:catalog", f"{GLUE}:database/music", f"{GLUE}:table/music/*"],
        },
        {
            "Effect": "Allow",
            "Action": "states:StartExecution",
            "Resource": "arn:aws:states:us-east-1:000000000000:stateMachine:daily-*",
        },
    )
    analysts = _doc(
        *[
            {"Effect": "Allow", "Action": f"glue:Get{t}", "Resource": f"{GLUE}:table/db{i}/*"}
            for i, t in enumerate(["Table", "Partitions", "Tables", "Partition", "TableVersion"])
        ],
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::lake/warehouse/*",
            "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}},
        },
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:000000000000:pipeline-*"},
    )
    engineers = _doc(
        {"Effect": "Allow", "Action": ["glue:StartJobRun", "glue:GetJobRun*"], "Resource": f"{GLUE}:job/spotify-*"},
        {
            "Effect": "Allow",
            "Action": "logs:*",
            "Resource": "arn:aws:logs:us-east-1:000000000000:log-group:/aws-glue/*",
        },
        {
            "Effect": "Allow",
            "Action": "glue:StartCrawler",
            "Resource": f"{GLUE}:crawler/*",
            "Condition": {"NumericLessThan": {"glue:Workers": "10"}},
        },
        {
            "Effect": "Allow",
            "NotAction": "iam:*",
            "Resource": "arn:aws:s3:::scratch/*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "data"}},
        },
    )
    guardrails = _doc(
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Effect": "Deny", "Action": ["glue:Delete*", "athena:DeleteWorkGroup"], "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        },
        {"Effect": "Deny", "NotAction": ["s3:*", "glue:*", "athena:*", "states:*", "sns:*", "logs:*"], "Resource": "*"},
    )
    docs = {"user-ann": user, "group-analysts": analysts, "group-engineers": engineers, "guardrails": guardrails}
    policies = [parse_policy(d, name=n) for n, d in docs.items()]
    assert sum(len(p.statements) for p in policies) == 20
    return policies


def requests() -> list[Request]:
    context = {
        "aws:username": "ann",
        "aws:SourceIp": "10.1.2.3",
        "aws:SecureTransport": "true",
        "aws:CurrentTime": "2026-05-01T12:00:00Z",
        "aws:PrincipalTag/team": "data",
    }
    return [
        Request("s3:GetObject", "arn:aws:s3:::lake/home/ann/notes.txt", context),
        Request("s3:GetObject", "arn:aws:s3:::lake/warehouse/music/tracks/x.parquet", context),
        Request("athena:StartQueryExecution", "arn:aws:athena:us-east-1:000000000000:workgroup/primary", context),
        Request("glue:GetTable", f"{GLUE}:table/music/tracks", context),
        Request("glue:DeleteTable", f"{GLUE}:table/music/tracks", context),
        Request("iam:CreateUser", "arn:aws:iam::000000000000:user/eve", context),
        Request("s3:PutObject", "arn:aws:s3:::lake/home/bob/x", context),  # implicit deny: every statement checked
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="how long to run")
    args = parser.parse_args()
    start = time.perf_counter()
    policies = policy_set()
    parse_ms = (time.perf_counter() - start) * 1000
    batch = requests()
    outcomes = [evaluate(policies, r).outcome for r in batch]
    count = 0
    start = time.perf_counter()
    deadline = start + args.seconds
    while time.perf_counter() < deadline:
        for request in batch:
            evaluate(policies, request)
        count += len(batch)
    elapsed = time.perf_counter() - start
    print(f"parse 4 policies / 20 statements: {parse_ms:.1f} ms (first parse, includes regex compilation)")
    print(f"outcomes: {', '.join(outcomes)}")
    print(f"evaluate: {count / elapsed:,.0f} evaluations/second ({elapsed / count * 1e6:.1f} µs each)")


if __name__ == "__main__":
    main()
