"""Hypothesis properties of policy evaluation and matching."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lakeport.iam.evaluation import Request, evaluate, statement_applies
from lakeport.iam.matching import ActionMatcher, ResourceMatcher
from lakeport.iam.policy import Policy, parse_policy

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "glue:GetTable",
    "athena:StartQueryExecution",
    "sns:Publish",
]
ACTION_PATTERNS = [*ACTIONS, "*", "s3:*", "glue:Get*", "s3:?etObject", "S3:GETOBJECT", "athena:*Query*"]
RESOURCES = [
    "arn:aws:s3:::lake",
    "arn:aws:s3:::lake/staging/a.csv",
    "arn:aws:s3:::lake/home/ann/x",
    "arn:aws:glue:us-east-1:000000000000:table/music/tracks",
    "arn:aws:athena:us-east-1:000000000000:workgroup/primary",
    "arn:aws:sns:us-east-1:000000000000:alerts",
]
RESOURCE_PATTERNS = [
    *RESOURCES,
    "*",
    "arn:aws:s3:::lake/*",
    "arn:aws:s3:::lake/home/${aws:username}/*",
    "arn:aws:glue:*:*:table/music/*",
    "arn:aws:*:us-east-1:000000000000:*",
]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"aws:username": "ann"}},
    {"StringNotEquals": {"aws:username": ["ann", "bob"]}},
    {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"NumericLessThan": {"s3:max-keys": "100"}},
    {"Null": {"aws:username": "true"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "owner"]}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": "e*"}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
]
CONTEXT_VALUES: dict[str, list[Any]] = {
    "aws:username": ["ann", "bob", "*"],
    "aws:SourceIp": ["10.1.2.3", "192.0.2.1", "2001:db8::1"],
    "aws:SecureTransport": ["true", "false"],
    "s3:prefix": ["home/ann/", "home/bob/x", ""],
    "s3:max-keys": ["10", "1000", "many"],
    "aws:TagKeys": [["env"], ["env", "secret"], []],
    "aws:MultiFactorAuthPresent": ["true", "false"],
}
# a wildcard in the service segment is rejected by validation: keep that pattern out of generated policies
RESOURCE_PATTERNS.remove("arn:aws:*:us-east-1:000000000000:*")


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3))
    stmt["NotAction" if draw(st.booleans()) and draw(st.booleans()) else "Action"] = actions
    resources = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=3))
    stmt["NotResource" if draw(st.booleans()) and draw(st.booleans()) else "Resource"] = resources
    conditions = draw(st.lists(st.sampled_from(CONDITIONS), max_size=2))
    if conditions:
        merged: dict[str, Any] = {}
        for condition in conditions:
            merged.update(condition)
        stmt["Condition"] = merged
    if draw(st.booleans()):
        stmt["Sid"] = f"S{draw(st.integers(0, 10**6))}"
    return stmt


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    stmts = draw(st.lists(statements(), max_size=5))
    sids = [s.get("Sid") for s in stmts if "Sid" in s]
    if len(set(sids)) != len(sids):
        for s in stmts:
            s.pop("Sid", None)
    return {"Version": "2012-10-17", "Statement": stmts}


@st.composite
def policy_sets(draw: st.DrawFn) -> list[Policy]:
    docs = draw(st.lists(documents(), max_size=4))
    return [parse_policy(d, name=f"p{i}") for i, d in enumerate(docs)]


@st.composite
def requests(draw: st.DrawFn) -> Request:
    keys = draw(st.lists(st.sampled_from(sorted(CONTEXT_VALUES)), unique=True))
    context = {k: draw(st.sampled_from(CONTEXT_VALUES[k])) for k in keys}
    return Request(draw(st.sampled_from(ACTIONS)), draw(st.sampled_from(RESOURCES)), context)


@settings(max_examples=150, deadline=None)
@given(policy_sets(), statements(effect="Deny"), requests())
def test_adding_a_deny_never_allows_more(policies: list[Policy], deny: dict[str, Any], request: Request) -> None:
    before = evaluate(policies, request)
    guard = parse_policy({"Version": "2012-10-17", "Statement": [deny]}, name="guard")
    after = evaluate([*policies, guard], request)
    if not before.allowed:
        assert not after.allowed
    if statement_applies(guard.statements[0], request):
        assert after.outcome == "ExplicitDeny"
    else:
        assert after.allowed == before.allowed


@settings(max_examples=100, deadline=None)
@given(st.lists(documents(), max_size=3), requests())
def test_allow_star_star_allows_everything_without_deny(docs: list[dict[str, Any]], request: Request) -> None:
    allows = [{**d, "Statement": [s for s in d["Statement"] if s["Effect"] == "Allow"]} for d in docs]
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    policies = [parse_policy(d, name=f"p{i}") for i, d in enumerate([*allows, admin])]
    assert evaluate(policies, request).allowed


@settings(max_examples=150, deadline=None)
@given(policy_sets(), requests(), st.randoms(use_true_random=False))
def test_order_of_statements_and_policies_does_not_matter(policies: list[Policy], request: Request, rnd: Any) -> None:
    shuffled = []
    for policy in policies:
        stmts = list(policy.statements)
        rnd.shuffle(stmts)
        shuffled.append(Policy(policy.name, tuple(stmts), policy.version))
    rnd.shuffle(shuffled)
    first, second = evaluate(policies, request), evaluate(shuffled, request)
    assert (first.allowed, first.outcome) == (second.allowed, second.outcome)


@settings(max_examples=100, deadline=None)
@given(documents())
def test_parse_to_dict_parse_round_trips(document: dict[str, Any]) -> None:
    policy = parse_policy(document, name="rt")
    again = parse_policy(policy.to_dict(), name="rt")
    assert again == policy
    assert again.to_dict() == policy.to_dict()


NAME_CHARS = st.sampled_from("abcXYZ019-_/.:")


@settings(max_examples=150, deadline=None)
@given(st.text(NAME_CHARS, min_size=1, max_size=20), st.data())
def test_wildcarding_a_name_still_matches_it(name: str, data: st.DataObject) -> None:
    """Replacing any span of a name with ``*`` (or one character with ``?``) gives a pattern that matches it."""
    start = data.draw(st.integers(0, len(name)))
    end = data.draw(st.integers(start, len(name)))
    star = name[:start] + "*" + name[end:]
    assert ActionMatcher([f"svc:{star}"]).matches(f"SVC:{name.upper()}")
    arn = f"arn:aws:s3:::{name.replace(':', '')}"
    cut = data.draw(st.integers(len("arn:aws:s3:::"), len(arn)))
    assert ResourceMatcher([arn[:cut] + "*"]).matches(arn, {})
    if end > start and name[start] != ":":
        question = name[:start] + "?" + name[start + 1 :]
        assert ResourceMatcher([f"arn:aws:s3:::x/{question}"]).matches(f"arn:aws:s3:::x/{name}", {})


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["StringEquals", "StringLike", "IpAddress", "NumericEquals", "ArnLike"]), requests())
def test_negated_operator_is_the_complement_for_present_single_values(positive: str, request: Request) -> None:
    values = {
        "StringEquals": ("aws:username", "ann"),
        "StringLike": ("aws:username", "a*"),
        "IpAddress": ("aws:SourceIp", "10.0.0.0/8"),
        "NumericEquals": ("s3:max-keys", "10"),
        "ArnLike": ("aws:username", "arn:aws:iam::*:user/*"),
    }
    negated = {"IpAddress": "NotIpAddress"}.get(
        positive, positive.replace("Equals", "NotEquals").replace("Like", "NotLike")
    )
    key, value = values[positive]
    results = []
    for operator in (positive, negated):
        doc = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {operator: {key: value}}}],
        }
        results.append(evaluate([parse_policy(doc)], request).allowed)
    present = request.context.get(key.lower())
    if isinstance(present, str):
        assert results[0] != results[1]
    else:
        assert results == [False, True]
