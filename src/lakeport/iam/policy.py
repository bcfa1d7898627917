"""The IAM policy language: parse and validate a policy document into :class:`Policy` / :class:`Statement`.

``parse_policy`` accepts a JSON string or a mapping and raises :class:`PolicyError` naming the statement (its Sid,
or ``#index``) and the field at fault; ``validate_policy`` returns every error and warning as :class:`Finding` rows,
as IAM Access Analyzer does. Grammar: IAM User Guide, "IAM JSON policy element reference" and "policy grammar".
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lakeport.errors import InvalidInput
from lakeport.iam.conditions import ConditionBlock, validate_condition
from lakeport.iam.matching import ActionMatcher, ResourceMatcher, TemplateError, parse_template

VERSIONS = ("2012-10-17", "2008-10-17")
KINDS = ("identity", "resource", "trust")
TOP_KEYS = ("Version", "Id", "Statement")
# fmt: off
STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal",
                  "Condition")
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
KNOWN_SERVICES = frozenset((
    "s3", "glue", "athena", "states", "sns", "sqs", "logs", "cloudwatch", "events", "scheduler", "iam", "sts",
    "quicksight", "lakeformation", "kms", "ec2", "lambda", "dynamodb", "cloudtrail", "secretsmanager", "ssm", "tag",
    "resource-groups", "access-analyzer", "organizations", "kinesis", "firehose", "redshift", "elasticmapreduce",
    "cloudformation", "apigateway", "ecr", "ecs", "sagemaker", "xray",
    "lakeport",  # lakeport's own actions (dashboards)
))
# fmt: on
_ACTION = re.compile(r"^[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+$")
_SID = re.compile(r"^[A-Za-z0-9]*$")


class PolicyError(InvalidInput):
    """A policy document that IAM would reject; ``findings`` holds every error found."""

    default_code = "MalformedPolicyDocument"

    def __init__(self, message: str, *, hint: str | None = None, findings: list[Finding] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.findings = findings or []


@dataclass(frozen=True)
class Finding:
    """One validation result: ``severity`` is ``"error"`` (IAM rejects the policy) or ``"warning"``."""

    severity: str
    statement: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(x for x in (f"statement {self.statement}" if self.statement else None, self.field) if x)
        return f"{self.severity}: {where + ': ' if where else ''}{self.message}"


@dataclass(frozen=True)
class Statement:
    """One statement; exactly one of ``actions``/``not_actions`` is set, and (except in trust policies) one of
    ``resources``/``not_resources``. ``conditions`` maps operator → condition key → values."""

    sid: str | None
    effect: str
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    principal: Mapping[str, tuple[str, ...]] | None = None
    not_principal: Mapping[str, tuple[str, ...]] | None = None
    index: int = field(default=0, compare=False)
    variables: bool = field(default=True, compare=False)  # policy variables apply (Version 2012-10-17)

    @property
    def label(self) -> str:
        """The Sid, or ``#index`` for a statement without one."""
        return self.sid or f"#{self.index}"

    @cached_property
    def action_matcher(self) -> ActionMatcher:
        return ActionMatcher(self.actions if self.actions is not None else self.not_actions or ())

    @cached_property
    def resource_matcher(self) -> ResourceMatcher | None:
        patterns = self.resources if self.resources is not None else self.not_resources
        return None if patterns is None else ResourceMatcher(patterns, variables=self.variables)

    @cached_property
    def condition_block(self) -> ConditionBlock:
        return ConditionBlock(self.conditions, variables=self.variables)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.sid is not None:
            out["Sid"] = self.sid
        out["Effect"] = self.effect
        for key, value in (("Principal", self.principal), ("NotPrincipal", self.not_principal)):
            if value is not None:
                out[key] = {k: list(v) for k, v in value.items()}
        for key, values in (
            ("Action", self.actions),
            ("NotAction", self.not_actions),
            ("Resource", self.resources),
            ("NotResource", self.not_resources),
        ):
            if values is not None:
                out[key] = list(values)
        if self.conditions:
            out["Condition"] = {op: {k: list(v) for k, v in keys.items()} for op, keys in self.conditions.items()}
        return out


@dataclass(frozen=True)
class Policy:
    """A parsed policy document, named (managed policy name, inline policy name, or ``policy``)."""

    name: str
    statements: tuple[Statement, ...]
    version: str = "2012-10-17"
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Version": self.version}
        if self.id is not None:
            out["Id"] = self.id
        out["Statement"] = [s.to_dict() for s in self.statements]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def parse_policy(document: str | Mapping[str, Any], *, name: str = "policy", kind: str = "identity") -> Policy:
    """Parse and validate; raise :class:`PolicyError` on the first error (all errors in ``.findings``).

    ``kind`` is ``identity`` (user/group/role policies: no Principal), ``resource`` (bucket/topic policies: Principal
    required) or ``trust`` (role trust policies: Principal required, Resource optional).
    """
    policy, findings = _parse(document, name=name, kind=kind)
    errors = [f for f in findings if f.severity == "error"]
    if errors or policy is None:
        first = errors[0]
        hint = None
        if len(errors) > 1:
            hint = f"{len(errors) - 1} more error(s): " + "; ".join(str(e) for e in errors[1:4])
        raise PolicyError(f"policy {name}: {str(first).removeprefix('error: ')}", hint=hint, findings=errors)
    return policy


