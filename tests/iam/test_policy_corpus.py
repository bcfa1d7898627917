"""The IAM policy evaluation conformance corpus: every case in tests/fixtures/iam/*.yaml.

A fixture file is a list of groups; a group names its policies (a list of statements, wrapped in Version
2012-10-17, or a whole document) and a list of requests with the expected outcome::

    - group: deny-wins
      policies:
        user: [{Sid: AllowAll, Effect: Allow, Action: "*", Resource: "*"}]
      requests:
        - {id: get, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", expect: Allow, by: AllowAll}

``context`` holds condition keys; ``by`` is the deciding statement (Sid or ``#index``), ``policy`` its policy.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakeport.iam.evaluation import Request, evaluate, explain
from lakeport.iam.policy import Policy, parse_policy

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "iam"
OUTCOMES = ("Allow", "ExplicitDeny", "ImplicitDeny")


@cache
def _groups(file: str) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load((FIXTURES / f"{file}.yaml").read_text())
    return groups


def _load() -> list[Any]:
    cases = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        for group in _groups(path.stem):
            for request in group["requests"]:
                case_id = f"{path.stem}/{group['group']}/{request['id']}"
                cases.append(pytest.param(path.stem, group["group"], request, id=case_id))
    return cases


CASES = _load()


@cache
def _policies(file: str, group: str) -> tuple[Policy, ...]:
    spec = next(g for g in _groups(file) if g["group"] == group)
    out = []
    for name, document in spec["policies"].items():
        if isinstance(document, list):
            document = {"Version": "2012-10-17", "Statement": document}
        out.append(parse_policy(document, name=name))
    return tuple(out)


def test_corpus_is_large_and_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 250
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(("file", "group", "case"), CASES)
def test_case(file: str, group: str, case: dict[str, Any]) -> None:
    assert case["expect"] in OUTCOMES, case
    request = Request(case["action"], case["resource"], case.get("context") or {})
    decision = evaluate(_policies(file, group), request)
    why = explain(decision, request)
    assert decision.outcome == case["expect"], why
    assert decision.allowed == (case["expect"] == "Allow")
    if "by" in case:
        assert decision.statement == str(case["by"]), why
    if "policy" in case:
        assert decision.policy == case["policy"], why
