"""Policy grammar: what parse_policy rejects (naming statement and field), what validate_policy warns about."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lakeport.errors import InvalidInput
from lakeport.iam.policy import Finding, PolicyError, parse_policy, validate_policy


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    out: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        out["Version"] = version
    return out


def ok(**extra: Any) -> dict[str, Any]:
    return {"Sid": "S1", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", **extra}


def without(key: str, **extra: Any) -> dict[str, Any]:
    stmt = ok(**extra)
    del stmt[key]
    return stmt


ERRORS = [
    (
        "misspelled-statement-key",
        doc(without("Action", Actions="s3:GetObject")),
        "S1",
        "Actions",
        "did you mean Action",
    ),
    ("unknown-top-level-key", {"Version": "2012-10-17", "Statment": []}, None, "Statment", "did you mean Statement"),
    ("no-statement", {"Version": "2012-10-17"}, None, "Statement", "needs a Statement"),
    ("effect-lower-case", doc(ok(Effect="allow")), "S1", "Effect", "Allow or Deny"),
    ("effect-missing", doc(without("Effect")), "S1", "Effect", "Allow or Deny"),
    ("both-action-and-notaction", doc(ok(NotAction="s3:PutObject")), "S1", "Action", "both Action and NotAction"),
    ("neither-action", doc(without("Action")), "S1", "Action", "neither Action nor NotAction"),
    ("action-without-colon", doc(ok(Action="s3GetObject")), "S1", "Action", "malformed action 's3GetObject'"),
    ("action-empty-name", doc(ok(Action="s3:")), "S1", "Action", "malformed action 's3:'"),
    ("action-empty-service", doc(ok(Action=":GetObject")), "S1", "Action", "malformed action"),
    ("action-with-space", doc(ok(Action="s3:Get Object")), "S1", "Action", "malformed action"),
    ("action-empty-list", doc(ok(Action=[])), "S1", "Action", "non-empty"),
    ("action-not-a-string", doc(ok(Action=42)), "S1", "Action", "non-empty string"),
    ("notaction-malformed", doc(without("Action", NotAction="iam")), "S1", "NotAction", "malformed action 'iam'"),
    ("arn-too-few-parts", doc(ok(Resource="arn:aws:s3")), "S1", "Resource", "malformed ARN 'arn:aws:s3'"),
    ("resource-not-arn", doc(ok(Resource="bucket/key")), "S1", "Resource", "malformed ARN"),
    ("arn-empty-service", doc(ok(Resource="arn:aws::us-east-1:1:thing")), "S1", "Resource", "must not be empty"),
    ("arn-wildcard-service", doc(ok(Resource="arn:aws:s*:::b")), "S1", "Resource", "service segment"),
    ("resource-missing", doc(without("Resource")), "S1", "Resource", "Resource or NotResource"),
    ("resource-and-notresource", doc(ok(NotResource="*")), "S1", "Resource", "both Resource and NotResource"),
    ("notresource-malformed", doc(without("Resource", NotResource="arn:aws")), "S1", "NotResource", "malformed ARN"),
    ("unterminated-variable", doc(ok(Resource="arn:aws:s3:::b/${aws:username")), "S1", "Resource", "unterminated"),
    ("malformed-variable", doc(ok(Resource="arn:aws:s3:::b/${a b}")), "S1", "Resource", "malformed policy variable"),
    ("version-wrong", doc(ok(), version="2020-01-01"), None, "Version", "2012-10-17"),
    ("unknown-operator", doc(ok(Condition={"StringEqual": {"aws:username": "x"}})), "S1", "Condition", "unknown"),
    (
        "unknown-set-prefix",
        doc(ok(Condition={"ForSomeValues:StringEquals": {"a:b": "x"}})),
        "S1",
        "Condition",
        "unknown",
    ),
    ("null-if-exists", doc(ok(Condition={"NullIfExists": {"a:b": "true"}})), "S1", "Condition", "unknown"),
    (
        "numeric-not-number",
        doc(ok(Condition={"NumericLessThan": {"s3:max-keys": "ten"}})),
        "S1",
        "s3:max-keys",
        "not a number",
    ),
    (
        "date-not-date",
        doc(ok(Condition={"DateLessThan": {"aws:CurrentTime": "soon"}})),
        "S1",
        "aws:CurrentTime",
        "ISO 8601",
    ),
    ("ip-not-cidr", doc(ok(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}})), "S1", "aws:SourceIp", "CIDR"),
    (
        "bool-not-bool",
        doc(ok(Condition={"Bool": {"aws:SecureTransport": "yes"}})),
        "S1",
        "aws:SecureTransport",
        "true or false",
    ),
    ("null-not-bool", doc(ok(Condition={"Null": {"aws:SourceIp": "maybe"}})), "S1", "aws:SourceIp", "true or false"),
    ("binary-not-base64", doc(ok(Condition={"BinaryEquals": {"a:b": "%%%"}})), "S1", "a:b", "base64"),
    ("condition-not-object", doc(ok(Condition=["StringEquals"])), "S1", "Condition", "non-empty object"),
    ("condition-value-object", doc(ok(Condition={"StringEquals": {"a:b": {"x": 1}}})), "S1", "a:b", "strings, numbers"),
    ("principal-in-identity", doc(ok(Principal="*")), "S1", "Principal", "identity-based policies"),
    ("sid-not-alphanumeric", doc(ok(Sid="read-lake")), "read-lake", "Sid", "alphanumeric"),
    ("duplicate-sid", doc(ok(), ok()), "S1", "Sid", "duplicate"),
    ("statement-not-object", {"Version": "2012-10-17", "Statement": ["x"]}, "#0", None, "JSON object"),
    (
        "statement-index-named",
        doc(ok(), {"Effect": "Allow", "Action": "s3:", "Resource": "*"}),
        "#1",
        "Action",
        "malformed",
    ),
]


@pytest.mark.parametrize(
    ("document", "statement", "field", "text"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_errors_name_statement_and_field(document: Any, statement: str | None, field: str | None, text: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(document, name="TestPolicy")
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert error.http_status == 400
    assert error.code == "MalformedPolicyDocument"
    assert "policy TestPolicy" in error.message
    found = [f for f in error.findings if text in f.message]
    assert found, error.findings
    assert found[0].severity == "error"
    assert found[0].statement == statement
    if field is not None:
        assert field in (found[0].field or "")
    assert all(f in validate_policy(document) for f in error.findings)


def test_message_names_statement_and_field() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(doc(ok(Sid="DenyProd", Effect="Deny", Action="s3GetObject")), name="guard")
    assert caught.value.message.startswith("policy guard: statement DenyProd, Action: malformed action 's3GetObject'")


def test_several_errors_are_all_reported() -> None:
    bad = doc(ok(Effect="Permit", Action="x", Resource="arn:aws"))
    with pytest.raises(PolicyError) as caught:
        parse_policy(bad)
    assert len(caught.value.findings) == 3
    assert caught.value.hint is not None
    assert "2 more error(s)" in caught.value.hint


def test_not_json() -> None:
    with pytest.raises(PolicyError, match=r"not valid JSON: .* line 1, column"):
        parse_policy('{"Version": "2012-10-17",')


def test_not_an_object() -> None:
    with pytest.raises(PolicyError, match="must be a JSON object"):
        parse_policy("[1, 2]")


WARNINGS = [
    ("unknown-service", doc(ok(Action="s4:GetObject")), "Action", "unknown service prefix 's4'"),
    ("missing-version", doc(ok(), version=None), "Version", "2008-10-17"),
    (
        "variable-in-2008",
        doc(ok(Resource="arn:aws:s3:::b/${aws:username}"), version="2008-10-17"),
        "Resource",
        "literally",
    ),
    ("key-without-prefix", doc(ok(Condition={"StringEquals": {"username": "x"}})), "username", "service prefix"),
]


@pytest.mark.parametrize(("document", "field", "text"), [w[1:] for w in WARNINGS], ids=[w[0] for w in WARNINGS])
def test_warnings_do_not_block_parsing(document: Any, field: str, text: str) -> None:
    findings = validate_policy(document)
    assert [f.severity for f in findings] == ["warning"], findings
    assert field in (findings[0].field or "")
    assert text in findings[0].message
    parse_policy(document)


VALID = [
    doc(ok()),
    doc(ok(Action=["s3:Get*", "S3:list*", "*"], Resource=["*", "arn:aws:s3:::b"])),
    doc(without("Action", NotAction="iam:*")),
    doc(without("Resource", NotResource="arn:aws:s3:::secret/*")),
    doc(ok(Resource="arn:aws:states:us-east-1:*")),
    doc(ok(Resource="arn:aws:s3:::b/${aws:username}/${*}${?}${$}/${aws:PrincipalTag/team, 'x'}")),
    doc(ok(Condition={"forallvalues:stringequals": {"aws:TagKeys": ["a", "b"]}})),
    doc(ok(Condition={"NumericLessThanEquals": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": True}})),
    doc(
        ok(
            Condition={
                "DateGreaterThan": {"aws:CurrentTime": ["2026-01-01", "1767225600", "2026-01-01T00:00:00+02:00"]}
            }
        )
    ),
    doc(ok(Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"]}})),
    doc(ok(Condition={"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}, "Null": {"aws:TokenIssueTime": "true"}})),
    doc({"Effect": "Deny", "Action": "*", "Resource": "*"}),
    {"Version": "2012-10-17", "Id": "p1", "Statement": ok()},
]


@pytest.mark.parametrize("document", VALID, ids=[f"valid-{i}" for i in range(len(VALID))])
def test_valid_policies_have_no_findings(document: dict[str, Any]) -> None:
    assert validate_policy(document) == []
    assert validate_policy(json.dumps(document)) == []
    policy = parse_policy(json.dumps(document), name="ok")
    assert parse_policy(policy.to_dict(), name="ok") == policy


def test_operator_names_are_canonicalized() -> None:
    policy = parse_policy(doc(ok(Condition={"forallvalues:stringequalsifexists": {"aws:TagKeys": "a"}})))
    assert list(policy.statements[0].conditions) == ["ForAllValues:StringEqualsIfExists"]


def test_resource_and_trust_policies() -> None:
    bucket = doc(ok(Principal={"AWS": "arn:aws:iam::000000000000:user/ann"}))
    assert validate_policy(bucket, kind="resource") == []
    stmt = parse_policy(bucket, kind="resource").statements[0]
    assert stmt.principal == {"AWS": ("arn:aws:iam::000000000000:user/ann",)}
    trust = doc({"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"})
    assert validate_policy(trust, kind="trust") == []
    assert parse_policy(trust, kind="trust").statements[0].resources is None
    no_principal = validate_policy(doc(ok()), kind="resource")
    assert any("needs a Principal" in f.message for f in no_principal)
    not_principal_allow = doc(ok(NotPrincipal={"AWS": "arn:aws:iam::000000000000:root"}))
    assert any(
        "only be used with Effect Deny" in f.message for f in validate_policy(not_principal_allow, kind="resource")
    )
    bad_type = validate_policy(doc(ok(Principal={"Servce": "glue.amazonaws.com"})), kind="resource")
    assert any("did you mean Service" in f.message for f in bad_type)
    with pytest.raises(ValueError, match="kind must be"):
        validate_policy(doc(ok()), kind="session")


def test_finding_renders_one_line() -> None:
    finding = Finding("error", "S1", "Action", "malformed action 'x'")
    assert str(finding) == "error: statement S1, Action: malformed action 'x'"
    assert str(Finding("warning", None, None, "hm")) == "warning: hm"


def test_to_json_round_trip() -> None:
    policy = parse_policy(doc(ok(Condition={"StringLike": {"s3:prefix": ["a/*", "b/*"]}})), name="p")
    assert parse_policy(policy.to_json(), name="p") == policy
    assert policy.to_dict()["Statement"][0]["Condition"] == {"StringLike": {"s3:prefix": ["a/*", "b/*"]}}