def validate_policy(document: str | Mapping[str, Any], *, kind: str = "identity") -> list[Finding]:
    """Every error and warning in ``document`` (an empty list for a clean policy)."""
    return _parse(document, name="policy", kind=kind)[1]


class _Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def error(self, statement: str | None, where: str | None, message: str) -> None:
        self.findings.append(Finding("error", statement, where, message))

    def warn(self, statement: str | None, where: str | None, message: str) -> None:
        self.findings.append(Finding("warning", statement, where, message))


def _suggest(key: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _parse(document: str | Mapping[str, Any], *, name: str, kind: str) -> tuple[Policy | None, list[Finding]]:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    out = _Collector()
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            out.error(None, None, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
            return None, out.findings
    if not isinstance(document, Mapping):
        out.error(None, None, "a policy document must be a JSON object")
        return None, out.findings
    for key in document:
        if key not in TOP_KEYS:
            out.error(None, str(key), f"unknown top-level element {key!r}{_suggest(str(key), TOP_KEYS)}")
    version = document.get("Version")
    if version is None:
        out.warn(None, "Version", "no Version: IAM assumes 2008-10-17, where policy variables are not supported")
        version = "2008-10-17"
    elif version not in VERSIONS:
        out.error(None, "Version", f"Version must be 2012-10-17 or 2008-10-17, not {version!r}")
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        out.error(None, "Id", "Id must be a string")
    raw = document.get("Statement")
    if raw is None:
        out.error(None, "Statement", "a policy needs a Statement element")
        raw = []
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        out.error(None, "Statement", "Statement must be an object or a list of objects")
        raw = []
    statements: list[Statement] = []
    seen_sids: set[str] = set()
    for index, item in enumerate(raw):
        stmt = _parse_statement(item, index, str(version), kind, out)
        if stmt is None:
            continue
        if stmt.sid is not None and stmt.sid in seen_sids:
            out.error(stmt.label, "Sid", f"duplicate Sid {stmt.sid!r}: statement ids must be unique in a policy")
        if stmt.sid is not None:
            seen_sids.add(stmt.sid)
        statements.append(stmt)
    if any(f.severity == "error" for f in out.findings):
        return None, out.findings
    return Policy(name, tuple(statements), str(version), policy_id), out.findings


def _strings(value: Any, label: str, where: str, out: _Collector) -> tuple[str, ...] | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
        out.error(label, where, f"{where} must be a non-empty string or a non-empty list of strings")
        return None
    return tuple(items)


def _parse_statement(item: Any, index: int, version: str, kind: str, out: _Collector) -> Statement | None:
    if not isinstance(item, Mapping):
        out.error(f"#{index}", None, "a statement must be a JSON object")
        return None
    sid = item.get("Sid")
    label = sid if isinstance(sid, str) and sid else f"#{index}"
    before = len(out.findings)
    if sid is not None:
        if not isinstance(sid, str):
            out.error(label, "Sid", "Sid must be a string")
            sid = None
        elif kind == "identity" and not _SID.match(sid):
            out.error(label, "Sid", f"Sid {sid!r} must be alphanumeric (A-Z, a-z, 0-9) in identity policies")
    for key in item:
        if key not in STATEMENT_KEYS:
            out.error(label, str(key), f"unknown element {key!r}{_suggest(str(key), STATEMENT_KEYS)}")
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        out.error(label, "Effect", f"Effect must be Allow or Deny, not {effect!r}")
    actions = not_actions = resources = not_resources = None
    if ("Action" in item) == ("NotAction" in item):
        which = "both Action and NotAction" if "Action" in item else "neither Action nor NotAction"
        out.error(label, "Action", f"a statement needs exactly one of Action or NotAction, found {which}")
    for key in ("Action", "NotAction"):
        if key in item and (values := _strings(item[key], label, key, out)) is not None:
            for action in values:
                _check_action(action, label, key, out)
            actions, not_actions = (values, None) if key == "Action" else (None, values)
    has_resource = ("Resource" in item, "NotResource" in item)
    if all(has_resource):
        out.error(label, "Resource", "a statement cannot have both Resource and NotResource")
    elif not any(has_resource) and kind != "trust":
        out.error(label, "Resource", "a statement needs a Resource or NotResource element")
    for key in ("Resource", "NotResource"):
        if key in item and (values := _strings(item[key], label, key, out)) is not None:
            for resource in values:
                _check_resource(resource, label, key, version, out)
            resources, not_resources = (values, None) if key == "Resource" else (None, values)
    principal = _principal(item, "Principal", label, out)
    not_principal = _principal(item, "NotPrincipal", label, out)
    if kind == "identity" and (principal is not None or not_principal is not None):
        out.error(label, "Principal", "identity-based policies cannot name a Principal or NotPrincipal")
    if kind != "identity" and principal is None and not_principal is None:
        out.error(label, "Principal", f"a {kind} policy statement needs a Principal (or NotPrincipal)")
    if not_principal is not None and effect == "Allow":
        out.error(label, "NotPrincipal", "NotPrincipal may only be used with Effect Deny")
    conditions = _conditions(item.get("Condition"), label, version, out) if "Condition" in item else {}
    if any(f.severity == "error" for f in out.findings[before:]):
        return None
    return Statement(
        sid=sid,
        effect=str(effect),
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        conditions=conditions,
        principal=principal,
        not_principal=not_principal,
        index=index,
        variables=version == "2012-10-17",
    )


def _check_action(action: str, label: str, where: str, out: _Collector) -> None:
    if action == "*":
        return
    if not _ACTION.match(action):
        out.error(label, where, f"malformed action {action!r}: expected service:Action, e.g. s3:GetObject or s3:Get*")
        return
    service = action.split(":", 1)[0].lower()
    if not any(c in service for c in "*?") and service not in KNOWN_SERVICES:
        out.warn(label, where, f"unknown service prefix {service!r} in {action!r}")


def _check_resource(resource: str, label: str, where: str, version: str, out: _Collector) -> None:
    try:
        parse_template(resource, variables=version == "2012-10-17")
    except TemplateError as exc:
        out.error(label, where, str(exc))
        return
    if "${" in resource and version != "2012-10-17":
        out.warn(label, where, f"policy variables need Version 2012-10-17; {resource!r} is matched literally")
    if resource == "*":
        return
    pieces = resource.split(":", 5)
    if (
        pieces[0] == "arn"
        and 3 <= len(pieces) < 6
        and resource.endswith("*")
        and all(pieces[1:3])
        and "*" not in pieces[2]
    ):
        return  # a trailing * may span the remaining segments: arn:aws:states:us-east-1:*
    if len(pieces) != 6 or pieces[0] != "arn":
        out.error(label, where, f"malformed ARN {resource!r}: expected arn:partition:service:region:account:resource")
    elif not pieces[1] or not pieces[2] or not pieces[5]:
        out.error(label, where, f"malformed ARN {resource!r}: partition, service and resource must not be empty")
    elif any(c in pieces[2] for c in "*?"):
        out.error(label, where, f"ARN {resource!r}: wildcards are not allowed in the service segment")


def _principal(item: Mapping[str, Any], key: str, label: str, out: _Collector) -> dict[str, tuple[str, ...]] | None:
    if key not in item:
        return None
    value = item[key]
    if value == "*":
        return {"AWS": ("*",)}
    if not isinstance(value, Mapping) or not value:
        out.error(label, key, f'{key} must be "*" or an object such as {{"AWS": "arn:aws:iam::123456789012:root"}}')
        return None
    result: dict[str, tuple[str, ...]] = {}
    for ptype, ids in value.items():
        if ptype not in PRINCIPAL_TYPES:
            out.error(label, key, f"unknown principal type {ptype!r}{_suggest(str(ptype), PRINCIPAL_TYPES)}")
            continue
        parsed = _strings(ids, label, f"{key}.{ptype}", out)
        if parsed is not None:
            result[str(ptype)] = parsed
    return result


def _conditions(raw: Any, label: str, version: str, out: _Collector) -> dict[str, dict[str, tuple[str, ...]]]:
    if not isinstance(raw, Mapping) or not raw:
        out.error(label, "Condition", "Condition must be a non-empty object: {operator: {key: value(s)}}")
        return {}
    result: dict[str, dict[str, tuple[str, ...]]] = {}
    for operator, keys in raw.items():
        where = f"Condition.{operator}"
        if not isinstance(keys, Mapping) or not keys:
            out.error(label, where, "each condition operator needs an object of condition keys to values")
            continue
        block: dict[str, tuple[str, ...]] = {}
        for key, value in keys.items():
            items = value if isinstance(value, list) else [value]
            if not items or not all(isinstance(v, str | bool | int | float) for v in items):
                out.error(label, f"{where}.{key}", "condition values must be strings, numbers or booleans")
                continue
            block[str(key)] = tuple(_condition_text(v) for v in items)
        canonical, problems = validate_condition(str(operator), block, variables=version == "2012-10-17")
        for severity, key, message in problems:
            (out.error if severity == "error" else out.warn)(label, f"{where}.{key}" if key else where, message)
        if canonical is not None:
            result[canonical] = block
    return result


def _condition_text(value: str | bool | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
